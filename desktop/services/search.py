"""Search-as-you-type over residents.

SQLite cannot answer "两个汉字 anywhere in a name, or the last digits of an
ID number, or a phone fragment" from an index, and a full scan of 100 000
rows costs 15–30 ms per field (measured on the demo station), so the search
keeps a compact in-memory copy of the searchable fields: one UTF-8 blob per
field with NUL separators.  ``bytes.find`` walks a blob at memory speed, the
separators counted since the last hit say whose value it is, and a prefix
match is a find of NUL + query.  An ID number's tail is found by bisection in
the positions ordered by the number read backwards; a field none of whose
values holds a character of the query (or so long a number) is not read; and
the weakest field (address, pinyin fragment) is not read once the stronger
ones filled the first page.  The copy follows the database by the local
change sequence: before each search, rows with ``seq`` above the last one
seen are read again (an indexed query), so edits from this window, the CLI or
a sync import all show.

Nothing is kept per resident as Python objects (100 000 rows of tuples held
~176 MB; a dict from id to slot alone ~17 MB): the blobs are the store, and
the slots ordered by id find a resident's slot.  A resident has a stable slot
(the result lists keep slots); its values sit at a position in the blobs,
and an edit appends the new values and leaves the old ones dead (compacted
when half are).
Gender, birth date, status and station are arrays by slot; the order by
pinyin, then name, is one array computed when first needed after a change.

Results come back best first: an exact name, an ID-number tail or a whole
phone number before a name prefix, initials, pinyin, then fragments of a
name, phone or address; current residents before moved-out or deceased ones.
"""

from __future__ import annotations

import heapq
import re
import sys
import threading
import unicodedata
import uuid
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, String, func, select, type_coerce

from db.engine import Database
from db.models import Resident, Station
from desktop.services.idnumbers import mask

if TYPE_CHECKING:
    from typing_extensions import Unpack

SEP = b"\x00"
_DIGIT_RUN = re.compile(rb"[0-9x]+")  # what _is_number accepts, in lower case
_LETTERS_THEN_DIGITS = re.compile(r"^([a-z]+)(\d{3,}x?)$")
MAX_PER_FIELD = 3000  # hits examined per field; enough for ranking the first page


@dataclass(frozen=True)
class Hit:
    id: uuid.UUID
    name: str
    gender: int
    birth_date: date | None
    doc_masked: str
    phone: str
    address: str
    status: str  # "" | "已迁出" | "已故"
    matched: str  # which field matched, in Chinese
    score: int
    origin: str = ""  # code of the station that registered the resident (a hub holds several)


def normalize_query(q: str) -> str:
    # no NUL: it separates the values in the index (and cannot be typed)
    return "".join(unicodedata.normalize("NFKC", q or "").replace("\x00", "").split()).lower()


def _is_number(q: str) -> bool:
    """Digits, or an ID number's tail ending in X."""
    return q.isdigit() or (len(q) > 1 and q[:-1].isdigit() and q[-1] == "x")


def _kind(q: str) -> str:
    return "number" if _is_number(q) else "letters" if q.isascii() and q.isalpha() else "text"


def query_parts(query: str) -> list[str]:
    """The parts of a query that must all match, normalized.

    Words of different kinds combine: ``lfy 0304`` is initials AND an ID tail
    (so is ``lfy0304`` and ``刘芳 0304``).  Neighbouring words of one kind stay
    one part, as before: ``王 秀英`` is the name 王秀英, ``138 1234 5678`` a phone.
    """
    words = [normalize_query(w) for w in unicodedata.normalize("NFKC", query or "").split()]
    if len(words) == 1:
        m = _LETTERS_THEN_DIGITS.match(words[0])
        if m:
            words = [m.group(1), m.group(2)]
    parts: list[str] = []
    for w in words:
        if parts and _kind(parts[-1]) == _kind(w):
            parts[-1] += w
        else:
            parts.append(w)
    return parts


def _key(rid: str | uuid.UUID) -> bytes:
    """A resident id's 16 bytes, from the driver's text (SQLite: 32 hex
    digits; some PostgreSQL drivers: with dashes) or a UUID."""
    return rid.bytes if isinstance(rid, uuid.UUID) else bytes.fromhex(rid.replace("-", ""))


