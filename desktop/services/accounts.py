"""Station setup, accounts, sign-in and roles.

Roles are enforced here, not by hiding buttons: every call that changes an
account takes the acting ``Actor`` and checks its role.  Passwords are hashed
with Argon2id (memory-hard).  An administrator's password also wraps the
station file's data key (``db.keys``, docs/security.md), refreshed whenever
it is set, and dropped when the account stops being an active administrator.
Five wrong passwords in a row lock an account for fifteen minutes, each
further five for twice as long (up to a day); the answers do not tell whether
a user name exists.  Every sign-in, failure, lock-out and role change is
written to the audit log (a failure under a name that is no account without
the typed text).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import keys
from db.clock import shared_id, utcnow
from db.engine import Database
from db.errors import StationDeskError, ValidationError
from db.models import Account, LocalState, Station
from desktop.services import audit
from desktop.services.context import Actor
from desktop.services.vocab import PROVINCE_PREFIXES, ROLES, STATION_LEVELS

if TYPE_CHECKING:
    from argon2 import PasswordHasher

log = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MAX_LOCKOUT = timedelta(days=1)
MIN_PASSWORD = 8

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,32}$")
STATION_CODE_RE = re.compile(r"^\d{9,12}$")


def _duration(d: timedelta) -> str:
    minutes = max(1, int(d.total_seconds() // 60))
    return f"{minutes} 分钟" if minutes < 120 else f"{-(-minutes // 60)} 小时"


class LoginFailed(StationDeskError):
    def __init__(self, remaining: int | None, lock: timedelta = LOCKOUT):
        msg = "用户名或密码不正确。"
        if remaining is not None and remaining <= 3:
            msg += f"再错 {remaining} 次，账户将被锁定 {_duration(lock)}。"
        super().__init__("login failed", msg)
        self.remaining = remaining


class AccountLocked(StationDeskError):
    def __init__(self, until: datetime):
        left = _duration(until - utcnow() + timedelta(minutes=1))
        super().__init__(
            "account locked",
            f"密码错误次数过多，账户已锁定。请 {left}后再试，或请站长、管理员解除锁定。",
        )
        self.until = until


class AccountDisabled(StationDeskError):
    user_message = "这个账户已停用。请联系管理员。"


class AlreadySetUp(StationDeskError):
    user_message = "这个数据库已经建立过站点，不能重复建立。"


@dataclass(frozen=True)
class StationInfo:
    code: str
    name: str
    level: str
    phone: str | None
    committee: str = ""  # 居民委员会 / 村民委员会: the issuer of certificates
    party_org: str = ""  # the community party organisation, for party matters

    @property
    def level_label(self) -> str:
        return STATION_LEVELS.get(self.level, self.level)

    def issuer(self, seal: str = "") -> str:
        """The body that signs and stamps a paper: the party organisation
        when the seal is a party seal, else the committee."""
        if "党" in (seal or "") and self.party_org:
            return self.party_org
        return self.committee or self.name


@dataclass(frozen=True)
class AccountInfo:
    id: uuid.UUID
    username: str
    display_name: str
    role: str
    active: bool
    locked: bool
    failed_attempts: int
    last_login_at: datetime | None

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    # Argon2id with OWASP's recommended minimum (m=19 MiB, t=2, p=1): about
    # 40 ms here, so signing in and unlocking stay quick on an old station PC
    # while a stolen database still costs an attacker 19 MiB per guess.
    # Hashes record their parameters, so raising them later keeps old ones valid.
    # The test suite's cheap setting (the same switch as db.keys' scrypt) keeps
    # Argon2id and its checks but costs 1 MiB: a thousand tests sign in.
    if os.environ.get(keys.FAST_KDF_ENV) == "1":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _verify(hash_: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(hash_, password)
    except (VerificationError, InvalidHashError):
        return False


# A fixed hash to verify against for unknown usernames, so the time taken
# does not tell whether a username exists.
_DUMMY_HASH: str | None = None


def _dummy_verify(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("station-desk-dummy")
    _verify(_DUMMY_HASH, password)


# ---------------------------------------------------------------- validation


def validate_station_code(code: str) -> str:
    code = (code or "").strip()
    if not code:
        raise ValidationError("station_code", "请填写站点编码。")
    if not STATION_CODE_RE.match(code):
        raise ValidationError(
            "station_code",
            "站点编码应为 9 到 12 位数字：6 位行政区划代码（县级，GB/T 2260）加本社区/村的编号，"
            "例如 340304 + 001 = 340304001。",
        )
    if int(code[:2]) not in PROVINCE_PREFIXES:
        raise ValidationError("station_code", f"站点编码的前两位“{code[:2]}”不是有效的省级行政区划代码。")
    return code


def validate_station_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("station_name", "请填写站点名称，例如“幸福里社区党群服务中心”。")
    if len(name) > 64:
        raise ValidationError("station_name", f"站点名称太长（{len(name)} 个字），请不超过 64 个字。")
    return name


def validate_username(username: str) -> str:
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise ValidationError("username", "用户名应为 2 到 32 位英文字母、数字、下划线、点或连字符。")
    return username


def validate_display_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("display_name", "请填写姓名。")
    if len(name) > 32:
        raise ValidationError("display_name", "姓名太长，请不超过 32 个字。")
    return name


def validate_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError("password", f"密码至少需要 {MIN_PASSWORD} 位。")
    if len(password) > 128:
        raise ValidationError("password", "密码太长，请不超过 128 位。")
    if password.isdigit() or password.isalpha():
        raise ValidationError("password", "密码请同时包含字母和数字。")
    return password


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError("role", "未知的角色。")
    return role


# ------------------------------------------------------------------- issuers

ISSUER_MAX = 64
_CENTRE_SUFFIXES = (
    "党群服务中心",
    "党群服务站",
    "便民服务中心",
    "综合服务中心",
    "服务中心",
    "服务站",
    "居民委员会",
    "村民委员会",
    "居委会",
    "村委会",
)


def place_name(name: str, level: str) -> str:
    """The community or village a centre serves: 幸福里社区党群服务中心 → 幸福里社区."""
    core = re.sub(r"[（(].*?[)）]", "", name or "").strip()
    for suffix in _CENTRE_SUFFIXES:
        if core.endswith(suffix) and len(core) > len(suffix):
            core = core[: -len(suffix)]
            break
    if not core.endswith(("社区", "村")):
        core += "村" if level == "village" else "社区"
    return core


def default_issuers(name: str, level: str) -> tuple[str, str]:
    """The committee and party organisation a centre's name suggests; a
    street hub issues nothing of its own, so both are empty."""
    if level not in ("community", "village"):
        return "", ""
    place = place_name(name, level)
    if level == "village":
        return place + "村民委员会", f"中共{place}支部委员会"
    return place + "居民委员会", f"中共{place}委员会"


def _issuer_name(value: str | None, field: str, label: str) -> str | None:
    value = " ".join((value or "").split())
    if len(value) > ISSUER_MAX:
        raise ValidationError(field, f"{label}太长（{len(value)} 个字），请不超过 {ISSUER_MAX} 个字。")
    return value or None


# ------------------------------------------------------------------- station


def station_info(db: Database) -> StationInfo | None:
    """This database's station, or None before first-run setup."""
    with db.session() as s:
        code = s.scalar(select(LocalState.station_code).where(LocalState.id == 1))
        if not code:
            return None
        st = s.scalar(select(Station).where(Station.code == code))
        if st is None:
            return None
        return info_of(st)


