"""Who issues the station's papers: the committee (or the party
organisation), named at set-up and in settings, never the centre."""

from __future__ import annotations

import pytest

from db.errors import PermissionDenied, ValidationError
from desktop.services import accounts, certificates as certs


@pytest.mark.parametrize(
    "name, level, committee, party",
    [
        ("幸福里社区党群服务中心", "community", "幸福里社区居民委员会", "中共幸福里社区委员会"),
        ("前进村党群服务中心", "village", "前进村村民委员会", "中共前进村支部委员会"),
        ("光明（东区）便民服务中心", "community", "光明社区居民委员会", "中共光明社区委员会"),
        ("城关街道汇总中心", "street", "", ""),
    ],
)
def test_default_issuers_follow_the_centre_name(name, level, committee, party):
    assert accounts.default_issuers(name, level) == (committee, party)


def test_setup_and_settings_hold_the_committee_beside_the_centre(station):
    db, admin = station
    info = accounts.station_info(db)
    assert info.name == "幸福里社区党群服务中心" and info.committee == "幸福里社区居民委员会"
    assert (
        info.issuer("居民委员会章") == "幸福里社区居民委员会" and info.issuer("社区党组织章") == "中共幸福里社区委员会"
    )
    accounts.create_account(db, admin, username="desk1", display_name="李前台", role="desk", password="desk12345")
    desk = accounts.authenticate(db, "desk1", "desk12345")
    with pytest.raises(PermissionDenied):
        accounts.update_station(db, desk, committee="x", party_org="y")
    with pytest.raises(ValidationError) as e:
        accounts.update_station(db, admin, committee="委" * 65, party_org="")
    assert e.value.field == "committee"
    assert accounts.station_info(db).committee == "幸福里社区居民委员会"  # nothing saved half-way
    info = accounts.update_station(
        db, admin, committee="幸福里社区居委会", party_org="中共幸福里社区总支部委员会", phone="0552-1111111"
    )
    assert (info.committee, info.party_org, info.phone) == (
        "幸福里社区居委会",
        "中共幸福里社区总支部委员会",
        "0552-1111111",
    )
    by = {t.code: t for t in certs.catalogue(db)}
    from desktop.services import residents
    from desktop.services.residents import ResidentForm

    rid = residents.register(db, admin, ResidentForm(name="赵丽", estate="幸福里小区"))
    a = certs.issue(db, admin, rid, by["R05"].id, {"service": "服务 3 次", "purpose": "反馈"}, by["R05"].materials)
    assert certs.get(db, a.id).issuer == "中共幸福里社区总支部委员会"
    accounts.update_station(db, admin, committee="", party_org="")  # empty: back to what the name suggests
    assert accounts.station_info(db).committee == "幸福里社区居民委员会"
