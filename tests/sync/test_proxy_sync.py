"""The 代办 register travels: agents and proxy records made at station A
reach the hub and station B, later steps follow them, and no other station
may write A's records (the bundle is refused whole) — hub on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from db import clock
from db.models import ProxyAgent, ProxyCase
from desktop.services import counter, proxy, residents
from desktop.services.idnumbers import make_ric
from desktop.services.proxy import AgentForm, Original, ProxyForm
from desktop.services.residents import ResidentForm
from desktop.services.sync import exchange
from desktop.services.sync.sealed import BundleError
from tests.sync.conftest import star, trust_both
from tests.sync.helpers import forge, full_state, row_as_sent


@pytest.fixture
def three(db_url, tmp_path):
    hub, a, b = star(db_url, tmp_path)
    trust_both(a, b)
    yield hub, a, b
    for side in (a, b, hub):
        side.db.close()


def _case(side, cid):
    with side.db.session() as s:
        c = s.get(ProxyCase, cid)
        return None if c is None else (c.step, c.forwarded_to, c.result, c.agent_name, c.origin)


def test_proxy_records_reach_the_hub_and_the_other_station(three):
    hub, a, b = three
    rid = residents.register(
        a.db, a.admin, ResidentForm(name="王秀英", doc_number=make_ric("340304", date(1940, 3, 5), 22))
    )
    agent = proxy.save_agent(a.db, a.admin, AgentForm(name="陈国强", village_group="第三村民小组", phone="13900001111"))
    t = next(m for m in counter.catalogue(a.db) if m.name.startswith("居住证申领"))
    reg = proxy.register(a.db, a.admin, ProxyForm(agent, rid, t.id, [Original(x, 1) for x in t.required_materials]))
    proxy.forward(a.db, a.admin, reg.case_id, "街道便民服务中心")
    assert a.send(hub, full=True).counts["proxy_cases"]["new"] == 1
    assert a.send(b, full=True).counts["proxy_agents"]["new"] == 1
    for side in (hub, b):
        assert _case(side, reg.case_id) == ("forwarded", "街道便民服务中心", None, "陈国强", a.code)
        with side.db.session() as s:
            assert s.get(ProxyAgent, agent).village_group == "第三村民小组"
        assert counter.get(side.db, reg.matter_id).status == "transferred"
    # the next steps follow
    proxy.result_back(a.db, a.admin, reg.case_id, "居住证已制好")
    proxy.save_agent(
        a.db, a.admin, AgentForm(name="陈国强", village_group="第三村民小组", phone="13900002222", id=agent)
    )
    assert a.send(hub).counts["proxy_cases"]["updated"] == 1
    a.send(b)
    for side in (hub, b):
        assert _case(side, reg.case_id)[:3] == ("result", "街道便民服务中心", "居住证已制好")
        with side.db.session() as s:
            assert s.get(ProxyAgent, agent).phone == "13900002222"
    # the hub's monthly ledger for A counts A's records
    today = date.today()
    led = proxy.ledger(hub.db, *proxy.month_range(today.year, today.month), origins=(a.code,))
    assert (led.registered, led.handled, led.replied) == (1, 1, 0)


def _refused(side, path):
    before = full_state(side.db)
    with pytest.raises(BundleError) as e:
        exchange.import_bundle(side.db, side.admin, path)
    assert e.value.code == "not_authorised", e.value
    assert full_state(side.db) == before
    return e.value


def test_a_station_cannot_write_another_stations_proxy_records(three, tmp_path):
    hub, a, b = three
    rid = residents.register(
        a.db, a.admin, ResidentForm(name="王秀英", doc_number=make_ric("340304", date(1940, 3, 5), 22))
    )
    agent = proxy.save_agent(a.db, a.admin, AgentForm(name="陈国强", village_group="第三村民小组"))
    t = next(m for m in counter.catalogue(a.db) if m.name.startswith("居住证申领"))
    reg = proxy.register(a.db, a.admin, ProxyForm(agent, rid, t.id, [Original(x, 1) for x in t.required_materials]))
    a.send(hub, full=True)
    a.send(b, full=True)
    b.send(hub, full=True)
    now = clock.next_stamp(0)
    # B claims A's matter was handed back, and renames A's agent
    row = row_as_sent(b, ProxyCase, reg.case_id, step="handed_back", hlc=now, field_clocks={"step": now})
    err = _refused(hub, forge(b, hub, tmp_path / "b-steps-a.sdbundle", {"proxy_cases": [row]}))
    assert "“代办登记”" in err.user_message and a.code in err.user_message
    row = row_as_sent(b, ProxyAgent, agent, name="李鬼", hlc=now, field_clocks={"name": now})
    assert (
        "“代办员”"
        in _refused(hub, forge(b, hub, tmp_path / "b-renames.sdbundle", {"proxy_agents": [row]})).user_message
    )
    _refused(a, forge(b, a, tmp_path / "b-to-a.sdbundle", {"proxy_agents": [row]}))
    assert _case(hub, reg.case_id)[0] == "received" and _case(a, reg.case_id)[0] == "received"
