"""Encrypted storage: SQLCipher registers, keyslots, recovery key, migrations, backups."""
