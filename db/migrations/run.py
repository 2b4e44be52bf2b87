"""Programmatic alembic: no alembic.ini, the scripts ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

HERE = Path(__file__).resolve().parent


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(config()).walk_revisions()}


def head() -> str:
    heads = ScriptDirectory.from_config(config()).get_heads()
    assert len(heads) == 1, heads
    return heads[0]


def upgrade(engine: Engine, target: str = "head") -> None:
    with engine.begin() as conn:
        command.upgrade(config(conn), target)
