"""数据交换: keys, trusted peers, exporting and importing bundles, conflicts
and cross-station duplicates — the use cases the page and the CLI call.

Roles: exporting and importing bundles, resolving conflicts and merging
duplicates need a supervisor (站长); trusting or revoking a peer and
exporting this station's public key need an administrator.

Export: the rows changed since the peer's watermark (``sync_peers.sent_seq``)
or everything (``full``), read in one consistent snapshot, written to a
temporary name and renamed when complete; the watermark moves only after the
file is complete.  Import: decrypt and authenticate the bundle first
(the container: every chunk, the signature by a trusted peer, the manifest),
check the format and schema revision, refuse a gap in the sender's sequence,
then merge every table in one transaction and record the bundle id, so a
second import of the same file changes nothing and a killed import leaves the
database as it was.  Each part's size, SHA-256 and line count are checked as
the merge reads it (the parts are read once): nothing commits before every
part has passed, and a damaged part is the reason given for a refusal
whatever else failed first.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from db.base import table_of
from db.clock import MAX_STAMP, ceiling, new_id, to_datetime, utcnow, valid_stamp
from db.engine import SQLITE_PRAGMAS, Database
from db.errors import StationDeskError, ValidationError
from db.models import (
    AuditLog,
    Certificate,
    CertificateRefusal,
    Household,
    LocalState,
    Matter,
    Need,
    NoticeLog,
    Resident,
    ResidentTag,
    Station,
    SyncBundle,
    SyncConflict,
    SyncDuplicate,
    SyncPeer,
    Volunteer,
)
from db.schema import SCHEMA_HEAD
from db.writes import bulk_insert
from db.localtime import to_local
from desktop import __version__
from desktop.services import accounts, audit, gcpause
from desktop.services.context import Actor
from desktop.services.sync import changes
from desktop.services.sync.container import BundleWriter, open_bundle
from desktop.services.sync.keys import (
    PeerKey,
    StationKeys,
    generate,
    load_key_file,
    peer_file_bytes,
    read_peer_file,
    save_key_file,
)
from desktop.services.sync.sealed import RESEND, BundleError
from desktop.services.sync.views import (
    BundleView,
    ConflictSide,
    ConflictView,
    DuplicateResident,
    DuplicateView,
    ExportResult,
    ImportResult,
    PeerView,
    Progress,
)

log = logging.getLogger(__name__)

FORMAT = "station-desk-sync/1"
BUNDLE_SUFFIX = ".sdbundle"
TRANSFER_ROLE = "supervisor"
TRUST_ROLE = "admin"
IMPORT_CACHE_KIB = -262144
SQLITE_CACHE_PRAGMA = next(p for p in SQLITE_PRAGMAS if "cache_size" in p)

__all__ = [
    "station_keys",
    "my_identity",
    "export_public_key",
    "read_peer_file",
    "trust_peer",
    "revoke_peer",
    "peers",
    "export_bundle",
    "import_bundle",
    "history",
    "conflicts",
    "resolve_conflict",
    "duplicates",
    "merge_duplicate",
    "dismiss_duplicate",
    "default_bundle_name",
    "key_path",
]


# ------------------------------------------------------------------ identity


def _station(s: Session) -> Station:
    return accounts.this_station(s, "站点尚未建立，不能进行数据交换。")


def _role(level: str) -> str:
    return "hub" if level == "street" else "station"


def key_path(db: Database) -> Path:
    """The private key file: beside the SQLite file, or (for a server
    database) in the user's data folder, named after the server."""
    if db.path is not None:
        return db.path.with_name(db.path.stem + ".keys.json")
    from desktop.paths import app_paths

    tag = hashlib.sha256(db.display_location().encode()).hexdigest()[:10]
    return app_paths().data / f"hub-{tag}.keys.json"


def station_keys(db: Database) -> StationKeys:
    """This station's key pairs, made and saved on first use."""
    path = key_path(db)
    with db.session() as s:
        st = _station(s)
        code, name, role = st.code, st.name, _role(st.level)
    if path.exists():
        keys = load_key_file(path)
        if keys.code != code:
            raise StationDeskError(
                f"key file {path} is for {keys.code}",
                f"密钥文件 {path.name} 属于站点 {keys.code}，不是本站（{code}）的。"
                "请把正确的密钥文件放回数据库旁边，或联系街道重新建立信任。",
            )
        return keys
    keys = generate(code, name[:64], role)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_key_file(keys, path)
    except OSError as e:
        raise StationDeskError(str(e), f"无法保存本站密钥文件：\n{path}\n\n{e.strerror or e}") from e
    log.info("made station keys in %s", path)
    return keys