def _ordinal(birth: str | date | None) -> int:
    """A birth date (ISO text or a date) as its ordinal; 0 when unknown."""
    if not birth:
        return 0
    return (date.fromisoformat(birth) if isinstance(birth, str) else birth).toordinal()


class _Blob:
    """Values of one field, NUL-separated, at positions (one per value
    appended), with start offsets."""

    def __init__(self) -> None:
        self.data = bytearray(SEP)
        self.starts = array("i")  # byte offsets (4 bytes each: a blob stays far below 2 GiB)
        # What any value holds, read from the bytes appended since last asked
        # (see may_contain): every character, and the longest run of digits.
        self._chars: set[str] = set()
        self._digit_run = 0
        self._read_to = 0

    def append(self, raw: bytes) -> None:
        self.starts.append(len(self.data))
        self.data += raw
        self.data += SEP

    def raw(self, pos: int) -> bytes:
        start = self.starts[pos]
        return bytes(self.data[start : self.data.index(SEP, start)])

    def value(self, pos: int) -> str:
        return self.raw(pos).decode("utf-8")

    def nbytes(self) -> int:
        return len(self.data) + len(self.starts) * self.starts.itemsize

    def may_contain(self, needle: str) -> bool:
        """False when no value can contain ``needle``: it has a character no
        value has, or is a number longer than any value's run of digits.
        A quick answer for the fields searched anywhere in the value (an
        address, most of all): a miss would otherwise read every byte."""
        data = self.data
        while self._read_to < len(data):  # 64 KiB at a time (not kept by malloc), cut after a separator
            end = data.find(SEP, self._read_to + (1 << 16))
            end = len(data) if end == -1 else end + 1
            new = bytes(data[self._read_to : end])
            self._chars.update(new.decode("utf-8"))
            self._digit_run = max(self._digit_run, max(map(len, _DIGIT_RUN.findall(new)), default=0))
            self._read_to = end
        if needle.isascii() and _is_number(needle):
            return len(needle) <= self._digit_run
        return all(c in self._chars for c in needle)

    def carry_from(self, old: _Blob) -> None:
        """After copying ``old``'s live values here: what ``old`` held is a
        superset of what this holds, so may_contain stays right."""
        old.may_contain("")
        self._chars, self._digit_run, self._read_to = set(old._chars), old._digit_run, len(self.data)

    def find(self, needle: str, prefix: bool, cap: int = MAX_PER_FIELD) -> list[tuple[int, int]]:
        """Positions whose value contains (or starts with) ``needle``, at most
        ``cap`` of them; with where: 0 inside, 1 at the start, 2 the whole value."""
        if not prefix and needle and not self.may_contain(needle):
            return []
        nb = needle.encode("utf-8")
        if prefix:
            nb = SEP + nb
        out: list[tuple[int, int]] = []
        data, starts, size = self.data, self.starts, len(nb)
        find, count, append = data.find, data.count, out.append
        n = len(starts)
        if cap <= 0 or not n:
            return out
        # Walking forward, the position of a hit is the number of separators
        # before it (counted from the last hit, not searched from the start),
        # and the next search starts at the following value: a value holding
        # the needle twice is one hit, as it was when later finds were skipped.
        pos_no, counted_to = -1, 0
        pos = find(nb, 0 if prefix else 1)  # byte 0 is the separator before the first value
        while pos != -1:
            at = pos + 1 if prefix else pos
            pos_no += count(SEP, counted_to, at)
            counted_to = at
            append((pos_no, (2 if data[pos + size] == 0 else 1) if at == starts[pos_no] else 0))
            if len(out) >= cap or pos_no + 1 >= n:
                break
            # the next value's separator (a prefix needle starts with it)
            pos = find(nb, starts[pos_no + 1] - 1 if prefix else starts[pos_no + 1])
        return out


# The fields, the ID number and the address in lower case (as searched); the
# few values that differ from their lower case are kept as typed beside them
# (``_Blobs.typed``), not a second copy of every ID number and address.
_BLOBS = ("name", "pinyin", "initials", "phone", "doc_low", "address_low")
_AS_TYPED = {"doc_low": 0, "address_low": 1}
STATUSES = ("", "已迁出", "已故", "deleted")
_DELETED = 3


