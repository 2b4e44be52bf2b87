"""The search's quick ways (issue 19) give the page a plain reading of every
value gives: ID tails by bisection over the numbers read backwards, a field
skipped when no value holds a character or so long a number, the weakest
field skipped once a page is full, the find walking forward by values.

The reference below reads each field value by value with the same rules (the
scores of ``ResidentIndex._score``, at most ``cap`` hits per field in the order
of the values), so the tests hold with a cap small enough to bite, after edits
(old values stay in the index until compacted) and after a compaction."""

from __future__ import annotations

import random
import uuid
from datetime import date

import pytest

from db.models import Resident
from desktop.services import search
from desktop.services.idnumbers import make_ric, mask
from desktop.services.names import name_pinyin
from desktop.services.search import ResidentIndex, query_parts

SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = "秀英华明丽强军平芳娜敏静"
PLACES = ["幸福里小区{}栋{}单元{}室", "和平家园{}栋{}单元{}室", "Hefei A{}座{}0{}", "龙湖苑{}号{}楼{}"]


def _fill(db, n: int, seed: int = 5) -> None:
    r = random.Random(seed)
    with db.session() as s:
        for i in range(n):
            name = r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2))))
            py, ini = name_pinyin(name)
            birth = date(1940 + r.randrange(60), 1 + r.randrange(12), 1 + r.randrange(28))
            doc = make_ric("340304", birth, r.randrange(1, 6)) if r.random() < 0.9 else None  # tails repeat
            if doc and r.random() < 0.2:
                doc = doc.lower()  # a lower-case x now and then, as typed
            phone = r.choice(("138", "139", "0552-")) + "".join(r.choice("0123456789") for _ in range(8))
            s.add(
                Resident(
                    name=name,
                    pinyin=py,
                    initials=ini,
                    birth_date=birth,
                    gender=1 + i % 2,
                    doc_number=doc,
                    phone=phone if r.random() < 0.9 else None,
                    address_text=r.choice(PLACES).format(r.randrange(1, 30), r.randrange(1, 5), r.randrange(100, 2000)),
                    moved_out=r.random() < 0.1,
                    deceased=r.random() < 0.05,
                )
            )


def _reference(ix: ResidentIndex, q: str, limit: int, cap: int) -> list[tuple]:
    blobs, owner = ix._blobs, ix._owner
    assert blobs is not None
    n = len(owner)
    scores: dict[int, tuple[int, str]] = {}

    def field(name: str, test) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
        out = []
        for p in range(n):
            where = test(blobs[name].value(p))
            if where is not None:
                out.append((p, where))
                if len(out) >= cap:
                    break
        return out

    def contains(v: str, needle: str) -> int | None:
        return None if needle not in v else (2 if v == needle else 1) if v.startswith(needle) else 0

    def add(hits, exact, base, at_start, label) -> None:  # type: ignore[no-untyped-def]
        for pos, where in hits:
            slot = owner[pos]
            if slot >= 0:
                score = base + (at_start if where else 0) + (10 if exact and where == 2 else 0)
                if scores.get(slot, (0, ""))[0] < score:
                    scores[slot] = (score, label)

    if search._is_number(q):
        if len(q) >= 3:
            add(field("doc_low", lambda v: (2 if v == q else 1) if v.endswith(q) else None), False, 90, 0, "证件号尾号")
            add(field("phone", lambda v: contains(v, q)), True, 60, 20, "电话")
        if len(q) >= 6:
            add(field("doc_low", lambda v: contains(v, q)), False, 55, 30, "证件号")
        add(field("address_low", lambda v: contains(v, q)), False, 30, 0, "地址")
    elif q.isascii() and q.isalpha():
        prefix = lambda v: (2 if v == q else 1) if v.startswith(q) else None  # noqa: E731
        add(field("initials", prefix), True, 70, 0, "拼音首字母")
        add(field("pinyin", prefix), True, 68, 0, "拼音")
        if len(q) >= 3:
            add(field("pinyin", lambda v: contains(v, q)), False, 40, 0, "拼音")
    else:
        add(field("name", lambda v: contains(v, q)), True, 60, 20, "姓名")
        add(field("address_low", lambda v: contains(v, q)), False, 30, 0, "地址")

    def order_key(slot: int) -> tuple:
        final = scores[slot][0] - (15 if ix._status[slot] else 0)
        pos = blobs.pos[slot]
        return (-final, blobs["pinyin"].raw(pos) + b"\0" + blobs["name"].raw(pos), slot)

    best = sorted((s for s in scores if ix._status[s] != search._DELETED), key=order_key)[:limit]
    return [_row(ix.hit_at(s, scores[s][0] - (15 if ix._status[s] else 0), scores[s][1])) for s in best]