def my_identity(db: Database) -> tuple[str, str, str, str]:
    keys = station_keys(db)
    return keys.code, keys.name, keys.role, keys.fingerprint


def export_public_key(db: Database, actor: Actor, out_path: str | Path) -> str:
    actor.require(TRUST_ROLE, "导出本站公钥")
    keys = station_keys(db)
    from desktop.services.sync._files import write_atomic

    try:
        write_atomic(Path(out_path), peer_file_bytes(keys.peer))
    except OSError as e:
        raise StationDeskError(str(e), f"无法写入公钥文件：\n{out_path}\n\n{e.strerror or e}") from e
    with db.session() as s:
        audit.record(s, "sync_key_export", actor, target_type="station")
    return keys.fingerprint


# ------------------------------------------------------------------ peers


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _peer_key(p: SyncPeer) -> PeerKey:
    return PeerKey(
        p.code, p.name, p.role, base64.b64decode(p.sign_pub), base64.b64decode(p.box_pub), p.fingerprint, p.revoked
    )


_local = to_local


def _peer_view(p: SyncPeer, last_seq: int) -> PeerView:
    echoed = sum(min(b, last_seq) - max(a, p.sent_seq + 1) + 1 for a, b in (p.echo or []) if b > p.sent_seq)
    return PeerView(
        p.code,
        p.name,
        p.role,
        p.fingerprint,
        p.revoked,
        _local(p.trusted_at),
        p.trusted_by,
        _local(p.last_export_at),
        _local(p.last_import_at),
        max(0, last_seq - p.sent_seq - echoed),
        p.acked_seq < p.sent_upto,
    )


def _last_seq(s: Session) -> int:
    return int(s.scalar(select(LocalState.seq).where(LocalState.id == 1)) or 0)


def trust_peer(db: Database, actor: Actor, peer: PeerKey) -> PeerView:
    """Trust a peer's keys (after both people read the fingerprint aloud).
    A new key file for a known station replaces its keys and keeps its
    watermarks; trusting it again lifts a revocation."""
    actor.require(TRUST_ROLE, "信任站点公钥")
    keys = station_keys(db)
    if peer.code == keys.code:
        raise ValidationError("peer", "这是本站自己的公钥文件，请导入对方站点的公钥文件。")
    if keys.role == "hub":
        _seed_catalogues(db)  # the hub's own entries exist before any station's copies arrive
    with db.session() as s:
        p = s.get(SyncPeer, peer.code)
        if p is None:
            p = SyncPeer(
                code=peer.code, sent_seq=0, sent_upto=0, echo=[], acked_seq=0, acked_hlc=0, recv_seq=0, recv_hlc=0
            )
            s.add(p)
        p.name, p.role = peer.name, peer.role
        p.sign_pub, p.box_pub, p.fingerprint = _b64(peer.sign_pub), _b64(peer.box_pub), peer.fingerprint
        p.revoked = False
        p.trusted_at, p.trusted_by = utcnow(), actor.display_name
        s.flush()
        audit.record(s, "sync_peer_trust", actor, target_type="station", peer=peer.code)
        return _peer_view(p, _last_seq(s))


def revoke_peer(db: Database, actor: Actor, code: str) -> None:
    actor.require(TRUST_ROLE, "注销站点密钥")
    with db.session() as s:
        p = s.get(SyncPeer, code)
        if p is None:
            raise ValidationError("peer", f"没有信任过站点 {code}。")
        p.revoked = True
        audit.record(s, "sync_peer_revoke", actor, target_type="station", peer=code)


def peers(db: Database) -> list[PeerView]:
    with db.session() as s:
        last = _last_seq(s)
        return [_peer_view(p, last) for p in s.scalars(select(SyncPeer).order_by(SyncPeer.code))]


def _trusted(s: Session) -> dict[str, PeerKey]:
    return {p.code: _peer_key(p) for p in s.scalars(select(SyncPeer))}


# ------------------------------------------------------------------ export


def default_bundle_name(db: Database, to: str, full: bool = False) -> str:
    with db.session() as s:
        me = _station(s).code
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{me}-至-{to}-{'完整-' if full else ''}{stamp}{BUNDLE_SUFFIX}"


def _json_default(v: Any) -> Any:
    if isinstance(v, (set, frozenset)):
        return sorted(v)
    raise TypeError(f"cannot encode {type(v).__name__}")