def info_of(st: Station) -> StationInfo:
    committee, party = default_issuers(st.name, st.level)
    return StationInfo(st.code, st.name, st.level, st.phone, st.committee or committee, st.party_org or party)


def update_station(
    db: Database, actor: Actor, *, committee: str, party_org: str, phone: str | None = None
) -> StationInfo:
    """The administrator names who issues the station's papers (and its phone).
    An empty name falls back to the one the centre's name suggests."""
    actor.require("admin", "修改站点信息")
    committee_ = _issuer_name(committee, "committee", "居（村）民委员会名称")
    party_ = _issuer_name(party_org, "party_org", "社区党组织名称")
    with db.session() as s:
        st = this_station(s)
        st.committee, st.party_org = committee_, party_
        if phone is not None:
            st.phone = (phone or "").strip()[:32] or None
        audit.record(s, "station_update", actor, target_type="station")
        s.flush()
        return info_of(st)


def setup_station(
    db: Database,
    *,
    code: str,
    name: str,
    level: str,
    admin_username: str,
    admin_password: str,
    admin_display_name: str = "管理员",
    phone: str | None = None,
    committee: str = "",
    party_org: str = "",
) -> Actor:
    """First run: create the station and its first administrator. The
    committee and party organisation default to what the name suggests."""
    code = validate_station_code(code)
    name = validate_station_name(name)
    if level not in STATION_LEVELS:
        raise ValidationError("level", "请选择站点类型。")
    default_committee, default_party = default_issuers(name, level)
    committee_ = _issuer_name(committee, "committee", "居（村）民委员会名称") or default_committee or None
    party_ = _issuer_name(party_org, "party_org", "社区党组织名称") or default_party or None
    admin_username = validate_username(admin_username)
    admin_display_name = validate_display_name(admin_display_name)
    validate_password(admin_password)
    pw_hash = hash_password(admin_password)
    with db.session() as s:
        state = s.get(LocalState, 1)
        if state is None:
            raise StationDeskError("local_state row missing", "数据库不完整，缺少本地状态。")
        if state.station_code:
            raise AlreadySetUp()
        state.station_code = code
        s.flush()
        # One id per station code everywhere, so its record at the hub and a rebuilt PC's agree.
        s.add(
            Station(
                id=shared_id("stations", code),
                code=code,
                name=name,
                level=level,
                phone=(phone or "").strip() or None,
                committee=committee_,
                party_org=party_,
            )
        )
        acct = Account(
            username=admin_username,
            display_name=admin_display_name,
            role="admin",
            password_hash=pw_hash,
            active=True,
            failed_attempts=0,
        )
        s.add(acct)
        s.flush()
        actor = _actor(acct, code)
        audit.record(s, "station_setup", actor, target_type="station", level=level)
        audit.record(s, "account_create", actor, target_type="account", target_id=acct.id, role="admin")
    _wrap_key(db, admin_username, admin_password, True)
    return actor


