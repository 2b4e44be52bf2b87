"""A realistic demo station: names (some with rare characters), households,
addresses, valid ID numbers, phones and special-group tags.

Deterministic for a seed.  Rows go in through ``db.writes.bulk_insert`` in
chunks, one transaction per chunk, so 100 000 residents take seconds, not
minutes, and every row carries the same sync identity as one typed in.
"""
from __future__ import annotations

import random
import time
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from db.clock import new_id
from db.engine import Database
from db.models import Account, Household, Resident, ResidentTag
from db.writes import bulk_insert
from desktop.services import accounts, audit
from desktop.services.context import Actor
from desktop.services.idnumbers import make_ric
from desktop.services.names import name_pinyin

DEMO_CODE = "340304001"
DEMO_NAME = "示范社区党群服务中心（演示）"
DEMO_ADMIN = "admin"
DEMO_PASSWORD = "demo1234"
DEMO_STAFF = (("zhanzhang", "王站长", "supervisor"), ("qiantai", "李前台", "desk"))

# Common surnames, roughly by frequency (weights are per-mille-ish).
SURNAMES = [
    ("王", 72), ("李", 72), ("张", 70), ("刘", 54), ("陈", 46), ("杨", 33), ("黄", 23), ("赵", 20),
    ("吴", 20), ("周", 19), ("徐", 15), ("孙", 15), ("马", 13), ("朱", 13), ("胡", 12), ("郭", 11),
    ("何", 10), ("高", 10), ("林", 10), ("罗", 9), ("郑", 9), ("梁", 9), ("谢", 7), ("宋", 7),
    ("唐", 6), ("许", 6), ("韩", 6), ("冯", 6), ("邓", 6), ("曹", 6), ("彭", 5), ("曾", 5),
    ("肖", 5), ("田", 5), ("董", 5), ("袁", 4), ("潘", 4), ("于", 4), ("蒋", 4), ("蔡", 4),
    ("余", 4), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 3), ("魏", 3), ("吕", 3), ("丁", 3),
    ("任", 3), ("沈", 3), ("单", 1), ("解", 1), ("查", 1), ("欧阳", 1), ("司马", 1), ("诸葛", 1),
]
GIVEN_MALE = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁建国志俊峰浩宇轩子豪晨阳博文一鸣振东海")
GIVEN_FEMALE = list("芳娜敏静丽艳娟霞秀玲桂英红梅兰燕萍雪琳欣怡梓涵雨婷诗佳慧颖晓丹淑珍凤")
# Rare characters seen in real names; two are outside the Basic Multilingual Plane.
RARE = ["堃", "喆", "犇", "昇", "淼", "赟", "䶮", "𠅤", "𡒄", "玥", "昪", "槚"]

AREAS = ["340302", "340303", "340304", "340311", "340321"]
ESTATES = [("幸福里小区", "第一网格"), ("和平家园", "第二网格"), ("锦绣花园", "第三网格"),
           ("龙湖苑", "第四网格"), ("淮河新村", "第五网格"), ("东方明珠小区", "第六网格")]
MINORITIES = ["03", "02", "06", "08", "11", "15"]  # 回 蒙古 苗 壮 满 土家
PHONE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                  "155", "156", "157", "158", "159", "166", "176", "177", "180", "181", "182", "183",
                  "186", "187", "188", "189", "191", "198", "199"]
HOUSEHOLD_SIZES = [1, 2, 3, 4, 5, 6]
HOUSEHOLD_WEIGHTS = [20, 30, 25, 15, 7, 3]
CHUNK = 2_000  # households per transaction (about 5 000 residents)