def export_bundle(
    db: Database, actor: Actor, to: str, out_path: str | Path, full: bool = False, progress: Progress | None = None
) -> ExportResult:
    """Write the changes ``to`` has not been sent yet (or everything) to
    ``out_path``; the peer's watermark moves only once the file is complete."""
    actor.require(TRANSFER_ROLE, "导出数据交换包")
    t0 = time.perf_counter()
    keys = station_keys(db)
    out_path = Path(out_path)
    bundle_id = new_id()
    counts: dict[str, int] = {}
    with db.session() as s:
        p = s.get(SyncPeer, to)
        if p is None:
            raise ValidationError("peer", f"还没有信任站点 {to}：请先导入它的公钥文件并核对指纹。")
        if p.revoked:
            raise ValidationError("peer", f"站点 {p.code}（{p.name}）的密钥已被注销，不能再向它导出数据。")
        # Written first, so the line travels in the very bundle it records.
        audit.record(s, "sync_export", actor, target_type="station", peer=to, full=full)
    with db.session() as s:
        if not db.is_sqlite:
            s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        me = _station(s)
        p = s.get(SyncPeer, to)
        assert p is not None
        state = s.get(LocalState, 1)
        assert state is not None
        upto, clock_hi = state.seq, state.hlc
        since = 0 if full else p.sent_seq
        declared_since = 0 if full else p.sent_upto
        hub_to_station = _role(me.level) == "hub" and p.role == "station"
        scope = changes.Scope(
            since=since,
            upto=upto,
            me=me.code,
            target=p.code,
            hub_to_station=hub_to_station,
            own_only=not hub_to_station,  # the rest is not ours to send (the receiver refuses it)
            # a full bundle is a fresh start (a new PC): everything, echoes too
            echo=() if full else tuple((a, b) for a, b in (p.echo or []) if b > since),
        )
        extra = changes.closure(s, scope)
        models = changes.travelling()
        manifest = {
            "format": FORMAT,
            "schema": SCHEMA_HEAD,
            "app_version": __version__,
            "bundle_id": str(bundle_id),
            "source": me.code,
            "source_name": me.name,
            "target": p.code,
            "created_at": utcnow().isoformat(),
            "full": full,
            "since_seq": declared_since,
            "upto_seq": upto,
            "clock_hi": clock_hi,
            # What we have applied from the target: its watermark on us, and our knowledge of its clock.
            "ack_seq": p.recv_seq,
            "ack_hlc": p.recv_hlc,
            "tables": [m.__tablename__ for m in models],
        }
        peer_key = _peer_key(p)
        done = 0
        # Bundle file first, watermark after: a pulled stick or full disk moves nothing.
        with BundleWriter(out_path, signer=keys, recipient=peer_key, manifest=manifest, default=_json_default) as w:
            for m in models:
                name = m.__tablename__
                label = changes.TABLE_LABELS.get(name, name)
                if progress:
                    progress(done, 0, f"正在导出：{label}")
                n = w.write_rows(name, changes.export_rows(s, m, scope, extra))
                counts[name] = n
                done += n
            w.manifest["counts"] = counts
            w.manifest["rows"] = done
        size = out_path.stat().st_size
    with db.session() as s:
        p = s.get(SyncPeer, to)
        assert p is not None
        p.sent_seq = max(p.sent_seq, upto)
        p.sent_upto = upto
        p.echo = [r for r in (p.echo or []) if r[1] > p.sent_seq]
        p.last_export_at = utcnow()
        s.add(
            SyncBundle(
                bundle_id=bundle_id,
                direction="out",
                peer=to,
                at=utcnow(),
                by=actor.display_name,
                file_name=out_path.name[:260],
                full=full,
                since_seq=since,
                upto_seq=upto,
                rows=done,
                size=size,
                counts=counts,
            )
        )
    if progress:
        progress(done, done, "导出完成")
    return ExportResult(bundle_id, str(out_path), to, full, done, counts, size, time.perf_counter() - t0)


# ------------------------------------------------------------------ import


def _schema_number(rev: Any) -> int:
    if not isinstance(rev, str) or not rev[:4].isdigit():
        raise BundleError(
            "bad_manifest", "数据交换包的清单不完整（缺少数据库版本），没有导入。\n" + RESEND, f"schema {rev!r}"
        )
    return int(rev[:4])