class _Blobs(dict):
    """The blobs by name, with where each slot's values are (``pos``, -1:
    deleted) and whose values sit at each position (``owner``, -1: old).
    One object, so a compaction swaps all of it at once: list views read
    hits on the GUI thread while the worker refreshes."""

    def __init__(self, pos: array | None = None) -> None:
        super().__init__((k, _Blob()) for k in _BLOBS)
        self.pos = pos if pos is not None else array("i")
        self.owner = array("i")
        # positions by their ID number read backwards (for the tail search),
        # covering the first ``tails_n`` positions
        self.tails = array("i")
        self.tails_n = 0
        self.typed: dict[tuple[int, int], str] = {}  # (position, 0 doc / 1 address) -> value as typed

    def shown(self, field: str, pos: int) -> str:
        """A value as typed (an ID number or address with capitals, rarely)."""
        value = self.typed.get((pos, _AS_TYPED[field])) if field in _AS_TYPED else None
        return self[field].value(pos) if value is None else value


class _Slots:
    """Resident id -> slot with no object per resident (a dict of 16-byte keys
    held ~17 MB at 100 000 residents): the ids are the index's 16 bytes per
    slot, ``sorted`` the slots in the order of their ids (found by bisection),
    and ``recent`` a small dict of the slots added since it was sorted."""

    MERGE_AT = 4096

    def __init__(self, ids: bytearray):
        self.ids = ids
        self.sorted = array("i")
        self.recent: dict[bytes, int] = {}

    def _id(self, slot: int) -> bytes:
        return bytes(self.ids[slot * 16 : slot * 16 + 16])

    def find(self, key: bytes) -> int | None:
        slot = self.recent.get(key)
        if slot is None:
            order = self.sorted
            i = bisect_left(order, key, key=self._id)
            if i < len(order) and self._id(order[i]) == key:
                slot = order[i]
        return slot

    def get(self, rid: uuid.UUID | None, default: int | None = None) -> int | None:
        slot = None if rid is None else self.find(rid.bytes)
        return default if slot is None else slot

    def add(self, slots: list[int]) -> None:
        """Slots just given ids (each id new to the index)."""
        if len(self.recent) + len(slots) <= self.MERGE_AT:
            self.recent = {**self.recent, **{self._id(s): s for s in slots}}  # swapped whole: readers on other threads
        else:
            self.sorted = array("i", sorted([*self.sorted, *self.recent.values(), *slots], key=self._id))
            self.recent = {}

    def nbytes(self) -> int:
        return len(self.sorted) * self.sorted.itemsize + sys.getsizeof(self.recent) + 49 * len(self.recent)


_TOP_SEQ = f"SELECT max(seq) FROM {Resident.__tablename__}"