def _wrap_key(db: Database, username: str, password: str | None, admin: bool) -> None:
    """Keep the key file's password wraps to the active administrators (a
    password of ``None``: drop it).  A failure here never fails the action:
    the machine key and the recovery code still open the file."""
    if db.key is None or db.path is None:
        return
    try:
        if admin and password is not None:
            keys.set_password(db.path, username, password, db.key)
        else:
            keys.drop_password(db.path, username)
    except (OSError, StationDeskError):
        log.exception("could not update the key file's password wraps")


def _actor(acct: Account, station: str) -> Actor:
    return Actor(acct.id, acct.username, acct.display_name, acct.role, station)


def this_station(s: Session, missing: str = "站点尚未建立。") -> Station:
    """This database's own station record; ``missing`` is the message when
    the station is not set up yet."""
    code = s.scalar(select(LocalState.station_code).where(LocalState.id == 1))
    st = s.scalar(select(Station).where(Station.code == code)) if code else None
    if st is None:
        raise ValidationError("station", missing)
    return st


def _station_code(s: Session) -> str:
    code = s.scalar(select(LocalState.station_code).where(LocalState.id == 1))
    if not code:
        raise StationDeskError("no station", "站点尚未建立。")
    return code


# ------------------------------------------------------------------- sign-in


