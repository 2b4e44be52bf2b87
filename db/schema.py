"""The schema revision this program writes.

Kept as a constant so opening an up-to-date database does not import alembic
(which costs a few hundred milliseconds at start-up).  A test checks it equals
the head of ``db/migrations/versions``.
"""

SCHEMA_HEAD = "0014_open_matters_closed_at"