class ResidentIndex:
    """The in-memory search copy of one database's residents."""

    def __init__(self, db: Database):
        self.db = db
        self.watermark = 0
        self._ids = bytearray()  # 16 bytes per slot
        self.slot_of = _Slots(self._ids)
        self._gender = array("b")
        self._birth = array("i")  # date ordinal, 0 = unknown
        self._status = array("b")  # index into STATUSES
        self._origin = array("H")  # index into _origin_codes
        self._dead = 0
        self._origin_codes: list[str] = []
        self.origins: set[str] = set()
        self.station_names: dict[str, str] = {}
        self._blobs: _Blobs | None = None  # set by the first refresh
        self._order: array | None = None  # slots by (pinyin, name); None after a change
        self._rank: array | None = None  # slot -> place in _order
        self._lock = threading.Lock()

    # ------------------------------------------------------------ loading
    def refresh(self) -> int:
        """Read residents changed since the last refresh; returns how many."""
        with self._lock:
            if self._blobs is not None:
                # before each keystroke: nothing new, asked in plain SQL on a
                # bare connection (a fifth of an ORM session's cost)
                with self.db.engine.connect() as c:
                    if (c.exec_driver_sql(_TOP_SEQ).scalar() or 0) <= self.watermark:
                        return 0
            with self.db.session() as s:
                top = s.scalar(select(func.max(Resident.seq))) or 0
                if top <= self.watermark and self._blobs is not None:
                    return 0
                self.station_names = {c: n for c, n in s.execute(select(Station.code, Station.name))}
                # in chunks: 100 000 rows read at once left ~50 MB of freed
                # but fragmented memory behind.  Plain rows (Core, not the
                # ORM) with the id and birth date as the driver gives them
                # (text in SQLite): no UUID or date object per resident, a
                # third of the time (see _key, _ordinal)
                result = s.connection().execute(
                    select(
                        type_coerce(Resident.id, String),
                        Resident.name,
                        Resident.gender,
                        type_coerce(Resident.birth_date, String),
                        Resident.doc_number,
                        Resident.phone,
                        Resident.address_text,
                        Resident.moved_out,
                        Resident.deceased,
                        Resident.pinyin,
                        Resident.initials,
                        Resident.deleted,
                        Resident.origin,
                    )
                    .where(Resident.seq > self.watermark)
                    .execution_options(yield_per=2000)
                )
                if self._blobs is None:
                    self._blobs = _Blobs()
                count, new = 0, list[int]()
                for chunk in result.partitions():
                    count += len(chunk)
                    self._load(chunk, new)
                self.slot_of.add(new)
            if count:
                self._order = self._rank = None
            if self._dead > max(1000, len(self._owner) // 2):
                self._compact()
            self.watermark = max(top, self.watermark)
            return count

    def _load(self, rows: Sequence[Row[Unpack[tuple[Any, ...]]]], new: list[int]) -> None:
        """Rows into the index; the slots made for ids not seen before go to
        ``new`` (one read holds each id once, so they need no lookup yet)."""
        for rid, name, gender, birth, doc, phone, addr, moved, dead, py, ini, deleted, origin in rows:
            key = _key(rid)
            slot = self.slot_of.find(key)
            if deleted:
                if slot is not None:
                    self._drop(slot)
                    self._pos[slot] = -1
                    self._status[slot] = _DELETED
                continue
            self.origins.add(origin)
            if origin not in self._origin_codes:
                self._origin_codes.append(origin)
            status = 2 if dead else (1 if moved else 0)
            facts = (gender or 0, _ordinal(birth), status, self._origin_codes.index(origin))
            if slot is None:
                slot = len(self._status)
                new.append(slot)
                self._ids += key
                self._pos.append(-1)
                for arr, v in zip((self._gender, self._birth, self._status, self._origin), facts, strict=True):
                    arr.append(v)
            else:
                self._drop(slot)
                self._gender[slot], self._birth[slot], self._status[slot], self._origin[slot] = facts
            self._pos[slot] = self._append(slot, (name or "", py or "", ini or "", doc or "", phone or "", addr or ""))

    # where each slot's values are, and whose values are where (see _Blobs)
    _pos = property(lambda self: self._blobs.pos)
    _owner = property(lambda self: self._blobs.owner)

    def _append(self, slot: int, values: tuple[str, ...]) -> int:
        name, py, ini, doc, phone, addr = values
        blobs = self._blobs
        assert blobs is not None
        pos = len(self._owner)
        doc_low, addr_low = doc.lower(), addr.lower()
        for k, v in zip(_BLOBS, (name, py, ini, phone, doc_low, addr_low), strict=True):
            blobs[k].append(v.encode("utf-8"))
        if doc != doc_low:
            blobs.typed[pos, 0] = doc
        if addr != addr_low:
            blobs.typed[pos, 1] = addr
        self._owner.append(slot)
        return pos

    def _drop(self, slot: int) -> None:
        pos = self._pos[slot]
        if pos >= 0:
            self._owner[pos] = -1
            self._dead += 1

    def _compact(self) -> None:
        """Copy the live values into fresh blobs, dropping the old ones."""
        old = self._blobs
        assert old is not None
        new = _Blobs(array("i", old.pos))
        for slot, pos in enumerate(old.pos):
            if pos >= 0:
                for k in _BLOBS:
                    new[k].append(old[k].raw(pos))
                for i in (0, 1):
                    if (pos, i) in old.typed:
                        new.typed[len(new.owner), i] = old.typed[pos, i]
                new.owner.append(slot)
                new.pos[slot] = len(new.owner) - 1
        for k in _BLOBS:
            new[k].carry_from(old[k])
        self._blobs, self._dead = new, 0

    def warm(self) -> None:
        """Load every resident and order them now (on the worker, after
        sign-in), so the first keystroke in any search box does not pay for it."""
        self.refresh()
        with self._lock:
            self._ranks()
            if self._blobs is not None:  # ready now, not at the first keystroke
                self._tail_order(self._blobs)
                for blob in self._blobs.values():
                    blob.may_contain("")

    def _ranks(self) -> array:
        """Each slot's place in the order by pinyin, then name (UTF-8 bytes
        sort as the characters do); the tie-break of every result list."""
        if self._rank is None:
            blobs = self._blobs
            assert blobs is not None
            py, nm = blobs["pinyin"], blobs["name"]
            keys = [py.raw(p) + SEP + nm.raw(p) if p >= 0 else b"" for p in self._pos]
            self._order = array("i", sorted(range(len(keys)), key=keys.__getitem__))
            rank = array("i", bytes(4 * len(keys)))
            for i, slot in enumerate(self._order):
                rank[slot] = i
            self._rank = rank
        return self._rank

    def memory_bytes(self) -> int:
        """Roughly what the copy holds (for the benchmark)."""
        blobs = self._blobs
        arrays = (
            self._gender,
            self._birth,
            self._status,
            self._origin,
            self._order,
            self._rank,
            blobs.pos if blobs else None,
            blobs.owner if blobs else None,
            blobs.tails if blobs else None,
        )
        return (
            sum(b.nbytes() for b in (self._blobs or {}).values())
            + len(self._ids)
            + sum(len(a) * a.itemsize for a in arrays if a is not None)
            + self.slot_of.nbytes()
            + (sys.getsizeof(blobs.typed) + 100 * len(blobs.typed) if blobs else 0)
        )

    # ------------------------------------------------------------ search
    def search(self, query: str, limit: int = 50, refresh: bool = True) -> list[Hit]:
        parts = query_parts(query)
        if not parts:
            return []
        if refresh or self._blobs is None:
            self.refresh()
        with self._lock:
            blobs = self._blobs
            assert blobs is not None
            if len(parts) == 1:
                scores = self._score(blobs, parts[0], MAX_PER_FIELD, enough=limit)
            else:  # every part must match (initials AND an ID tail): no cap, or the AND could miss someone
                each = [self._score(blobs, q, len(self._owner)) for q in parts]
                scores = {
                    slot: (sum(sc[slot][0] for sc in each), " + ".join(sc[slot][1] for sc in each))
                    for slot in set(each[0]).intersection(*each[1:])
                }
            # best score first, then by pinyin and name: one integer per hit
            status, rank = self._status, self._ranks()
            n = len(status)
            candidates = (
                -(sc - (15 if status[slot] else 0)) * n + rank[slot]
                for slot, (sc, _label) in scores.items()
                if status[slot] != _DELETED
            )
            # the first ``limit`` in order, without sorting them all
            keys = heapq.nsmallest(limit, candidates) if limit >= 0 else sorted(candidates)[:limit]
            order = self._order
            assert order is not None
            hits = []
            for k in keys:
                slot = order[k % n]
                hits.append(self.hit_at(slot, -(k // n), scores[slot][1]))
            return hits

    def _score(self, blobs: _Blobs, q: str, cap: int, enough: int = 0) -> dict[int, tuple[int, str]]:
        """Slots matching one normalized query part, with their score and what
        matched.  With ``enough`` (the first page's length, for a one-part
        query) the weakest field is not searched once that many residents
        matched a stronger one: its hits (an address: 30 at most, a pinyin
        fragment: 40) rank below all of theirs (55 and up, 40 and up moved out
        or deceased) and change none of their scores, so the page is the same."""
        scores: dict[int, tuple[int, str]] = {}
        owner = self._owner

        def add(hits: list[tuple[int, int]], exact: bool, base: int, at_start: int, label: str) -> None:
            # (score, label) by where the value matched: inside, at the start, the whole value
            by_where = ((base, label), (base + at_start, label), (base + at_start + (10 if exact else 0), label))
            get = scores.get
            for pos, where in hits:
                slot = owner[pos]
                if slot >= 0:
                    new = by_where[where]
                    old = get(slot)
                    if old is None or old[0] < new[0]:
                        scores[slot] = new

        if _is_number(q):
            if len(q) >= 3:
                add(self._doc_tails(blobs, q, cap), False, 90, 0, "证件号尾号")
                add(blobs["phone"].find(q, False, cap), True, 60, 20, "电话")
            if len(q) >= 6:
                add(blobs["doc_low"].find(q, False, cap), False, 55, 30, "证件号")
            if enough > 0 and len(scores) >= enough:
                return scores
            add(blobs["address_low"].find(q, False, cap), False, 30, 0, "地址")
        elif q.isascii() and q.isalpha():
            add(blobs["initials"].find(q, True, cap), True, 70, 0, "拼音首字母")
            add(blobs["pinyin"].find(q, True, cap), True, 68, 0, "拼音")
            if len(q) >= 3 and not (enough > 0 and len(scores) >= enough):
                add(blobs["pinyin"].find(q, False, cap), False, 40, 0, "拼音")
        else:
            add(blobs["name"].find(q, False, cap), True, 60, 20, "姓名")
            if enough > 0 and len(scores) >= enough:
                return scores
            add(blobs["address_low"].find(q, False, cap), False, 30, 0, "地址")
        return scores

    @staticmethod
    def _doc_tails(blobs: _Blobs, q: str, cap: int) -> list[tuple[int, int]]:
        """Positions whose ID number (lower case) ends with ``q``, the first
        ``cap`` of them, as a find would give them: a range of the positions
        ordered by the number read backwards, found by bisection instead of
        reading every ID number."""
        doc = blobs["doc_low"]
        tails = ResidentIndex._tail_order(blobs)
        target = q.encode("utf-8")[::-1]
        size = len(target)

        def head(i: int) -> bytes:
            return doc.raw(i)[::-1][:size]

        lo = bisect_left(tails, target, key=head)
        hi = bisect_right(tails, target, lo=lo, key=head)
        return [(p, 2 if len(doc.raw(p)) == size else 1) for p in sorted(tails[lo:hi])[:cap]]

    @staticmethod
    def _tail_order(blobs: _Blobs) -> array:
        """Every position, ordered by its ID number read backwards (bytes)."""
        doc = blobs["doc_low"]
        n = len(doc.starts)
        if blobs.tails_n < n:
            if n - blobs.tails_n > 1000:  # loading: sort them all
                keys = [doc.raw(p)[::-1] for p in range(n)]
                blobs.tails = array("i", sorted(range(n), key=keys.__getitem__))
                del keys
            else:  # a few edits since: put each new position in its place
                for p in range(blobs.tails_n, n):
                    key = doc.raw(p)[::-1]
                    blobs.tails.insert(bisect_right(blobs.tails, key, key=lambda i: doc.raw(i)[::-1]), p)
            blobs.tails_n = n
        return blobs.tails

    def hit_of(self, rid: uuid.UUID) -> Hit | None:
        """One resident as a result row, after reading recent changes; None if
        there is no such (live) resident."""
        self.refresh()
        slot = self.slot_of.get(rid)
        return None if slot is None or self._status[slot] == _DELETED else self.hit_at(slot)

    def hit_at(self, slot: int, score: int = 0, label: str = "") -> Hit:
        """The resident in ``slot`` as a result row (for list views)."""
        rid = uuid.UUID(bytes=bytes(self._ids[slot * 16 : slot * 16 + 16]))
        blobs = self._blobs  # once: a compaction may swap it meanwhile
        pos = blobs.pos[slot] if blobs is not None else -1
        fields = ("name", "doc_low", "phone", "address_low")
        name, doc, phone, addr = (blobs.shown(k, pos) for k in fields) if pos >= 0 and blobs else ("",) * 4
        birth = self._birth[slot]
        return Hit(
            rid,
            name,
            self._gender[slot],
            date.fromordinal(birth) if birth else None,
            mask(doc),
            phone,
            addr,
            STATUSES[self._status[slot]],
            label,
            score,
            self._origin_codes[self._origin[slot]],
        )

    def live_slots(self) -> list[int]:
        """Every live resident's slot: current ones first, then by pinyin and
        name (the whole-registry list)."""
        self.refresh()
        with self._lock:
            self._ranks()
            if self._blobs is not None:  # ready now, not at the first keystroke
                self._tail_order(self._blobs)
                for blob in self._blobs.values():
                    blob.may_contain("")
            status, order = self._status, self._order
            assert order is not None
            live = [slot for slot in order if status[slot] != _DELETED]
            return [slot for slot in live if not status[slot]] + [slot for slot in live if status[slot]]

    def __len__(self) -> int:
        return len(self._status)
