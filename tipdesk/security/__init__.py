"""Accounts, roles and permissions, the audit chain."""