class _Gen:
    def __init__(self, seed: int, today: date):
        self.r = random.Random(seed)
        self.today = today
        self.surnames = [s for s, _ in SURNAMES]
        self.surname_w = [w for _, w in SURNAMES]
        self.used_ids: set[str] = set()
        self.rare_used = 0

    def surname(self) -> str:
        return self.r.choices(self.surnames, self.surname_w)[0]

    def name(self, surname: str, gender: int) -> str:
        r = self.r
        pool = GIVEN_MALE if gender == 1 else GIVEN_FEMALE
        given = [r.choice(pool) for _ in range(1 if r.random() < 0.3 else 2)]
        if r.random() < 0.006:
            given[-1] = r.choice(RARE)
            self.rare_used += 1
        return surname + "".join(given)

    def birth(self, age: int) -> date:
        start = date(self.today.year - age - 1, self.today.month, 1) + timedelta(days=self.r.randrange(1, 360))
        return min(start, self.today - timedelta(days=1))

    def ric(self, birth: date, gender: int) -> str:
        area = self.r.choice(AREAS)
        while True:
            seq = self.r.randrange(0, 500) * 2 + (1 if gender == 1 else 0)
            n = make_ric(area, birth, seq)
            if n not in self.used_ids:
                self.used_ids.add(n)
                return n

    def phone(self) -> str:
        return self.r.choice(PHONE_PREFIXES) + f"{self.r.randrange(0, 10**8):08d}"


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _household(g: _Gen, size: int) -> list[dict[str, Any]]:
    """Members as (relation, gender, age, surname) dicts, head first; ages consistent."""
    r = g.r
    head_gender = 1 if r.random() < 0.7 else 2
    if size == 1:
        head_age = r.choice([r.randrange(22, 40), r.randrange(60, 96), r.randrange(40, 80)])
    else:
        head_age = r.randrange(28, 86)
    family = g.surname()
    members = [{"rel": "户主", "gender": head_gender, "age": head_age, "surname": family}]
    if size >= 2:
        members.append({"rel": "配偶", "gender": 3 - head_gender,
                        "age": max(20, head_age + r.randrange(-5, 4)), "surname": g.surname()})
    slots = size - len(members)
    # Elderly parents when the head is young enough to have them.
    if slots and head_age < 55 and r.random() < 0.3:
        members.append({"rel": "母亲" if r.random() < 0.6 else "父亲", "gender": 0,
                        "age": head_age + r.randrange(24, 34), "surname": family})
        members[-1]["gender"] = 2 if members[-1]["rel"] == "母亲" else 1
        if members[-1]["rel"] == "母亲":
            members[-1]["surname"] = g.surname()
        slots -= 1
    while slots > 0:
        child_max = head_age - 20
        if child_max < 0:
            break
        if head_age >= 62 and r.random() < 0.5:
            gender = r.choice([1, 2])
            members.append({"rel": "孙子" if gender == 1 else "孙女", "gender": gender,
                            "age": r.randrange(0, max(1, head_age - 44)), "surname": family})
        else:
            gender = r.choice([1, 2])
            members.append({"rel": "子" if gender == 1 else "女", "gender": gender,
                            "age": r.randrange(0, child_max + 1) if child_max < 40 else r.randrange(0, 40),
                            "surname": family})
        slots -= 1
    return members


def _tags(g: _Gen, age: int, alone: bool, residency: str, rel: str) -> list[str]:
    r = g.r
    tags = []
    if age >= 80:
        tags.append("高龄")
    if age >= 60:
        if alone:
            tags.append("独居")
        elif rel in ("户主", "配偶") and r.random() < 0.25:
            tags.append("空巢")
        if r.random() < 0.03:
            tags.append("失能失智")
        if r.random() < 0.04 and not alone:
            tags.append("留守老人")
    if age < 16:
        if r.random() < 0.03:
            tags.append("留守儿童")
        if r.random() < 0.01:
            tags.append("困境儿童")
    if r.random() < 0.02:
        tags.append("残疾人")
    if r.random() < 0.025:
        tags.append("低保")
    elif r.random() < 0.004:
        tags.append("特困")
    if r.random() < 0.008 and age >= 40:
        tags.append("优抚对象")
    if residency == "floating":
        tags.append("流动人口")
    if r.random() < 0.003 and age >= 49:
        tags.append("计生特殊家庭")
    return tags


