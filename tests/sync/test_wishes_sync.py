"""微心愿, their claims and 在职党员 report-ins travel station → hub → station
(a later fulfilment as a change; a rebuilt station gets them back; another
station never sees them), and no station can rewrite another's — on SQLite
and PostgreSQL (the hub runs on the engine under test)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from db import clock
from db.models import PartyReport, Wish, WishClaim
from desktop.services import residents, volunteers as vol, wishes
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.sync import exchange
from desktop.services.sync.sealed import BundleError
from desktop.services.volunteers import VolunteerForm
from tests.sync.conftest import make_side, star, trust_both
from tests.sync.helpers import forge, full_state, row_as_sent

DAY = date(2026, 11, 23)


@pytest.fixture
def three(db_url, tmp_path):
    hub, a, b = star(db_url, tmp_path)
    elder = residents.register(
        a.db, a.admin, ResidentForm(name="欧阳秀英", doc_number=make_ric("340304", date(1940, 2, 2), 22), grid="一网格")
    )
    member, _ = vol.register(
        a.db,
        a.admin,
        VolunteerForm(
            name="刘建国",
            doc_number=make_ric("340304", date(1980, 5, 6), 31),
            phone="13900000001",
            skills=["shopping"],
            availability=["3am"],
            data_consent=True,
            party_member=True,
            yearly_target_hours=20,
        ),
        today=DAY,
    )
    w1, _ = wishes.add_wish(a.db, a.admin, elder, "一台助听器", 280, today=DAY)
    w2, _ = wishes.add_wish(a.db, a.admin, elder, "一床冬被", 150, today=DAY)
    wishes.claim(a.db, a.admin, w1, volunteer_id=member, today=DAY)
    wishes.claim(a.db, a.admin, w2, unit="市财政局机关党支部", contact="0552-1234567", today=DAY)
    wishes.fulfil(a.db, a.admin, w2, "送去冬被", today=DAY)
    report = wishes.report_in(a.db, a.admin, member, "市财政局", date(2026, 3, 2), ["政策宣传"], today=DAY)
    yield hub, a, b, (w1, w2, report)
    for side in (a, b, hub):
        side.db.close()


def _wishes(side) -> list[tuple]:
    return sorted((w.number, w.status, w.sponsor_name, w.fulfilled_on, w.given) for w in wishes.list_wishes(side.db))


def _members(side) -> list[tuple]:
    return [(m.name, m.unit, m.reported_on, m.posts) for m in wishes.members(side.db, 2026, today=DAY)]


def _count(side, model) -> int:
    with side.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_wishes_claims_and_report_ins_travel(three, tmp_path):
    hub, a, b, (w1, _w2, _report) = three
    res = a.send(hub, full=True)
    assert res.counts["wishes"]["new"] == 2 and res.counts["wish_claims"]["new"] == 2
    assert res.counts["party_reports"]["new"] == 1
    assert _wishes(hub) == _wishes(a) and _members(hub) == _members(a) == [
        ("刘建国", "市财政局", date(2026, 3, 2), ["政策宣传"])
    ]
    # the fulfilment of the claimed wish travels as a change
    wishes.fulfil(a.db, a.admin, w1, "送去助听器一台", today=DAY)
    a.send(hub)
    assert ("340304001-W0001", "fulfilled", "刘建国", DAY, "送去助听器一台") in _wishes(hub)
    assert _wishes(hub) == _wishes(a)
    # another station is not sent them
    b.send(hub, full=True)
    hub.send(b, full=True)
    assert _count(b, Wish) == _count(b, WishClaim) == _count(b, PartyReport) == 0
    # a new PC for the station gets them back from the hub
    new = make_side(str(tmp_path / "new" / "s.sqlite3"), "340304001", "幸福里社区", "community", tmp_path / "new")
    try:
        trust_both(new, hub)
        hub.send(new, full=True)
        assert _wishes(new) == _wishes(a) and _members(new) == _members(a)
        # and numbers the next wish after its own
        with new.db.session() as s:
            elder = s.scalar(select(Wish.resident_id))
        assert wishes.add_wish(new.db, new.admin, elder, "一套书", 60, today=DAY)[1] == "340304001-W0003"
    finally:
        new.db.close()


def _refused(side, path) -> BundleError:
    before = full_state(side.db)
    with pytest.raises(BundleError) as e:
        exchange.import_bundle(side.db, side.admin, path)
    assert e.value.code == "not_authorised", e.value
    assert full_state(side.db) == before
    return e.value


def test_a_station_cannot_rewrite_another_stations_wish_claim_or_report_in(three, tmp_path):
    hub, a, b, (w1, w2, report) = three
    a.send(hub, full=True)
    b.send(hub, full=True)
    now = clock.next_stamp(0)
    with a.db.session() as s:
        claim = s.scalar(select(WishClaim.id).where(WishClaim.wish_id == w2))
    forged = {
        "wishes": row_as_sent(a, Wish, w1, status="open", hlc=now, field_clocks={"status": now}),
        "wish_claims": row_as_sent(
            a, WishClaim, claim, sponsor_name="冒名单位", hlc=now, field_clocks={"sponsor_name": now}
        ),
        "party_reports": row_as_sent(a, PartyReport, report, unit="别的单位", hlc=now, field_clocks={"unit": now}),
    }
    for table, row in forged.items():
        err = _refused(hub, forge(b, hub, tmp_path / f"b-{table}.sdbundle", {table: [row]}))
        assert b.code in err.user_message and a.code in err.user_message
    assert _wishes(hub) == _wishes(a) and _members(hub) == _members(a)
