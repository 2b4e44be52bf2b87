"""The rota travels: station A's A/B pairs, shifts and absences (and the
hand-over events on its matters) reach the hub and, station to station, B;
B does not show them as its own rota; and B cannot change A's rota — a
bundle that tries is refused whole with the hub exactly as it was."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from db import clock
from db.models import Absence, MatterEvent, ServiceArea, Shift
from desktop.services import accounts, counter, residents, rota
from desktop.services.idnumbers import make_ric
from desktop.services.residents import ResidentForm
from desktop.services.rota import AreaView, ShiftForm
from desktop.services.sync import exchange
from desktop.services.sync.sealed import BundleError
from tests.sync.conftest import star, trust_both
from tests.sync.helpers import forge, full_state, row_as_sent

MONDAY = date(2026, 11, 23)


@pytest.fixture
def three(db_url, tmp_path):
    hub, a, b = star(db_url, tmp_path)
    yield hub, a, b
    for side in (a, b, hub):
        side.db.close()


def _rows(side, model, origin):
    with side.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.origin == origin))


def test_rota_reaches_the_hub_and_the_other_station_and_only_its_owner_changes_it(three, tmp_path):
    hub, a, b = three
    people = {}
    for user, name in (("a1", "张敏"), ("b1", "刘洋")):
        accounts.create_account(a.db, a.admin, username=user, display_name=name, role="desk", password="pass12345")
        people[user] = accounts.authenticate(a.db, user, "pass12345")
    za, lb = people["a1"], people["b1"]
    rota.save_area(a.db, a.admin, AreaView(None, "社会救助", "1号窗口", ["社会救助"], za.account_id, lb.account_id))
    shift = rota.save_shift(
        a.db, a.admin, ShiftForm(za.account_id, "1号窗口", MONDAY, time(13, 30), time(19, 30), "extended")
    )
    rid = residents.register(
        a.db, a.admin, ResidentForm(name="王秀英", doc_number=make_ric("340304", date(1940, 3, 5), 22))
    )
    t = next(m for m in counter.catalogue(a.db) if m.category == "社会救助" and m.mode != "inform")
    mid = counter.accept(a.db, za, rid, t.id, t.required_materials).matter_id
    now = datetime.now()
    rota.mark_away(a.db, a.admin, za.account_id, "training", now - timedelta(hours=1), now + timedelta(hours=5))

    a.send(hub, full=True)
    for model in (ServiceArea, Shift, Absence):
        assert _rows(hub, model, a.code) == 1
    with hub.db.session() as s:
        assert (
            s.scalar(select(MatterEvent.target).where(MatterEvent.matter_id == mid, MatterEvent.kind == "cover"))
            == "刘洋"
        )
        assert s.get(Shift, shift).window == "1号窗口"
    # the hub's report figures see A's rota
    assert [x.hours for x in rota.outside_hours(hub.db, MONDAY, MONDAY, (a.code,))] == [2.0]
    assert [x.matter_id for x in rota.cover_matters(hub.db, now.date(), now.date(), (a.code,))] == [mid]

    trust_both(a, b)
    a.send(b)
    for model in (ServiceArea, Shift, Absence):
        assert _rows(b, model, a.code) == 1
    # at B it is A's rota, not B's
    assert rota.shifts(b.db, MONDAY, MONDAY) == [] and rota.areas(b.db) == []
    assert rota.cover_rows(b.db, lb.account_id) == []

    # B signs a bundle that moves A's shift to another window: refused whole
    stamp = clock.next_stamp(0)
    row = row_as_sent(b, Shift, shift, window="9号窗口", hlc=stamp, field_clocks={"window": stamp})
    bad = forge(b, hub, tmp_path / "b-edits-a-rota.sdbundle", {"duty_shifts": [row]})
    before = full_state(hub.db)
    with pytest.raises(BundleError) as e:
        exchange.import_bundle(hub.db, hub.admin, bad)
    assert e.value.code == "not_authorised" and "“值班班次”" in e.value.user_message
    assert full_state(hub.db) == before
    # nor may B cancel A's absence
    with a.db.session() as s:
        absence_id = s.scalar(select(Absence.id))
    row = row_as_sent(b, Absence, absence_id, deleted=True, hlc=stamp, field_clocks={"deleted": stamp})
    with pytest.raises(BundleError) as e:
        exchange.import_bundle(
            hub.db, hub.admin, forge(b, hub, tmp_path / "b-cancels.sdbundle", {"duty_absences": [row]})
        )
    assert e.value.code == "not_authorised" and "“离岗登记”" in e.value.user_message
    assert full_state(hub.db) == before
