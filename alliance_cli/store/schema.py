"""The schema revision this code expects, readable without importing Alembic.

A test checks that it equals the head of `store/migrations/versions`.
"""

SCHEMA_HEAD = "0009"
