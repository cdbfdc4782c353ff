"""Maintenance: backup and restore, doctor, encryption, the demo and `where`; the
one place that replaces the live database file (replacement)."""