def _check_manifest(m: dict[str, Any], limit: int) -> None:
    """Format, schema and the numbers the import stores, before anything is
    touched; ``limit`` is the latest clock accepted (``db.clock.ceiling``)."""
    if m.get("format") != FORMAT:
        fmt = m.get("format")
        if isinstance(fmt, str) and fmt.startswith("station-desk-sync/"):
            raise BundleError(
                "too_new", "这个数据交换包由更新版本的社区一站通生成，请升级本程序后再导入。", f"format {fmt}"
            )
        raise BundleError("bad_manifest", "这不是社区一站通的数据交换包（格式不对），没有导入。", f"format {fmt!r}")
    if _schema_number(m.get("schema")) > _schema_number(SCHEMA_HEAD):
        raise BundleError(
            "schema_too_new",
            f"这个数据交换包来自更新版本的社区一站通（数据库版本 {m.get('schema')}，本机是 {SCHEMA_HEAD}）。"
            "请先升级本程序，再导入这个包。没有导入任何数据。",
            f"schema {m.get('schema')}",
        )
    for k in ("since_seq", "upto_seq", "ack_seq"):  # change numbers: anything a 64-bit column holds
        if not valid_stamp(m.get(k), MAX_STAMP):
            raise BundleError(
                "bad_manifest", "数据交换包的清单不完整或有不可能的编号，没有导入。\n" + RESEND, f"{k} = {m.get(k)!r}"
            )
    for k in ("clock_hi", "ack_hlc"):  # clocks: no later than the receiver's clock allows
        if not valid_stamp(m.get(k), limit):
            raise changes.bad_clock("清单所记", changes.clock_why(m.get(k), limit), f"manifest {k} = {m.get(k)!r}")
    try:
        uuid.UUID(str(m.get("bundle_id")))
    except ValueError:
        raise BundleError(
            "bad_manifest", "数据交换包的清单不完整（缺少包编号），没有导入。\n" + RESEND, "bundle_id"
        ) from None


def _backup_first(db: Database, settings: Any, actor: Actor) -> Any:
    """The backup before an import.  Its audit line is written by the import,
    in the import's transaction: a refused bundle leaves only the file (a copy
    of the unchanged database) and no line, no change number."""
    if settings is None or not db.is_sqlite or db.path is None:
        return None
    from desktop.services import backups

    return backups.create(db, actor, settings, reason="import", audit_line=False)


def import_bundle(
    db: Database,
    actor: Actor,
    path: str | Path,
    progress: Progress | None = None,
    *,
    settings: Any = None,
    temp_dir: str | Path | None = None,
) -> ImportResult:
    """Verify and apply a bundle addressed to this station (see the module
    docstring).  Any problem raises ``BundleError`` and changes nothing.
    With ``settings`` a SQLite station first makes a verified backup."""
    actor.require(TRANSFER_ROLE, "导入数据交换包")
    t0 = time.perf_counter()
    keys = station_keys(db)
    with db.session() as s:
        trusted = _trusted(s)
    if progress:
        progress(0, 0, "正在解密并校验数据交换包…")
    with open_bundle(path, keys, trusted.get, temp_dir=temp_dir) as b:
        try:
            return _import_opened(db, actor, b, progress, settings, t0)
        except Exception:
            # Parts are hashed as the import reads them, once: whatever failed
            # first, a damaged or altered part is the reason given, as when
            # every part was checked before anything else.
            b.verify_all()
            raise


def _import_opened(
    db: Database, actor: Actor, b: Any, progress: Progress | None, settings: Any, t0: float
) -> ImportResult:
    """``import_bundle`` once the bundle is open and authenticated: its
    parts' contents are checked as they are read, and ``b.verify_all``
    passes before the import commits (or reports it already in)."""
    m = b.manifest
    limit = ceiling()
    _check_manifest(m, limit)
    bundle_id = uuid.UUID(str(m["bundle_id"]))
    source = b.source.code
    with db.session() as s:
        if s.get(SyncBundle, bundle_id) is not None:
            b.verify_all()
            return ImportResult(bundle_id, source, b.source.name, True, 0, 0, 0, 0, 0, seconds=time.perf_counter() - t0)
        peer = s.get(SyncPeer, source)
        assert peer is not None
        if not m.get("full") and m["since_seq"] > peer.recv_seq:
            raise BundleError(
                "gap",
                f"站点 {b.source.label} 之前发来的数据交换包还没有导入（本站收到它的第 {peer.recv_seq} 号变更为止，"
                f"这个包从第 {m['since_seq'] + 1} 号开始）。请先导入更早的包；如果找不到了，"
                "请对方做一次“完整导出”。没有导入任何数据。",
                f"since {m['since_seq']} > received {peer.recv_seq}",
            )
    unknown = [p for p in b.parts() if changes.model_for(p) is None]
    if unknown:
        raise BundleError(
            "unknown_table",
            "数据交换包中有本程序不认识的数据，可能来自更新的版本。请升级本程序后再导入。",
            f"unknown parts {unknown}",
        )
    backup = _backup_first(db, settings, actor)
    total = sum((b.part(p).lines or 0) for p in b.parts())
    # A first import reads millions of rows, keeping a batch of them alive at
    # a time: the cyclic collector would keep walking every object of the
    # process meanwhile (reference counting still frees each row).
    with gcpause.paused():
        result = _apply(db, actor, b, m, bundle_id, source, total, progress, limit, backup)
    return ImportResult(
        bundle_id,
        source,
        b.source.name,
        False,
        *result,
        backup=str(backup.path) if backup else None,
        seconds=time.perf_counter() - t0,
    )