def _row(hit: search.Hit) -> tuple:
    return (hit.id, hit.name, hit.doc_masked, hit.phone, hit.address, hit.status, hit.matched, hit.score)


def _queries(ix: ResidentIndex, r: random.Random) -> list[str]:
    blobs = ix._blobs
    assert blobs is not None
    qs = {"1", "13", "138", "0552", "x", "02x", "99999999", "王", "秀英", "小区", "栋", "a", "a座", "hefei", "单元1"}
    for _ in range(40):
        p = r.randrange(len(ix._owner))
        for f in ("name", "initials", "pinyin", "doc_low", "phone", "address_low"):
            v = blobs[f].value(p)
            if v:
                i = r.randrange(len(v))
                qs |= {v[i : i + k] for k in (1, 2, 3, 4, 6)} | {v[-3:], v[-4:], v[:3]}
    return sorted(q for q in qs if len(query_parts(q)) == 1)


# The quick loop checks the small cap (where the cap bites); the full run
# checks the real one too.
@pytest.mark.parametrize("cap", [5, pytest.param(search.MAX_PER_FIELD, marks=pytest.mark.slow)])
def test_the_quick_ways_give_the_page_a_plain_reading_gives(station, monkeypatch, cap):
    db, _ = station
    _fill(db, 400)
    monkeypatch.setattr(search, "MAX_PER_FIELD", cap)
    monkeypatch.setattr(search._Slots, "MERGE_AT", 12)  # the 20 added below sort the slots again
    ix = ResidentIndex(db)
    ix.warm()
    r = random.Random(cap)

    def check() -> None:
        with db.session() as s:
            rows = s.query(Resident.id, Resident.name, Resident.doc_number, Resident.phone, Resident.address_text).all()
        # found by id, and shown as typed (capitals in an address or ID number too)
        shown = [ix.hit_at(ix.slot_of.get(rid)) for rid, *_ in rows]
        assert [(h.id, h.name, h.doc_masked, h.phone, h.address) for h in shown] == [
            (rid, name, mask(doc or ""), phone or "", addr or "") for rid, name, doc, phone, addr in rows
        ]
        assert ix.slot_of.get(None) is None and ix.slot_of.get(uuid.uuid4(), -1) == -1
        for q in _queries(ix, r):
            part = query_parts(q)[0]
            for limit in (1, 3, 50):
                got = [_row(h) for h in ix.search(q, limit=limit)]
                assert got == _reference(ix, part, limit, cap), (q, limit)

    check()
    # edits leave old values behind (they no longer match) and add new ones
    # past the sorted ID tails, which the next search puts in their place
    with db.session() as s:
        for res in s.query(Resident).order_by(Resident.seq).limit(30):
            res.doc_number = make_ric("340304", date(1999, 9, 9), r.randrange(1, 999))
            res.address_text = "新村9栋99999单元"
            res.phone = "13999999999"
    _fill(db, 5, seed=8)
    assert ix.refresh() == 35 and ix._dead == 30 and len(ix.slot_of.recent) == 5
    _fill(db, 15, seed=9)
    assert ix.refresh() == 15 and not ix.slot_of.recent
    check()
    assert [h.address for h in ix.search("99999")][:1] == ["新村9栋99999单元"]
    ix._compact()
    check()


def test_a_field_without_the_character_or_so_long_a_number_is_not_read():
    blob = search._Blob()
    for v in ("幸福里3栋1201室", "A座12x", ""):
        blob.append(v.encode())
    assert blob.may_contain("幸福") and blob.may_contain("1201") and blob.may_contain("12x")
    assert not blob.may_contain("王") and not blob.may_contain("12011") and not blob.may_contain("b")
    assert blob.find("王", False) == [] and blob.find("12011", False) == []
    assert blob.find("1", False) == [(0, 0), (1, 0)] and blob.find("", False) == [(0, 1), (1, 1), (2, 2)]
    blob.append("王府井大街100001号".encode())  # a later value is read before the next answer
    assert blob.may_contain("王") and blob.find("100001", False) == [(3, 0)]
