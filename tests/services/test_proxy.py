"""委托代办: agents, a proxy matter accepted through the counter, its steps
in order, the hand-over slip's refusal, the monthly ledger and roles — on
SQLite and PostgreSQL."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from db.clock import utcnow
from db.errors import PermissionDenied, ValidationError
from db.localtime import to_local, to_utc
from db.models import Matter, MatterEvent, ProxyCase
from desktop.services import accounts, counter, proxy, residents
from desktop.services.counter import MatterTypeView
from desktop.services.idnumbers import make_ric
from desktop.services.proxy import AgentForm, Original, ProxyForm
from desktop.services.residents import ResidentForm


@pytest.fixture
def desk(station):
    db, admin = station
    accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk12345")
    actor = accounts.authenticate(db, "desk1", "desk12345")
    rid = residents.register(
        db, actor, ResidentForm(name="王秀英", doc_number=make_ric("340304", date(1940, 3, 5), 22), phone="13812345678")
    )
    agent = proxy.save_agent(db, admin, AgentForm(name="陈代办", village_group="第三村民小组", phone="13900001111"))
    return db, admin, actor, rid, agent


@contextmanager
def says(exc, text):
    """Expect ``exc`` whose message for the desk contains ``text``."""
    with pytest.raises(exc) as e:
        yield
    assert text in e.value.user_message, e.value.user_message


def _type(db, name):
    return next(m for m in counter.catalogue(db) if m.name.startswith(name))


def _register(db, actor, rid, agent, originals=None, name="居住证申领"):
    t = _type(db, name)
    items = originals if originals is not None else [Original(m, 1) for m in t.required_materials]
    return proxy.register(db, actor, ProxyForm(agent, rid, t.id, items))


def _count(db, model):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_register_accepts_a_counter_matter_with_channel_proxy(desk):
    db, _, actor, rid, agent = desk
    t = _type(db, "居住证申领")
    extra = [Original(m, 2) for m in t.required_materials] + [Original("户口簿", 1)]  # not in the catalogue list
    reg = proxy.register(db, actor, ProxyForm(agent, rid, t.id, extra))
    d = counter.get(db, reg.matter_id)
    assert d.channel == "proxy" and d.status == "accepted" and d.receipt_no == reg.receipt_no
    assert d.materials == t.required_materials
    c = proxy.get(db, reg.case_id)
    assert c.row.step == "received" and c.row.agent_name == "陈代办" and c.row.village_group == "第三村民小组"
    assert [(o.name, o.count, o.returned) for o in c.originals][-1] == ("户口簿", 1, None)
    assert c.row.originals == 2 * len(t.required_materials) + 1
    assert [r.id for r in proxy.open_cases(db)] == [reg.case_id]


def test_a_refused_registration_saves_nothing(desk):
    db, admin, actor, rid, agent = desk
    t = _type(db, "居住证申领")
    before = (_count(db, Matter), _count(db, ProxyCase))
    with pytest.raises(counter.MissingMaterials):  # the counter's 一次性告知 rule applies to a proxy too
        proxy.register(db, actor, ProxyForm(agent, rid, t.id, []))
    with says(ValidationError, "份数"):
        proxy.register(db, actor, ProxyForm(agent, rid, t.id, [Original(t.required_materials[0], 0)]))
    proxy.save_agent(db, admin, AgentForm(name="陈代办", village_group="第三村民小组", active=False, id=agent))
    with says(ValidationError, "已停用"):
        _register(db, actor, rid, agent)
    with says(ValidationError, "代办员"):
        proxy.register(db, actor, ProxyForm(None, rid, t.id, []))
    assert (_count(db, Matter), _count(db, ProxyCase)) == before


def test_a_proxy_matter_never_exists_without_its_case(desk, monkeypatch):
    """代办 at the counter's 受理事项 is refused with a pointer to the 代办 page;
    and when writing the case fails, the matter it came with is not saved."""
    db, _, actor, rid, agent = desk
    t = _type(db, "居住证申领")
    with says(ValidationError, "代办"):
        counter.accept(db, actor, rid, t.id, t.required_materials, channel="proxy")
    assert "proxy" not in counter.DESK_CHANNELS and set(counter.DESK_CHANNELS) < set(counter.CHANNELS)
    before = (_count(db, Matter), _count(db, ProxyCase))

    def failing_record(s, action, *a, **kw):
        if action == "proxy_register":
            raise OSError(28, "No space left on device")
        return real_record(s, action, *a, **kw)

    real_record = proxy.audit.record
    monkeypatch.setattr(proxy.audit, "record", failing_record)
    with pytest.raises(OSError):
        _register(db, actor, rid, agent)
    assert (_count(db, Matter), _count(db, ProxyCase)) == before


def test_steps_happen_in_order(desk):
    db, _, actor, rid, agent = desk
    cid = _register(db, actor, rid, agent).case_id
    with says(ValidationError, "请先登记转交"):
        proxy.result_back(db, actor, cid, "已批准")
    with says(ValidationError, "请先登记转交"):
        proxy.hand_back(db, actor, cid, [True])
    with says(ValidationError, "转交到哪里"):
        proxy.forward(db, actor, cid, "  ")
    assert proxy.forward(db, actor, cid, "镇便民服务中心") == "forwarded"
    with says(ValidationError, "已经是“已转交”"):
        proxy.forward(db, actor, cid, "县政务服务中心")
    with says(ValidationError, "请先登记结果取回"):
        proxy.hand_back(db, actor, cid, [True])
    assert proxy.result_back(db, actor, cid, "居住证已制好，代办员领回") == "result"
    n = len(proxy.get(db, cid).originals)
    with says(ValidationError, "逐项确认"):
        proxy.hand_back(db, actor, cid, [True] * (n + 1))
    with says(ValidationError, "没有退还"):
        proxy.hand_back(db, actor, cid, [False] + [True] * (n - 1))
    assert proxy.hand_back(db, actor, cid, [False] + [True] * (n - 1), note="照片已由制证部门收存") == "handed_back"
    with says(ValidationError, "已经是“已交还居民”"):
        proxy.hand_back(db, actor, cid, [True] * n, note="x")
    d = proxy.get(db, cid)
    assert [o.returned for o in d.originals] == [False] + [True] * (n - 1)
    assert d.row.received_at <= d.row.forwarded_at <= d.row.result_at <= d.row.handed_back_at
    m = counter.get(db, d.row.matter_id)
    assert m.status == "done" and m.result == "居住证已制好，代办员领回"
    assert [e.kind for e in m.events] == ["accept", "transfer", "note", "close"]
    assert m.events[1].target == "镇便民服务中心"
    assert proxy.open_cases(db) == []


def test_step_times_are_checked(desk):
    db, _, actor, rid, agent = desk
    cid = _register(db, actor, rid, agent).case_id
    received = proxy.get(db, cid).row.received_at
    with says(ValidationError, "不能早于收件时间"):
        proxy.forward(db, actor, cid, "镇民政办", at=received - timedelta(hours=1))
    with says(ValidationError, "不能晚于现在"):
        proxy.forward(db, actor, cid, "镇民政办", at=utcnow() + timedelta(days=1))
    proxy.forward(db, actor, cid, "镇民政办")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(MatterEvent).where(MatterEvent.kind == "transfer")) == 1


def test_a_matter_closed_at_the_counter_cannot_be_forwarded(desk):
    db, _, actor, rid, agent = desk
    reg = _register(db, actor, rid, agent)
    counter.transition(db, actor, reg.matter_id, "return", note="居民撤回申请")
    with says(ValidationError, "已退回"):
        proxy.forward(db, actor, reg.case_id, "镇便民服务中心")
    assert proxy.get(db, reg.case_id).row.step == "received"


def test_the_hand_over_slip_needs_originals(desk):
    db, admin, actor, rid, agent = desk
    with_originals = _register(db, actor, rid, agent).case_id
    assert proxy.slip_data(db, with_originals).originals
    # a station's own entry that needs no paper (the resident's payment is handed over, no originals)
    tid = counter.save_matter_type(db, admin, MatterTypeView(None, "", "代缴城乡居民医保费", "医保", "proxy", 5))
    bare = proxy.register(db, actor, ProxyForm(agent, rid, tid, [])).case_id
    with pytest.raises(proxy.NoOriginals) as e:
        proxy.slip_data(db, bare)
    assert "没有登记收取任何原件" in e.value.user_message


def test_monthly_ledger_counts_registered_handled_replied(desk):
    db, _, actor, rid, agent = desk
    a = _register(db, actor, rid, agent).case_id
    b = _register(db, actor, rid, agent).case_id
    _register(db, actor, rid, agent)
    for cid in (a, b):
        proxy.forward(db, actor, cid, "镇便民服务中心")
        proxy.result_back(db, actor, cid, "已办好")
    n = len(proxy.get(db, a).originals)
    proxy.hand_back(db, actor, a, [True] * n)
    today = date.today()
    start, end = proxy.month_range(today.year, today.month)
    led = proxy.ledger(db, start, end)
    assert (led.registered, led.handled, led.replied) == (3, 2, 1)
    assert [(r.agent_name, r.registered, r.handled, r.replied) for r in led.by_agent] == [("陈代办", 3, 2, 1)]
    # the drill-down lists exactly the records behind each figure
    assert {r.id for r in proxy.cases(db, "handled", start, end)} == {a, b}
    assert [r.id for r in proxy.cases(db, "replied", start, end, agent_id=agent)] == [a]
    for key in proxy.FIGURES:
        assert len(proxy.cases(db, key, start, end)) == led.figure(key)
    # another month, another station: nothing
    prev = proxy.month_range(*(lambda d: (d.year, d.month))(start - timedelta(days=1)))
    assert proxy.ledger(db, *prev).registered == 0
    assert proxy.ledger(db, start, end, origins=("999999999",)).registered == 0
    assert proxy.ledger(db, start, end, origins=proxy.own_station(db)).registered == 3


def test_ledger_months_follow_local_midnight(desk):
    """A case received at 00:30 local time on the 1st (the previous day in
    UTC) counts in the new month."""
    db, _, actor, rid, agent = desk
    cid = _register(db, actor, rid, agent).case_id
    first = date.today().replace(day=1)
    at = to_utc(datetime.combine(first, datetime.min.time()) + timedelta(minutes=30))
    with db.session() as s:
        s.get(ProxyCase, cid).received_at = at
    start, end = proxy.month_range(first.year, first.month)
    assert proxy.ledger(db, start, end).registered == 1
    prev = first - timedelta(days=1)
    assert proxy.ledger(db, *proxy.month_range(prev.year, prev.month)).registered == 0


def test_roles(desk):
    db, admin, actor, rid, agent = desk
    with pytest.raises(PermissionDenied):
        proxy.save_agent(db, actor, AgentForm(name="赵六", village_group="第一村民小组"))
    cid = _register(db, actor, rid, agent).case_id  # a desk worker registers and steps
    proxy.forward(db, actor, cid, "镇便民服务中心")
    nobody = replace(actor, role="none")  # an account without a role the services know
    for call in (lambda: _register(db, nobody, rid, agent), lambda: proxy.result_back(db, nobody, cid, "已办好")):
        with pytest.raises(PermissionDenied):
            call()
    assert proxy.get(db, cid).row.step == "forwarded"


def test_agent_form_is_checked(desk):
    db, admin, _, _, agent = desk
    with says(ValidationError, "村民小组"):
        proxy.save_agent(db, admin, AgentForm(name="赵六", village_group=" "))
    with says(ValidationError, "7 到 13 位"):
        proxy.save_agent(db, admin, AgentForm(name="赵六", village_group="第一村民小组", phone="12ab"))
    with says(ValidationError, "已经有一位"):
        proxy.save_agent(db, admin, AgentForm(name="陈代办", village_group="第三村民小组"))
    proxy.save_agent(db, admin, AgentForm(name="陈代办", village_group="第三村民小组", phone="0552-1234567", id=agent))
    assert [(a.name, a.phone, a.active) for a in proxy.agents(db)] == [("陈代办", "0552-1234567", True)]


@pytest.mark.slow
def test_demo_station_has_agents_and_a_month_of_proxy_matters(sqlite_db):
    from desktop.services import demo

    demo.create_demo_station(sqlite_db, n_residents=2000, seed=7)
    db = sqlite_db
    agents = proxy.agents(db)
    assert len(agents) >= 6 and any(not a.active for a in agents)
    assert {a.village_group for a in agents} >= {"第一网格", "第六网格"}
    everything = proxy.recent_cases(db, days=40)
    steps = {c.step for c in everything}
    assert len(everything) >= 40 and steps == set(proxy.ORDER)  # matters at every step
    with db.session() as s:
        receipts = list(s.scalars(select(Matter.receipt_no)))
        assert len(receipts) == len(set(receipts))
    for c in everything:  # each step after the one before, the counter matter in step with it
        times = [t for t in (c.received_at, c.forwarded_at, c.result_at, c.handed_back_at) if t is not None]
        assert times == sorted(times) and len(times) == proxy.ORDER.index(c.step) + 1
        assert all(8 <= to_local(t).hour < 18 for t in times)  # in office hours, not at 3 a.m.
        m = counter.get(db, c.matter_id)
        assert m.channel == "proxy" and (m.status == "done") == (c.step == "handed_back")
    today = date.today()
    led = proxy.ledger(db, *proxy.month_range(today.year, today.month))
    assert led.registered > 0


@pytest.mark.slow
def test_demo_proxy_shows_every_step_whatever_day_it_is_made(sqlite_db):
    """The demo is made on whatever day a newcomer runs it: a Saturday or
    the day after a holiday must still show a case at every step."""
    from desktop.services import demo
    from desktop.services.demo.proxy import fill_proxy

    demo.create_demo_station(sqlite_db, n_residents=400, seed=3)
    start = date.today()
    for k in range(14):
        made = fill_proxy(sqlite_db, seed=k, today=start - timedelta(days=k))
        assert made["cases"] > 0, k
        assert all(made[step] > 0 for step in proxy.ORDER), (k, sorted(made.items()))


def test_groups_sort_by_their_number():
    names = ["第十一村民小组", "第二网格", "第一网格", "东片", "第10组", "第二十三村民小组", "第三网格"]
    assert sorted(names, key=proxy.group_key) == [
        "第一网格",
        "第二网格",
        "第三网格",
        "第10组",
        "第十一村民小组",
        "第二十三村民小组",
        "东片",
    ]


def test_the_agent_of_the_residents_group_is_suggested(desk):
    db, admin, actor, rid, agent = desk
    other = proxy.save_agent(db, admin, AgentForm(name="周代办", village_group="第一网格"))
    assert proxy.agent_for(db, rid) is None  # no group or grid on record
    residents.update(db, admin, rid, ResidentForm(name="王秀英", doc_number="", grid="第一网格"))
    assert proxy.agent_for(db, rid) == other
    residents.update(
        db, admin, rid, ResidentForm(name="王秀英", doc_number="", grid="第一网格", village_group="第三村民小组")
    )
    assert proxy.agent_for(db, rid) == agent  # the village group first
    proxy.save_agent(db, admin, AgentForm(name="陈代办", village_group="第三村民小组", active=False, id=agent))
    assert proxy.agent_for(db, rid) == other
