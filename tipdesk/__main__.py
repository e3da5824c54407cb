"""``python -m tipdesk``: the same as the ``tipdesk`` command."""

import sys

from tipdesk.cli import main

sys.exit(main())
