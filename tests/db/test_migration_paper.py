"""A station made before 0007_paper opens with its committee and party
organisation named from the centre's name, and the negative list's wrong
citation corrected (an edited one is left alone)."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, insert, text

from db.engine import open_database
from db.migrations import run
from db.models import CertificateType, Station
from desktop.services import accounts

OLD = (
    "民政部 司法部《关于开展村级组织承担的证明事项清理工作的通知》所附《不应由基层群众性自治组织出具证明事项清单"
    "（第一批）》（民发〔2020〕20号）"
)


def _sync(**kw):
    return {"origin": "340304101", "hlc": 1, "seq": 1, "deleted": False, "field_clocks": {}, **kw}


def test_old_station_gets_its_committee_and_the_right_citation(tmp_path):
    path = tmp_path / "old.sqlite3"
    eng = create_engine(f"sqlite:///{path}")
    run.upgrade(eng, "0006_sync")
    with eng.begin() as c:
        c.execute(text("UPDATE local_state SET station_code = '340304101'"))
        c.execute(
            insert(Station.__table__),
            [
                _sync(id=uuid.uuid4(), code="340304101", name="前进村党群服务中心", level="village"),
                _sync(id=uuid.uuid4(), code="340304000", name="城关街道", level="street"),
            ],
        )
        c.execute(
            insert(CertificateType.__table__),
            [
                _sync(
                    id=uuid.uuid4(),
                    code="N01",
                    kind="abolished",
                    name="亲属关系证明",
                    basis=OLD,
                    needs_approval=False,
                    materials=[],
                    fields=[],
                    active=True,
                    local=False,
                    sort=0,
                ),
                _sync(
                    id=uuid.uuid4(),
                    code="S21",
                    kind="abolished",
                    name="独生子女证明",
                    basis="本省补充清单",
                    needs_approval=False,
                    materials=[],
                    fields=[],
                    active=True,
                    local=False,
                    sort=1,
                ),
            ],
        )
    eng.dispose()
    db = open_database(path)
    try:
        info = accounts.station_info(db)
        assert (info.committee, info.party_org) == ("前进村村民委员会", "中共前进村支部委员会")
        with db.session() as s:
            rows = {r.code: (r.committee, r.party_org) for r in s.query(Station)}
            bases = {t.code: t.basis for t in s.query(CertificateType)}
        assert rows["340304000"] == (None, None)  # a street hub issues nothing
        assert "民政部等六部门《关于改进和规范基层群众性自治组织出具证明工作的指导意见》" in bases["N01"]
        assert bases["S21"] == "本省补充清单"
    finally:
        db.close()