def _apply(
    db: Database,
    actor: Actor,
    b: Any,
    m: dict[str, Any],
    bundle_id: uuid.UUID,
    source: str,
    total: int,
    progress: Progress | None,
    limit: int,
    backup: Any,
) -> tuple[int, int, int, int, int, dict[str, dict[str, int]]]:
    done = 0
    per_table: dict[str, dict[str, int]] = {}
    try:
        with db.session() as s:
            if db.is_sqlite:
                # A first import writes a whole station: give its indexes room (256 MB,
                # this connection only, back to the default when done).
                s.connection().exec_driver_sql(f"PRAGMA cache_size={IMPORT_CACHE_KIB}")
            me = _station(s)
            peer = s.get(SyncPeer, source)
            assert peer is not None
            # Our hub may write any record here; anyone else only its own.
            ctx = changes.MergeContext(
                me=me.code,
                source=source,
                authority=peer.role == "hub" and _role(me.level) != "hub",
                ack_hlc=m["ack_hlc"],
                recv_hlc=peer.recv_hlc,
                clock_limit=limit,
                names={**{p.code: p.name for p in s.scalars(select(SyncPeer))}, me.code: me.name},
            )
            for model in changes.travelling():
                name = model.__tablename__
                if name not in b.parts():
                    continue
                label = changes.TABLE_LABELS.get(name, name)

                def tick(n: int, label: str = label) -> None:
                    nonlocal done
                    done += n
                    if progress:
                        progress(done, total, f"正在导入：{label}")

                if progress:
                    progress(done, total, f"正在导入：{label}")
                batches = b.row_batches(name, changes.BATCH)
                c = changes.apply_table(s, model, batches, ctx, tick, b.part(name).lines or 0)
                per_table[name] = c.as_dict()
            b.verify_all()  # every part read above is checked; any other is checked now, before the commit
            changes.check_conflict_records(s, ctx)
            if progress:
                progress(done, total, "正在查找疑似重复居民…")
            if backup is not None:
                audit.record(s, "backup_create", actor, **backup.extra["audit"])
            n_conflicts = _record_conflicts(s, ctx)
            n_dups = _flag_duplicates(s, ctx, bundle_id)
            new = sum(c["new"] for c in per_table.values())
            updated = sum(c["updated"] for c in per_table.values())
            unchanged = sum(c["unchanged"] for c in per_table.values())
            if m.get("full") or m["upto_seq"] > peer.recv_seq:
                peer.recv_seq = m["upto_seq"]
            peer.recv_hlc = max(peer.recv_hlc, m["clock_hi"])
            peer.acked_seq = max(peer.acked_seq, m["ack_seq"])
            peer.acked_hlc = max(peer.acked_hlc, m["ack_hlc"])
            peer.last_import_at = utcnow()
            # Rows now exactly as the peer sent them are not echoed back to it.
            peer.echo = [r for r in (peer.echo or []) if r[1] > peer.sent_seq] + ctx.echo
            audit.record(
                s,
                "sync_import",
                actor,
                target_type="station",
                peer=source,
                new=new,
                updated=updated,
                conflicts=n_conflicts,
                duplicates=n_dups,
            )
            s.flush()
            if db.is_sqlite:
                s.connection().exec_driver_sql(SQLITE_CACHE_PRAGMA)
            if progress:
                progress(done, total, "正在保存…")
            s.add(
                SyncBundle(
                    bundle_id=bundle_id,
                    direction="in",
                    peer=source,
                    at=utcnow(),
                    by=actor.display_name,
                    file_name=Path(str(b.path)).name[:260],
                    full=bool(m.get("full")),
                    since_seq=m["since_seq"],
                    upto_seq=m["upto_seq"],
                    rows=done,
                    size=_size(b.path),
                    counts={
                        "tables": per_table,
                        "new": new,
                        "updated": updated,
                        "unchanged": unchanged,
                        "conflicts": n_conflicts,
                        "duplicates": n_dups,
                    },
                )
            )
    except IntegrityError as e:
        log.warning("bundle %s refused: %s", bundle_id, type(e.orig).__name__)
        raise BundleError(
            "bad_reference",
            "数据交换包中有记录指向本站没有的记录（例如事项所属的居民不存在），或与本站已有记录的编号重复，"
            "整个包没有导入，本站数据没有任何变化。\n如果对方之前的包没有导入过，请先导入；否则请对方做一次“完整导出”。",
            str(e.orig)[:200],
        ) from None
    except OperationalError as e:
        if "full" in str(e.orig).lower() or "disk" in str(e.orig).lower():
            raise BundleError(
                "disk_full",
                "磁盘空间不足，数据交换包没有导入，本站数据没有任何变化。请清理磁盘后重试。",
                str(e.orig)[:200],
            ) from None
        raise
    return new, updated, unchanged, n_conflicts, n_dups, per_table


