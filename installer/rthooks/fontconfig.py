"""PyInstaller runtime hook (Linux): point fontconfig at the bundle's fonts.conf before Qt loads.

That file includes the system's configuration when there is one and adds the fonts shipped in
the bundle, so text renders on machines with no fonts or no /etc/fonts. A FONTCONFIG_FILE set by
the user wins.
"""

import os
import sys

if sys.platform.startswith("linux") and not os.environ.get("FONTCONFIG_FILE"):
    _conf = os.path.join(getattr(sys, "_MEIPASS", ""), "fontconfig", "fonts.conf")
    if os.path.isfile(_conf):
        os.environ["FONTCONFIG_FILE"] = _conf
