"""A station made before sync opens with its shipped catalogue re-keyed to
the shared ids (references follow) and its own skills renamed."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import create_engine, insert, select, text

from db.clock import shared_id
from db.engine import open_database
from db.migrations import run
from db.models import CalendarDay, Matter, MatterType, Resident, Skill, Station, Volunteer


def _sync(**kw):
    return {"origin": "340304001", "hlc": 1, "seq": kw.pop("seq", 1), "deleted": False, "field_clocks": {}, **kw}


def test_old_station_catalogue_gets_shared_ids(tmp_path):
    path = tmp_path / "old.sqlite3"
    eng = create_engine(f"sqlite:///{path}")
    run.upgrade(eng, "0005_report_indexes")
    mt, local_mt, res, sk, own_sk, vol, day = (uuid.uuid4() for _ in range(7))
    with eng.begin() as c:
        c.execute(text("UPDATE local_state SET station_code = '340304001'"))
        c.execute(
            insert(Station.__table__).values(
                **_sync(id=uuid.uuid4(), code="340304001", name="幸福里社区", level="community")
            )
        )
        c.execute(
            insert(MatterType.__table__),
            [
                _sync(
                    id=mt,
                    code="M01",
                    name="居住证",
                    category="户籍",
                    mode="direct",
                    promised_days=5,
                    materials=[],
                    active=True,
                    local=False,
                    sort=0,
                ),
                _sync(
                    id=local_mt,
                    code="BD-01",
                    name="本站事项",
                    category="其他",
                    mode="direct",
                    promised_days=1,
                    materials=[],
                    active=True,
                    local=True,
                    sort=1000,
                ),
            ],
        )
        c.execute(
            insert(Resident.__table__).values(
                **_sync(
                    id=res,
                    name="张三",
                    pinyin="",
                    initials="",
                    gender=1,
                    doc_type="ric",
                    residency="registered",
                    moved_out=False,
                    deceased=False,
                )
            )
        )
        c.execute(
            insert(Matter.__table__).values(
                **_sync(
                    id=uuid.uuid4(),
                    receipt_no="340304001-20261101-0001",
                    resident_id=res,
                    matter_type_id=mt,
                    matter_name="居住证",
                    category="户籍",
                    channel="window",
                    status="accepted",
                    accepted_at=datetime(2026, 11, 1, 9),
                    promised_date=date(2026, 11, 8),
                    handler_name="前台",
                    accepted_by="前台",
                    materials=[],
                )
            )
        )
        c.execute(
            insert(Skill.__table__),
            [
                _sync(id=sk, code="S01", name="陪诊", active=True),
                _sync(id=own_sk, code="local1", name="书法", active=True),
            ],
        )
        c.execute(
            insert(Volunteer.__table__).values(
                **_sync(
                    id=vol,
                    number="340304001-V0001",
                    name="李四",
                    gender=1,
                    skills=["S01", "local1"],
                    availability=[],
                    unavailable_dates=[],
                    weekly_hour_limit=6.0,
                    party_member=False,
                    yearly_target_hours=0.0,
                    guardian_consent=False,
                    status="active",
                    registered_on=date(2026, 1, 1),
                )
            )
        )
        c.execute(
            insert(CalendarDay.__table__).values(**_sync(id=day, day=date(2026, 10, 1), kind="holiday", name="国庆节"))
        )
    eng.dispose()
    db = open_database(path)
    try:
        with db.session() as s:
            shared = shared_id("matter_types", "M01")
            assert s.get(MatterType, shared).name == "居住证"
            assert s.get(MatterType, mt) is None
            assert s.get(MatterType, local_mt).local  # the station's own entry keeps its id
            assert s.scalar(select(Matter.matter_type_id)) == shared  # the reference moved
            assert s.get(Skill, shared_id("skills", "S01")).name == "陪诊"
            own = s.get(Skill, own_sk)
            assert own.code == "340304001-1"
            assert s.get(Volunteer, vol).skills == ["S01", "340304001-1"]
            assert s.get(CalendarDay, shared_id("calendar_days", "2026-10-01")).name == "国庆节"
            assert s.get(Station, shared_id("stations", "340304001")).name == "幸福里社区"
    finally:
        db.close()