def lockout_for(failures: int) -> timedelta:
    """How long an account stays locked after ``failures`` wrong passwords in
    a row: none before the fifth, then 15 minutes, doubling with every further
    five (30, 60, ...) up to a day — so guessing at the sign-in or at the idle
    lock screen gets slower and slower instead of 5 tries every 15 minutes."""
    if failures < MAX_FAILURES or failures % MAX_FAILURES:
        return timedelta(0)
    return min(LOCKOUT * 2 ** (failures // MAX_FAILURES - 1), MAX_LOCKOUT)


@dataclass
class _Phantom:
    """Failures against a user name that has no account, kept in memory so the
    answers (再错 N 次, then 已锁定) are the same as for a real account and do
    not tell an attacker which names exist."""

    failed_attempts: int = 0
    locked_until: datetime | None = None


_PHANTOMS: dict[str, _Phantom] = {}


def _phantom(db: Database, username: str) -> _Phantom:
    key = hashlib.sha256(f"{db.url}\0{username}".encode()).hexdigest()  # the typed text is not kept
    if key not in _PHANTOMS and len(_PHANTOMS) >= 10_000:
        _PHANTOMS.clear()
    return _PHANTOMS.setdefault(key, _Phantom())


def authenticate(db: Database, username: str, password: str) -> Actor:
    """Check a password. Raises LoginFailed, AccountLocked or AccountDisabled.

    Whether the user name exists is not told by the answer nor by the time
    taken: an unknown name runs the same hash against a dummy and gets the
    same 再错 N 次 / 已锁定 messages (counted in memory), and its audit line
    does not keep the typed text (it may be a password typed in the wrong
    box, or an ID number). A disabled account says so only to someone who
    knows its password. Every wrong password, also at the idle lock screen,
    counts towards a lock-out that grows with each round (``lockout_for``)."""
    username = (username or "").strip()
    with db.session() as s:
        acct = s.scalar(select(Account).where(Account.username == username, Account.deleted.is_(False)))
        now = utcnow()
        who: dict[str, Any] = {"actor_name": acct.username, "actor_id": acct.id} if acct else {}
        state: Account | _Phantom = acct if acct is not None else _phantom(db, username)
        if state.locked_until and state.locked_until > now:
            _dummy_verify(password)  # the same time as any other answer
            audit.record(s, "login_failed", reason="locked" if acct else "unknown_user", **who)
            failure: StationDeskError = AccountLocked(state.locked_until)
        elif acct is not None and _verify(acct.password_hash, password):
            if not acct.active:
                audit.record(s, "login_failed", reason="disabled", **who)
                failure = AccountDisabled()
            else:
                acct.failed_attempts = 0
                acct.locked_until = None
                acct.last_login_at = now
                actor = _actor(acct, _station_code(s))
                audit.record(s, "login", actor)
                if acct.role == "admin" and db.path is not None and acct.username not in keys.password_users(db.path):
                    _wrap_key(db, acct.username, password, True)  # an admin made before the upgrade or by role
                return actor
        else:
            if acct is None:
                _dummy_verify(password)
            audit.record(s, "login_failed", reason="password" if acct else "unknown_user", **who)
            failure = _count_failure(s, acct, state, now) or LoginFailed(*_warning(state))
    # The failure and its audit line are committed before raising.
    raise failure


def _count_failure(s: Session, acct: Account | None, state: Account | _Phantom, now: datetime) -> AccountLocked | None:
    """One more wrong password; the lock-out it starts, if any."""
    state.failed_attempts = (state.failed_attempts or 0) + 1
    wait = lockout_for(state.failed_attempts)
    if not wait:
        return None
    state.locked_until = now + wait
    if acct is not None:
        audit.record(
            s,
            "lockout",
            actor_name=acct.username,
            actor_id=acct.id,
            target_type="account",
            target_id=acct.id,
            minutes=int(wait.total_seconds() // 60),
        )
    return AccountLocked(state.locked_until)


def _warning(state: Account | _Phantom) -> tuple[int, timedelta]:
    """Wrong passwords left before the next lock-out, and how long it lasts."""
    left = MAX_FAILURES - (state.failed_attempts or 0) % MAX_FAILURES
    return left, lockout_for((state.failed_attempts or 0) + left)


def record_event(db: Database, actor: Actor, action: str) -> None:
    """Audit a session event (logout, idle screen lock)."""
    with db.session() as s:
        audit.record(s, action, actor)


# ------------------------------------------------------------------ accounts


def list_accounts(db: Database, actor: Actor) -> list[AccountInfo]:
    actor.require("supervisor", "查看账户")
    now = utcnow()
    with db.session() as s:
        rows = s.scalars(select(Account).where(Account.deleted.is_(False)).order_by(Account.username))
        return [
            AccountInfo(
                a.id,
                a.username,
                a.display_name,
                a.role,
                a.active,
                bool(a.locked_until and a.locked_until > now),
                a.failed_attempts,
                a.last_login_at,
            )
            for a in rows
        ]


def create_account(
    db: Database, actor: Actor, *, username: str, display_name: str, role: str, password: str
) -> uuid.UUID:
    actor.require("admin", "新建账户")
    username = validate_username(username)
    display_name = validate_display_name(display_name)
    validate_role(role)
    validate_password(password)
    pw_hash = hash_password(password)
    with db.session() as s:
        if s.scalar(select(func.count()).select_from(Account).where(Account.username == username)):
            raise ValidationError("username", f"用户名“{username}”已被使用。")
        acct = Account(
            username=username,
            display_name=display_name,
            role=role,
            password_hash=pw_hash,
            active=True,
            failed_attempts=0,
        )
        s.add(acct)
        s.flush()
        audit.record(s, "account_create", actor, target_type="account", target_id=acct.id, role=role)
    _wrap_key(db, username, password, role == "admin")
    return acct.id


def _get(s: Session, account_id: uuid.UUID) -> Account:
    acct = s.get(Account, account_id)
    if acct is None or acct.deleted:
        raise ValidationError("account", "找不到这个账户。")
    return acct


def _admins_left(s: Session, excluding: uuid.UUID) -> int:
    return (
        s.scalar(
            select(func.count())
            .select_from(Account)
            .where(
                Account.role == "admin", Account.active.is_(True), Account.deleted.is_(False), Account.id != excluding
            )
        )
        or 0
    )


def change_role(db: Database, actor: Actor, account_id: uuid.UUID, role: str) -> None:
    actor.require("admin", "变更角色")
    validate_role(role)
    with db.session() as s:
        acct = _get(s, account_id)
        if acct.role == role:
            return
        if acct.role == "admin" and not _admins_left(s, acct.id):
            raise ValidationError("role", "这是最后一个管理员账户，不能改为其他角色。")
        old = acct.role
        acct.role = role
        audit.record(s, "role_change", actor, target_type="account", target_id=acct.id, old=old, new=role)
        username = acct.username
    if old == "admin":
        _wrap_key(db, username, None, False)  # a new admin's wrap is made at their next sign-in


def set_active(db: Database, actor: Actor, account_id: uuid.UUID, active: bool) -> None:
    actor.require("admin", "停用或启用账户")
    with db.session() as s:
        acct = _get(s, account_id)
        if not active and acct.id == actor.account_id:
            raise ValidationError("account", "不能停用自己正在使用的账户。")
        if not active and acct.role == "admin" and not _admins_left(s, acct.id):
            raise ValidationError("account", "这是最后一个管理员账户，不能停用。")
        if acct.active == active:
            return
        acct.active = active
        audit.record(
            s, "account_enable" if active else "account_disable", actor, target_type="account", target_id=acct.id
        )
        username = acct.username
    if not active:
        _wrap_key(db, username, None, False)


def unlock(db: Database, actor: Actor, account_id: uuid.UUID) -> None:
    actor.require("supervisor", "解除账户锁定")
    with db.session() as s:
        acct = _get(s, account_id)
        acct.locked_until = None
        acct.failed_attempts = 0
        audit.record(s, "unlock", actor, target_type="account", target_id=acct.id)


def reset_password(db: Database, actor: Actor, account_id: uuid.UUID, new_password: str) -> None:
    actor.require("admin", "重置密码")
    validate_password(new_password)
    pw_hash = hash_password(new_password)
    with db.session() as s:
        acct = _get(s, account_id)
        acct.password_hash = pw_hash
        acct.failed_attempts = 0
        acct.locked_until = None
        audit.record(s, "password_reset", actor, target_type="account", target_id=acct.id)
        username, admin = acct.username, acct.role == "admin" and acct.active
    _wrap_key(db, username, new_password, admin)


def change_own_password(db: Database, actor: Actor, old_password: str, new_password: str) -> None:
    validate_password(new_password)
    with db.session() as s:
        acct = _get(s, actor.account_id)
        now = utcnow()
        failure: StationDeskError | None = None
        if acct.locked_until and acct.locked_until > now:
            failure = AccountLocked(acct.locked_until)
        elif _verify(acct.password_hash, old_password):
            acct.password_hash = hash_password(new_password)
            acct.failed_attempts = 0
            audit.record(s, "password_change", actor, target_type="account", target_id=acct.id)
            username, admin = acct.username, acct.role == "admin"
        else:
            # Another way to guess the password (at a desk left signed in):
            # it counts towards the same lock-out as the sign-in.
            audit.record(s, "password_change_failed", actor, target_type="account", target_id=acct.id)
            failure = _count_failure(s, acct, acct, now) or ValidationError("old_password", "原密码不正确。")
    if failure is not None:
        raise failure
    _wrap_key(db, username, new_password, admin)


def system_actor(db: Database, username: str | None = None) -> Actor:
    """An Actor for ``username``, or for the first active administrator: who
    the command line and the benchmarks act as."""
    with db.session() as s:
        code = s.scalar(select(LocalState.station_code).where(LocalState.id == 1))
        if not code:
            raise StationDeskError("no station", "站点尚未建立。请先运行 init 建立站点。")
        q = select(Account).where(Account.deleted.is_(False), Account.active.is_(True))
        if username:
            acct = s.scalar(q.where(Account.username == username.strip()))
            if acct is None:
                raise StationDeskError(
                    f"no account {username}", f"找不到可用的账户“{username.strip()}”（不存在或已停用）。"
                )
        else:
            acct = s.scalar(q.where(Account.role == "admin").order_by(Account.id).limit(1))
            if acct is None:
                raise StationDeskError("no admin", "数据库里没有可用的管理员账户。")
        return _actor(acct, code)