def _size(path: Any) -> int:
    try:
        return Path(str(path)).stat().st_size
    except OSError:
        return 0


def _seed_catalogues(db: Database) -> None:
    from desktop.services import certificates, counter, volunteers, workdays

    counter.ensure_catalogue(db)
    certificates.ensure_catalogue(db)
    volunteers.ensure_skills(db)
    workdays.ensure_seeded(db)


def _record_conflicts(s: Session, ctx: changes.MergeContext) -> int:
    if not ctx.conflicts:
        return 0
    wanted = {c["id"]: c for c in ctx.conflicts}
    have = set(s.scalars(select(SyncConflict.id).where(SyncConflict.id.in_(list(wanted)))))
    fresh = [c for i, c in wanted.items() if i not in have]
    bulk_insert(s, SyncConflict, fresh)
    return len(fresh)


def _flag_duplicates(s: Session, ctx: changes.MergeContext, bundle_id: uuid.UUID) -> int:
    """New residents whose document number another live record here carries:
    one query per 500 of them (a first import brings a whole station)."""
    s.flush()
    n = 0
    rows = ctx.new_residents
    if ctx.residents_were_empty:  # nothing was here: only the new records can share a number
        by_doc: dict[str, list[uuid.UUID]] = {}
        for r in rows:
            by_doc.setdefault(r["doc_number"], []).append(r["id"])
        for ids in by_doc.values():
            for other in ids[1:]:
                s.add(
                    SyncDuplicate(
                        resident_a=ids[0], resident_b=other, found_at=ctx.found_at, bundle_id=bundle_id, status="open"
                    )
                )
                n += 1
        return n
    for i in range(0, len(rows), 500):
        chunk = rows[i : i + 500]
        holders: dict[str | None, list[uuid.UUID]] = {}
        for rid, doc in s.execute(
            select(Resident.id, Resident.doc_number).where(
                Resident.doc_number.in_({r["doc_number"] for r in chunk}),
                Resident.deleted.is_(False),
                Resident.merged_into_id.is_(None),
            )
        ):
            holders.setdefault(doc, []).append(rid)
        found = [(other, r["id"]) for r in chunk for other in holders.get(r["doc_number"], []) if other != r["id"]]
        if not found:
            continue
        pair_ids = {x for pair in found for x in pair}
        known = {
            frozenset(p)
            for p in s.execute(
                select(SyncDuplicate.resident_a, SyncDuplicate.resident_b).where(
                    SyncDuplicate.resident_a.in_(pair_ids) | SyncDuplicate.resident_b.in_(pair_ids)
                )
            )
        }
        for other, new in found:
            if frozenset((other, new)) in known:
                continue
            known.add(frozenset((other, new)))
            s.add(
                SyncDuplicate(
                    resident_a=other, resident_b=new, found_at=ctx.found_at, bundle_id=bundle_id, status="open"
                )
            )
            n += 1
    return n


# ------------------------------------------------------------------ history


def history(db: Database, limit: int = 200) -> list[BundleView]:
    with db.session() as s:
        names = {p.code: p.name for p in s.scalars(select(SyncPeer))}
        rows = s.scalars(select(SyncBundle).order_by(SyncBundle.at.desc()).limit(limit)).all()
        return [
            BundleView(
                r.bundle_id,
                r.direction,
                r.peer,
                names.get(r.peer, r.peer),
                _local(r.at) or r.at,
                r.by,
                r.file_name,
                r.full,
                r.rows,
                r.size,
                dict(r.counts or {}),
            )
            for r in rows
        ]


# ------------------------------------------------------------------ conflicts


def _show(v: Any, field: str) -> str:
    try:
        value = orjson.loads(v) if isinstance(v, str) else v
    except ValueError:
        value = v
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if field == "doc_number" and isinstance(value, str):
        from desktop.services.idnumbers import mask

        return mask(value)
    if field == "gender":
        return {0: "未知", 1: "男", 2: "女", 9: "未说明"}.get(value, str(value))
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return str(value)