def fill_demo(db: Database, *, n_residents: int, seed: int = 1, today: date | None = None) -> dict[str, Any]:
    """Add ``n_residents`` demo residents in households to a set-up station."""
    t0 = time.perf_counter()
    today = today or date.today()
    g = _Gen(seed, today)
    with db.session() as s:  # reuse numbers already present (a second fill)
        g.used_ids.update(x for x in s.scalars(select(Resident.doc_number)) if x)
        hh_offset = s.scalar(select(func.count()).select_from(Household)) or 0
    made = {"residents": 0, "households": 0, "tags": 0}
    households: list[dict[str, Any]] = []
    residents: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []

    def flush() -> None:
        if not households:
            return
        with db.session() as s:
            bulk_insert(s, Household, households)
            bulk_insert(s, Resident, residents)
            bulk_insert(s, ResidentTag, tags)
            audit.record(s, "demo_data", actor_name="demo", residents=len(residents))
        made["households"] += len(households)
        made["residents"] += len(residents)
        made["tags"] += len(tags)
        households.clear()
        residents.clear()
        tags.clear()

    remaining = n_residents
    while remaining > 0:
        r = g.r
        size = min(remaining, r.choices(HOUSEHOLD_SIZES, HOUSEHOLD_WEIGHTS)[0])
        members = _household(g, size)
        size = len(members)
        remaining -= size
        estate, grid = r.choice(ESTATES)
        building, unit = str(r.randrange(1, 31)), str(r.randrange(1, 5))
        room = f"{r.randrange(1, 19)}0{r.randrange(1, 5)}"
        address = f"{estate}{building}栋{unit}单元{room}室"
        hh_id, head_id = new_id(), new_id()
        residency = r.choices(["registered", "resident", "floating"], [70, 20, 10])[0]
        households.append({"id": hh_id, "number": f"H{hh_offset + made['households'] + len(households) + 1:06d}",
                           "head_id": head_id, "address_text": address, "notes": None})
        alone = size == 1
        for i, m in enumerate(members):
            birth = g.birth(m["age"])
            age = _age(birth, today)
            name = g.name(m["surname"], m["gender"])
            py, ini = name_pinyin(name)
            deceased = r.random() < 0.004 and age > 70
            moved = not deceased and r.random() < 0.006
            rid = head_id if i == 0 else new_id()
            ethnicity = "01" if r.random() < 0.95 else r.choice(MINORITIES)
            residents.append({
                "id": rid, "name": name, "pinyin": py, "initials": ini, "gender": m["gender"],
                "birth_date": birth, "doc_type": "ric", "doc_number": g.ric(birth, m["gender"]),
                "phone": g.phone() if age >= 16 and r.random() < 0.92 else None,
                "ethnicity": ethnicity, "household_id": hh_id, "relation_to_head": m["rel"],
                "estate": estate, "building": building, "unit": unit, "room": room,
                "village_group": None, "house_number": None, "address_text": address, "grid": grid,
                "residency": residency, "moved_out": moved,
                "moved_out_date": today - timedelta(days=r.randrange(10, 900)) if moved else None,
                "deceased": deceased,
                "deceased_date": today - timedelta(days=r.randrange(10, 900)) if deceased else None,
                "notes": None,
            })
            for tag in _tags(g, age, alone, residency, m["rel"]):
                tags.append({"resident_id": rid, "tag": tag, "since": None, "note": None})
        if len(households) >= CHUNK:
            flush()
    flush()
    made["rare_character_names"] = g.rare_used
    made["seconds"] = round(time.perf_counter() - t0, 2)
    return made


def create_demo_station(db: Database, *, n_residents: int, seed: int = 1) -> tuple[str, str]:
    """Set up an empty database as a demo station; returns the admin login."""
    admin = accounts.setup_station(
        db, code=DEMO_CODE, name=DEMO_NAME, level="community", phone="0552-1234567",
        admin_username=DEMO_ADMIN, admin_password=DEMO_PASSWORD, admin_display_name="演示管理员",
    )
    for username, display, role in DEMO_STAFF:
        accounts.create_account(db, admin, username=username, display_name=display, role=role,
                                password=DEMO_PASSWORD)
    if n_residents:
        fill_demo(db, n_residents=n_residents, seed=seed)
        from desktop.services import demo_counter

        demo_counter.fill_counter(db, n_matters=min(max(n_residents // 8, 1), 20_000), seed=seed)
        from desktop.services import demo_certificates

        with db.session() as s:  # act as the desk worker without a sign-in line in the audit log
            acct = s.scalar(select(Account).where(Account.username == "qiantai"))
            desk = Actor(acct.id, acct.username, acct.display_name, acct.role, DEMO_CODE)
        demo_certificates.fill_certificate_history(db, seed=seed)
        demo_certificates.fill_certificates(db, admin, desk, n=30, seed=seed)
        from desktop.services import demo_volunteers

        demo_volunteers.fill_volunteers(db, n_volunteers=min(max(n_residents // 40, 20), 2000),
                                        n_needs=min(max(n_residents // 150, 10), 300), seed=seed)
        demo_volunteers.fill_volunteer_history(db, seed=seed)
    return DEMO_ADMIN, DEMO_PASSWORD
