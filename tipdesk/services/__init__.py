"""Domain services: every read and write of cases, placements and follow-up goes through here.

Each public function takes an open ``Register`` (which knows the acting user), checks the
user's permission, validates, writes audit events, and runs in one transaction.
"""