def _record_label(s: Session, table: str, row_id: uuid.UUID) -> str:
    model = changes.model_for(table)
    if model is None:
        return str(row_id)[:8]
    t = table_of(model)
    cols = [t.c[c] for c in ("name", "title", "receipt_no", "number", "matter_name", "code") if c in t.c]
    found = s.execute(select(*cols).where(t.c.id == row_id)).first() if cols else None
    return next((str(v) for v in (found or ()) if v), str(row_id)[:8])


def _current(s: Session, table: str, row_id: uuid.UUID, column: str) -> Any:
    model = changes.model_for(table)
    if model is None or column not in table_of(model).c:
        return None
    t = table_of(model)
    return s.scalar(select(t.c[column]).where(t.c.id == row_id))


def _changed_by(s: Session, row_id: uuid.UUID, station: str, clock: int) -> str:
    """Who made a change: the audit line that station wrote for the record at
    that moment (audit lines travel to the hub; a station does not get the hub's)."""
    when = to_datetime(clock).replace(tzinfo=None)
    q = select(AuditLog.actor_name, AuditLog.at).where(
        AuditLog.target_id == row_id,
        AuditLog.origin == station,
        AuditLog.at.between(when - timedelta(seconds=5), when + timedelta(seconds=5)),
    )
    best = min(s.execute(q).all(), key=lambda r: abs((r.at - when).total_seconds()), default=None)
    return (best.actor_name or "") if best else ""


def conflicts(db: Database, status: str | None = "open") -> list[ConflictView]:
    with db.session() as s:
        names = {st.code: st.name for st in s.scalars(select(Station))}
        names.update({p.code: p.name for p in s.scalars(select(SyncPeer))})
        q = select(SyncConflict).where(SyncConflict.deleted.is_(False)).order_by(SyncConflict.found_at.desc())
        if status:
            q = q.where(SyncConflict.status == status)
        out = []
        for c in s.scalars(q):
            cur = _current(s, c.table_name, c.row_id, c.field)
            out.append(
                ConflictView(
                    c.id,
                    c.table_name,
                    changes.TABLE_LABELS.get(c.table_name, c.table_name),
                    c.row_id,
                    _record_label(s, c.table_name, c.row_id),
                    c.field,
                    changes.FIELD_LABELS.get(c.field, c.field),
                    ConflictSide(
                        _show(c.value_a, c.field),
                        c.station_a,
                        names.get(c.station_a, c.station_a),
                        _local(to_datetime(c.clock_a).replace(tzinfo=None)),
                        _changed_by(s, c.row_id, c.station_a, c.clock_a),
                    ),
                    ConflictSide(
                        _show(c.value_b, c.field),
                        c.station_b,
                        names.get(c.station_b, c.station_b),
                        _local(to_datetime(c.clock_b).replace(tzinfo=None)),
                        _changed_by(s, c.row_id, c.station_b, c.clock_b),
                    ),
                    _show(_jsonable(cur), c.field),
                    c.status,
                    _local(c.found_at) or c.found_at,
                    c.resolved_by,
                )
            )
        return out


def _jsonable(v: Any) -> Any:
    return orjson.dumps(v).decode()


def resolve_conflict(db: Database, actor: Actor, conflict_id: uuid.UUID, keep: str) -> None:
    """Keep value ``a`` (the one in force) or ``b``.  Keeping ``b`` writes it
    back as a new change, which then travels and wins everywhere.  Keeping
    ``a`` writes nothing: it is in force already, and when the record was
    edited again after the conflict was found, that later edit stands."""
    actor.require(TRANSFER_ROLE, "处理数据冲突")
    if keep not in ("a", "b"):
        raise ValueError(keep)
    with db.session() as s:
        c = s.get(SyncConflict, conflict_id)
        if c is None:
            raise ValidationError("conflict", "找不到这条冲突记录。")
        model = changes.model_for(c.table_name)
        if model is None:
            raise ValidationError("conflict", "冲突记录所属的数据表不存在。")
        obj = s.get(model, c.row_id)
        if obj is None:
            raise ValidationError("conflict", "冲突所属的记录已不存在。")
        raw = c.value_a if keep == "a" else c.value_b
        cd = changes.codec(model)  # type: ignore[arg-type]  # mypy takes a class object for unhashable here
        value = orjson.loads(raw)
        if value is not None:
            value = cd.converters[c.field](value)
        if keep == "b":
            setattr(obj, c.field, value)
            # a new local change: the flush stamps it later than both sides
            from sqlalchemy.orm.attributes import flag_modified

            flag_modified(obj, c.field)
        c.status = f"kept_{keep}"
        c.resolved_at, c.resolved_by = utcnow(), actor.display_name
        audit.record(
            s, "sync_conflict_resolve", actor, target_type=c.table_name, target_id=c.row_id, field=c.field, keep=keep
        )


# ------------------------------------------------------------------ duplicates

