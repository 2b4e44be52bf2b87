"""The data core: models, engine, migrations and the sync-ready write path.

Nothing here imports Qt or anything from ``desktop``; the import-linter
contracts in pyproject.toml keep it that way.
"""
