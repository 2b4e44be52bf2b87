"""Use cases over a database session. Plain Python: no Qt here."""
