"""Two set-up databases that trust each other: a community station (SQLite)
and its street hub (on the engine under test: SQLite, and PostgreSQL when
STATION_DESK_TEST_PG is set)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from db.engine import Database
from desktop.services import accounts
from desktop.services.context import Actor
from desktop.services.sync import exchange
from tests.templates import fresh


@dataclass
class Side:
    db: Database
    admin: Actor
    code: str
    folder: Path

    def export_to(self, other: "Side", full: bool = False, name: str | None = None):
        self.n = getattr(self, "n", 0) + 1
        out = self.folder / (name or f"{self.n:03d}-" + exchange.default_bundle_name(self.db, other.code, full))
        return exchange.export_bundle(self.db, self.admin, other.code, out, full=full)

    def send(self, other: "Side", full: bool = False):
        """Export to ``other`` and import there; the import result."""
        r = self.export_to(other, full=full)
        return exchange.import_bundle(other.db, other.admin, r.path)


def make_side(url: str, code: str, name: str, level: str, folder: Path) -> Side:
    db = fresh(url)
    admin = accounts.setup_station(
        db, code=code, name=name, level=level, admin_username="admin", admin_password="admin123"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return Side(db, admin, code, folder)


def trust_both(a: Side, b: Side) -> None:
    exchange.trust_peer(a.db, a.admin, exchange.station_keys(b.db).peer)
    exchange.trust_peer(b.db, b.admin, exchange.station_keys(a.db).peer)


def star(db_url: str, tmp_path: Path) -> tuple[Side, Side, Side]:
    """(hub, 幸福里, 春晖): a hub on the engine under test and two SQLite
    stations, each trusting the hub.  The caller closes them."""
    hub = make_side(db_url, "340304000", "东风街道", "street", tmp_path / "hub")
    a = make_side(str(tmp_path / "a" / "a.sqlite3"), "340304001", "幸福里社区", "community", tmp_path / "a")
    b = make_side(str(tmp_path / "b" / "b.sqlite3"), "340304002", "春晖社区", "community", tmp_path / "b")
    trust_both(a, hub)
    trust_both(b, hub)
    return hub, a, b


def local_matter_type(side: Side, name: str):
    """A matter type the station added itself (``local``); its id."""
    from db.models import MatterType

    with side.db.session() as s:
        t = MatterType(
            code="BD-01",
            name=name,
            category="其他",
            mode="direct",
            promised_days=1,
            materials=[],
            local=True,
            sort=1000,
        )
        s.add(t)
        s.flush()
        return t.id


@pytest.fixture
def pair(db_url, tmp_path):
    """(station, hub) trusting each other."""
    station = make_side(
        str(tmp_path / "st" / "station.sqlite3"), "340304001", "幸福里社区", "community", tmp_path / "st"
    )
    hub = make_side(db_url, "340304000", "东风街道", "street", tmp_path / "hub")
    trust_both(station, hub)
    yield station, hub
    station.db.close()
    hub.db.close()
