"""The 准入 lists, departments' requests and postings travel: requests and
postings go station → hub → (back to) the station; the hub's list entries
(its file's and its own supplements) flow down to every station while a
station's own entry stays between it and the hub; and a station cannot
write another station's records nor the hub's
list entries — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db import clock
from db.models import DeptRequest, Posting, WorkItem
from desktop.services import postings, workitems
from tests.sync.conftest import star
from tests.sync.helpers import forge, full_state, row_as_sent


@pytest.fixture
def three(db_url, tmp_path):
    hub, a, b = star(db_url, tmp_path)
    for side in (hub, a, b):
        workitems.ensure_catalogue(side.db)
    yield hub, a, b
    for side in (a, b, hub):
        side.db.close()


def _ids(side, model):
    with side.db.session() as s:
        return set(s.scalars(select(model.id).where(model.deleted.is_(False))))


def test_requests_and_postings_travel_and_the_lists_flow_down(three):
    hub, a, b = three
    neg = workitems.search(workitems.catalogue(a.db), "拆违")[0]
    req = workitems.record_request(
        a.db, a.admin, department="区城市管理局", content="拆违", item_id=neg.id, received_on=postings.today()
    )
    pid = postings.create(
        a.db, a.admin, title="低保公示", body="x", category="affairs", on_date=postings.today(), period_days=7
    )
    own = workitems.save_item(a.db, a.admin, None, kind="negative", name="代收快递", basis="本社区居民会议决定")
    a.send(hub, full=True)
    b.send(hub, full=True)
    assert req.id in _ids(hub, DeptRequest) and pid in _ids(hub, Posting) and own in _ids(hub, WorkItem)
    # the hub's figures see A's request; the hub edits its own copy of a shared entry and adds a supplement
    assert workitems.monitoring(hub.db, postings.today(), postings.today()).by_kind["negative"] == 1
    with hub.db.session() as s:
        s.get(WorkItem, neg.id).basis = "街道转发的新依据"
    sup = workitems.save_item(
        hub.db, hub.admin, None, kind="negative", name="街道补充：代收物业费", basis="东风街道减负十条第5条"
    )
    hub_item = next(t for t in workitems.catalogue(hub.db) if t.id == sup)
    assert hub_item.supplement and not hub_item.local and hub_item.origin_label == "街道补充"
    # a posting edited at the hub (it went up) comes back to A
    postings.mark_up(hub.db, hub.admin, pid)
    hub.send(a)
    hub.send(b)
    with a.db.session() as s:
        assert s.get(WorkItem, neg.id).basis == "街道转发的新依据"
        assert s.get(Posting, pid).posted_at is not None
    for side in (a, b):
        assert sup in {t.id for t in workitems.catalogue(side.db)}  # the supplement reached both stations
    assert own not in _ids(b, WorkItem)  # A's own entry stays between A and the hub
    assert req.id not in _ids(b, DeptRequest) and pid not in _ids(b, Posting)
    # a station can decline with the hub's supplement
    r = workitems.record_request(
        b.db, b.admin, department="某物业公司", content="代收物业费", item_id=sup, received_on=postings.today()
    )
    assert r.outcome == "declined" and "减负十条" in r.basis


def _refused(side, path):
    from desktop.services.sync import exchange
    from desktop.services.sync.sealed import BundleError

    before = full_state(side.db)
    with pytest.raises(BundleError) as e:
        exchange.import_bundle(side.db, side.admin, path)
    assert e.value.code == "not_authorised"
    assert full_state(side.db) == before


def test_a_station_cannot_write_another_stations_postings_or_the_hubs_lists(three, tmp_path):
    hub, a, b = three
    pid = postings.create(a.db, a.admin, title="财务公开", body="x", category="finance", on_date=postings.today())
    a.send(hub, full=True)
    b.send(hub, full=True)
    now = clock.next_stamp(0)
    row = row_as_sent(a, Posting, pid, title="被改掉的公示", hlc=now, field_clocks={"title": now})
    _refused(hub, forge(b, hub, tmp_path / "b-edits-a.sdbundle", {"postings": [row]}))
    with hub.db.session() as s:
        assert s.get(Posting, pid).title == "财务公开"
    sup = workitems.save_item(hub.db, hub.admin, None, kind="negative", name="街道补充", basis="x")
    hub.send(b)
    row = row_as_sent(
        b, WorkItem, sup, basis="改成我的", hlc=clock.next_stamp(0), field_clocks={"basis": clock.next_stamp(0)}
    )
    from desktop.services.sync import exchange

    # a catalogue entry from below is left as the hub has it (as for every catalogue)
    exchange.import_bundle(hub.db, hub.admin, forge(b, hub, tmp_path / "b-edits-hub.sdbundle", {"work_items": [row]}))
    with hub.db.session() as s:
        assert s.get(WorkItem, sup).basis == "x"