REFERENCING = (
    (Matter, "resident_id"),
    (Certificate, "resident_id"),
    (Need, "resident_id"),
    (Volunteer, "resident_id"),
    (ResidentTag, "resident_id"),
    (Household, "head_id"),
)
APPEND_ONLY_REFS = ((NoticeLog, "resident_id"), (CertificateRefusal, "resident_id"))


def _dup_resident(s: Session, rid: uuid.UUID, names: dict[str, str]) -> DuplicateResident:
    from desktop.services.idnumbers import mask

    r = s.get(Resident, rid)
    if r is None:
        return DuplicateResident(rid, "（不存在）", "", "", "", "", "", 0, True)
    refs = sum(
        int(s.scalar(select(func.count()).select_from(m).where(getattr(m, col) == rid, m.deleted.is_(False))) or 0)
        for m, col in REFERENCING
    )
    phone = r.phone or ""
    masked_phone = phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else ("*" * len(phone))
    home = r.address_text or ""
    if r.household_id:
        h = s.get(Household, r.household_id)
        if h is not None and h.number:
            home = f"户号 {h.number} {home}".strip()
    return DuplicateResident(
        r.id, r.name, mask(r.doc_number), r.origin, names.get(r.origin, r.origin), home, masked_phone, refs, r.deleted
    )


def duplicates(db: Database, status: str | None = "open") -> list[DuplicateView]:
    with db.session() as s:
        names = {st.code: st.name for st in s.scalars(select(Station))}
        q = select(SyncDuplicate).order_by(SyncDuplicate.found_at.desc())
        if status:
            q = q.where(SyncDuplicate.status == status)
        return [
            DuplicateView(
                d.id,
                _dup_resident(s, d.resident_a, names),
                _dup_resident(s, d.resident_b, names),
                _local(d.found_at) or d.found_at,
                d.status,
                d.survivor_id,
            )
            for d in s.scalars(q)
        ]


def merge_duplicate(db: Database, actor: Actor, dup_id: int, survivor_id: uuid.UUID) -> None:
    """One record survives; every mutable reference moves to it; the other
    becomes a tombstone pointing at it.  Append-only records (notices,
    refusals) keep pointing at the tombstone, which leads to the survivor."""
    actor.require(TRANSFER_ROLE, "合并重复居民")
    with db.session() as s:
        d = s.get(SyncDuplicate, dup_id)
        if d is None or d.status != "open":
            raise ValidationError("duplicate", "这条疑似重复记录已经处理过了。")
        if survivor_id not in (d.resident_a, d.resident_b):
            raise ValueError("survivor is not one of the pair")
        loser_id = d.resident_b if survivor_id == d.resident_a else d.resident_a
        survivor, loser = s.get(Resident, survivor_id), s.get(Resident, loser_id)
        if survivor is None or loser is None or survivor.deleted:
            raise ValidationError("duplicate", "要保留的居民记录已不存在或已删除。")
        for m, col in REFERENCING:
            for obj in s.scalars(select(m).where(getattr(m, col) == loser_id)):
                if isinstance(obj, ResidentTag) and s.scalar(
                    select(func.count())
                    .select_from(ResidentTag)
                    .where(ResidentTag.resident_id == survivor_id, ResidentTag.tag == obj.tag)
                ):
                    obj.deleted = True  # the survivor already carries this tag
                    continue
                setattr(obj, col, survivor_id)
        # fill what the survivor lacks from the other record
        for f in (
            "phone",
            "birth_date",
            "household_id",
            "address_text",
            "estate",
            "building",
            "unit",
            "room",
            "village_group",
            "house_number",
            "grid",
            "ethnicity",
        ):
            if getattr(survivor, f) in (None, "") and getattr(loser, f) not in (None, ""):
                setattr(survivor, f, getattr(loser, f))
        loser.merged_into_id = survivor_id
        loser.deleted = True
        d.status, d.survivor_id = "merged", survivor_id
        d.decided_at, d.decided_by = utcnow(), actor.display_name
        audit.record(s, "resident_merge", actor, target_type="resident", target_id=survivor_id, merged=str(loser_id))


def dismiss_duplicate(db: Database, actor: Actor, dup_id: int) -> None:
    actor.require(TRANSFER_ROLE, "处理疑似重复居民")
    with db.session() as s:
        d = s.get(SyncDuplicate, dup_id)
        if d is None or d.status != "open":
            raise ValidationError("duplicate", "这条疑似重复记录已经处理过了。")
        d.status = "dismissed"
        d.decided_at, d.decided_by = utcnow(), actor.display_name
        audit.record(s, "resident_duplicate_dismiss", actor, target_type="resident", target_id=d.resident_a)
