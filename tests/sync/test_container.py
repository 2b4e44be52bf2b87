"""Bundle files (desktop.services.sync.container and .sealed).

The malicious inputs are built with the real keys: ``craft`` writes an inner
zip by hand, signs its manifest and seals it to the hub, so every check behind
the encryption and the signature is reached.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import hashlib
import io
import json
import os
import re
import types
import uuid
import warnings
import zipfile
from pathlib import Path

import pytest

from desktop.services.sync import container, keys, sealed
from desktop.services.sync.container import BundleError, BundleWriter, Limits, open_bundle

CJK = re.compile(r"[\u4e00-\u9fff]")
HEADER_LEN = 8 + 2 + 1 + 9 + 32 + 32  # for a 9-digit target code
SEALED_CHUNK = sealed.CHUNK + sealed.TAG


@pytest.fixture(scope="module")
def station():
    return keys.generate("340304001", "东风社区", "station")


@pytest.fixture(scope="module")
def hub():
    return keys.generate("340304000", "东风街道", "hub")


@pytest.fixture(scope="module")
def neighbour():
    return keys.generate("340304002", "向阳村", "station")


@pytest.fixture
def trusted(station, neighbour):
    return {station.code: station.peer, neighbour.code: neighbour.peer}.get


def json_default(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def residents(n, start=0):
    for i in range(start, start + n):
        yield {
            "id": uuid.UUID(int=i),
            "origin": "340304001",
            "hlc": 1_700_000_000_000 + i,
            "name": f"张{i}",
            "address": "东风社区幸福路 8 号",
            "born": datetime.date(1960, 1, 1 + i % 28),
            "deleted": False,
        }


def manifest_for(source, target, **extra):
    return {
        "format": 1,
        "schema": "0007",
        "bundle_id": str(uuid.uuid4()),
        "source": source,
        "target": target,
        "counts": {"residents": 3},
        **extra,
    }


def write_bundle(path, station, hub, rows=3, **kwargs):
    with BundleWriter(
        path,
        signer=station,
        recipient=hub.peer,
        manifest=manifest_for(station.code, hub.code),
        default=json_default,
        **kwargs,
    ) as w:
        w.write_rows("residents", residents(rows))
    return path


def expect(code, fn, *args, **kwargs):
    """Run ``fn``; it must raise BundleError with ``code`` (a str or a set) and a Chinese message."""
    with pytest.raises(BundleError) as info:
        result = fn(*args, **kwargs)
        if hasattr(result, "__next__"):  # a generator: drain it
            for _ in result:
                pass
    codes = {code} if isinstance(code, str) else code
    assert info.value.code in codes, f"{info.value.code}: {info.value}"
    assert CJK.search(info.value.user_message), info.value.user_message
    return info.value


def opened(path, hub, trusted, **kwargs):
    """open_bundle + verify_all + read every part, closing on the way out."""
    with open_bundle(path, hub, trusted, **kwargs) as b:
        b.verify_all()
        for name in b.parts():
            if b.part(name).kind == "jsonl":
                list(b.rows(name))
            else:
                b"".join(b.chunks(name))
    return b


# ---------------------------------------------------------------- crafting


def jsonl(rows):
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows)


def part_entry(name, data, kind="jsonl"):
    return {
        "name": name,
        "kind": kind,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "lines": data.count(b"\n") if kind == "jsonl" else None,
    }


def craft(
    path,
    signer,
    recipient,
    parts,
    *,
    edit=None,
    members=None,
    manifest_bytes=None,
    signature=None,
    sign_with=None,
    compression=zipfile.ZIP_DEFLATED,
):
    """Write a sealed bundle by hand.

    ``parts`` maps names to bytes (the honest content); ``edit(manifest)`` may
    change the manifest before signing; ``members`` replaces the zip's member
    list of (name, bytes); ``manifest_bytes``/``signature`` replace what is
    stored (``signature=b""`` leaves the signature out)."""
    manifest = manifest_for(signer.code, recipient.code)
    manifest["container"] = {
        "version": container.CONTAINER_VERSION,
        "source": signer.code,
        "target": recipient.code,
        "signer_fingerprint": signer.fingerprint,
        "parts": [part_entry(n, d) for n, d in parts.items()],
    }
    if edit:
        edit(manifest)
    body = container.canonical_manifest(manifest) if manifest_bytes is None else manifest_bytes
    sig = container.sign_manifest(sign_with or signer, body) if signature is None else signature
    if members is None:
        members = [(f"parts/{n}", d) for n, d in parts.items()]
    members = [*members, ("manifest.json", body)] + ([("manifest.sig", sig)] if sig else [])
    zbuf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names some tests want
        with zipfile.ZipFile(zbuf, "w", compression=compression) as z:
            for name, data in members:
                z.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    zbuf.seek(0)
    with open(path, "wb") as f:
        sealed.seal_stream(zbuf, f, recipient.peer if hasattr(recipient, "peer") else recipient)
    return path


ROWS = jsonl([{"id": "a", "name": "张三"}, {"id": "b", "name": "李四"}])


# ---------------------------------------------------------------- the happy path


def test_round_trip(tmp_path, station, hub, trusted):
    path = tmp_path / "out.sdbundle"
    manifest = manifest_for(station.code, hub.code, clock={"from": 5, "to": 9})
    with BundleWriter(path, signer=station, recipient=hub.peer, manifest=manifest, default=json_default) as w:
        assert not path.exists() and Path(str(path) + ".part").exists()
        assert w.write_rows("residents", residents(1000)) == 1000
        assert w.write_rows("households", []) == 0
        assert w.write_bytes("photo", [b"\x89PNG", b"\0" * 100_000]) == 100_004
    assert [p.name for p in tmp_path.iterdir()] == ["out.sdbundle"]
    assert container.peek(path) == hub.code

    with open_bundle(path, hub, trusted) as b:
        assert b.source == station.peer and b.target == hub.code
        assert b.parts() == ["residents", "households", "photo"]
        assert {k: b.manifest[k] for k in manifest} == json.loads(json.dumps(manifest))
        section = b.manifest["container"]
        assert section["source"] == station.code and section["target"] == hub.code
        assert section["signer_fingerprint"] == station.fingerprint
        info = b.part("residents")
        assert info.kind == "jsonl" and info.lines == 1000 and len(info.sha256) == 64
        assert not b.verified
        b.verify_all()
        assert b.verified
        rows = list(b.rows("residents"))
        assert rows[7] == {
            "id": str(uuid.UUID(int=7)),
            "origin": "340304001",
            "hlc": 1_700_000_000_007,
            "name": "张7",
            "address": "东风社区幸福路 8 号",
            "born": "1960-01-08",
            "deleted": False,
        }
        assert len(rows) == 1000
        assert list(b.rows("households")) == []
        assert b"".join(b.chunks("photo")) == b"\x89PNG" + b"\0" * 100_000
        with pytest.raises(KeyError):
            b.part("accounts")


def test_rows_are_utf8_json_lines(tmp_path, station, hub, trusted):
    write_bundle(tmp_path / "b", station, hub, rows=2)
    with open_bundle(tmp_path / "b", hub, trusted) as b:
        raw = b"".join(b.chunks("residents"))
    assert "张0".encode() in raw and b"\\u" not in raw  # ensure_ascii=False
    assert raw.count(b"\n") == 2 and raw.endswith(b"\n")


def test_ids_and_dates_need_no_hook(tmp_path, station, hub, trusted):
    path = tmp_path / "b"
    row = {
        "id": uuid.UUID(int=255),
        "born": datetime.date(1958, 3, 12),
        "at": datetime.datetime(2026, 11, 22, 8, 30, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=8))),
        "naive": datetime.datetime(2026, 11, 22, 8, 30, 5, 123456),
    }
    with BundleWriter(path, signer=station, recipient=hub.peer, manifest={}) as w:
        w.write_rows("t", [row])
    with open_bundle(path, hub, trusted) as b:
        assert list(b.rows("t")) == [
            {
                "id": "00000000-0000-0000-0000-0000000000ff",
                "born": "1958-03-12",
                "at": "2026-11-22T08:30:05+08:00",
                "naive": "2026-11-22T08:30:05.123456",
            }
        ]


def test_default_hook_for_other_types(tmp_path, station, hub, trusted):
    path = tmp_path / "b"
    seen = []

    def hook(value):
        seen.append(type(value).__name__)
        return f"{value:.2f}"

    with BundleWriter(path, signer=station, recipient=hub.peer, manifest={}, default=lambda v: 1 / 0) as w:
        w.write_rows("fees", [{"fee": decimal.Decimal("12.5"), "id": uuid.UUID(int=1)}], default=hook)
    assert seen == ["Decimal"]
    with open_bundle(path, hub, trusted) as b:
        assert list(b.rows("fees")) == [{"fee": "12.50", "id": "00000000-0000-0000-0000-000000000001"}]


def test_rows_may_be_any_mapping(tmp_path, station, hub, trusted):
    path = tmp_path / "b"
    with BundleWriter(path, signer=station, recipient=hub.peer, manifest={}) as w:
        w.write_rows("t", [types.MappingProxyType({"a": 1})])
    with open_bundle(path, hub, trusted) as b:
        assert list(b.rows("t")) == [{"a": 1}]


def test_lost_stick_leaks_nothing(tmp_path, station, hub):
    """Even with compression off (the zip then holds the rows verbatim) no plaintext shows in the file."""
    path = write_bundle(tmp_path / "b", station, hub, rows=50, compresslevel=0)
    data = path.read_bytes()
    for needle in ("幸福路".encode(), b"340304001", b"residents", b"manifest", b"PK\x03\x04"):
        assert needle not in data[HEADER_LEN:]


def test_decrypted_copy_is_removed(tmp_path, station, hub, trusted):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    path = write_bundle(tmp_path / "b", station, hub)
    b = open_bundle(path, hub, trusted, temp_dir=scratch)
    b.verify_all()
    b.close()
    assert list(scratch.iterdir()) == []
    with pytest.raises(ValueError):
        list(b.rows("residents"))


# ---------------------------------------------------------------- writing safely


def test_failed_export_leaves_no_file(tmp_path, station, hub):
    path = tmp_path / "b"
    path.write_bytes(b"an older bundle")

    def rows():
        yield {"ok": 1}
        yield {"bad": object()}

    with pytest.raises(TypeError):
        with BundleWriter(path, signer=station, recipient=hub.peer, manifest={}) as w:
            w.write_rows("t", rows())
    assert path.read_bytes() == b"an older bundle"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_failed_part_abandons_the_bundle_even_if_caught(tmp_path, station, hub):
    path = tmp_path / "b"
    w = BundleWriter(path, signer=station, recipient=hub.peer, manifest={})
    with pytest.raises(TypeError):
        w.write_rows("t", [{"bad": object()}])
    with pytest.raises(ValueError):
        w.write_rows("u", [{"ok": 1}])
    w.close()
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_a_too_long_row(tmp_path, station, hub, trusted):
    path = tmp_path / "b"
    with pytest.raises(BundleError) as info:
        with BundleWriter(path, signer=station, recipient=hub.peer, manifest={}, max_line=1000) as w:
            w.write_rows("t", [{"note": "长" * 400}])  # 1200 bytes of UTF-8 in 400 characters
    assert info.value.code == "row_too_long"
    assert list(tmp_path.iterdir()) == []
    with BundleWriter(path, signer=station, recipient=hub.peer, manifest={}, max_line=1000) as w:
        w.write_rows("t", [{"note": "长" * 300}])  # 900 bytes: fits
    with open_bundle(path, hub, trusted) as b:
        assert list(b.rows("t")) == [{"note": "长" * 300}]


@pytest.mark.parametrize("manifest", [{"container": {}}, {"source": "340304009"}, {"target": "340304001"}])
def test_writer_refuses_a_misaddressed_manifest(tmp_path, station, hub, manifest):
    with pytest.raises(ValueError):
        BundleWriter(tmp_path / "b", signer=station, recipient=hub.peer, manifest=manifest)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "../x", "a/b", "a\\b", ".hidden", "x" * 65, "表"])
def test_writer_refuses_bad_part_names(tmp_path, station, hub, name):
    with BundleWriter(tmp_path / "b", signer=station, recipient=hub.peer, manifest={}) as w:
        with pytest.raises(ValueError):
            w.write_rows(name, [])


def test_writer_refuses_a_part_twice(tmp_path, station, hub):
    with BundleWriter(tmp_path / "b", signer=station, recipient=hub.peer, manifest={}) as w:
        w.write_rows("t", [])
        with pytest.raises(ValueError):
            w.write_rows("t", [])


def test_writer_refuses_a_revoked_recipient(tmp_path, station, hub):
    revoked = dataclasses.replace(hub.peer, revoked=True)
    expect("recipient_revoked", BundleWriter, tmp_path / "b", signer=station, recipient=revoked, manifest={})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_full_stick(tmp_path, station, hub):
    path = tmp_path / "b"
    (tmp_path / "b.part").symlink_to("/dev/full")  # every write: ENOSPC
    with pytest.raises(BundleError) as info:
        write_bundle(path, station, hub, rows=2000)
    assert info.value.code == "disk_full" and "空间不足" in info.value.user_message
    assert list(tmp_path.iterdir()) == []


def test_missing_folder(tmp_path, station, hub):
    expect("write_failed", write_bundle, tmp_path / "no" / "such" / "folder" / "b", station, hub)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_full_temp_disk(tmp_path, station, hub, trusted, monkeypatch):
    path = write_bundle(tmp_path / "b", station, hub, rows=2000)
    monkeypatch.setattr(container.tempfile, "TemporaryFile", lambda **kw: open("/dev/full", "w+b"))
    expect("disk_full", open_bundle, path, hub, trusted)


# ---------------------------------------------------------------- the outer layer


@pytest.mark.parametrize(
    "content",
    [
        b"hello, this is a text file\n",
        b"PK\x03\x04" + b"\0" * 200,
        b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
        os.urandom(5000),
    ],
)
def test_not_a_bundle(tmp_path, hub, trusted, content):
    path = tmp_path / "x"
    path.write_bytes(content)
    expect("not_bundle", open_bundle, path, hub, trusted)
    expect("not_bundle", container.peek, path)


def test_missing_file(tmp_path, hub, trusted):
    expect("not_found", open_bundle, tmp_path / "nope", hub, trusted)


def test_newer_container_version(tmp_path, station, hub, trusted):
    path = write_bundle(tmp_path / "b", station, hub)
    data = bytearray(path.read_bytes())
    data[8:10] = (2).to_bytes(2, "big")
    path.write_bytes(bytes(data))
    e = expect("too_new", open_bundle, path, hub, trusted)
    assert "升级" in e.user_message


@pytest.fixture
def big_bundle(tmp_path, station, hub):
    """A bundle of four sealed chunks (random bytes do not compress)."""
    path = tmp_path / "big"
    with BundleWriter(path, signer=station, recipient=hub.peer, manifest={}) as w:
        w.write_bytes("blob", [os.urandom(3 * sealed.CHUNK)])
    body = path.stat().st_size - HEADER_LEN
    assert 3 * SEALED_CHUNK < body < 4 * SEALED_CHUNK
    return path


def cut(path, size, tmp_path):
    out = tmp_path / f"cut-{size}"
    with open(path, "rb") as f:
        out.write_bytes(f.read(size))
    return out


@pytest.mark.parametrize("size", [0, 3, 9, 11, 40, HEADER_LEN - 1])
def test_cut_inside_the_header(big_bundle, tmp_path, hub, trusted, size):
    expect("truncated", open_bundle, cut(big_bundle, size, tmp_path), hub, trusted)


@pytest.mark.parametrize("chunks", [1, 2, 3])
def test_cut_at_a_chunk_boundary(big_bundle, tmp_path, hub, trusted, chunks):
    expect("truncated", open_bundle, cut(big_bundle, HEADER_LEN + chunks * SEALED_CHUNK, tmp_path), hub, trusted)


@pytest.mark.parametrize(
    "size",
    [
        HEADER_LEN,
        HEADER_LEN + 10,
        HEADER_LEN + sealed.TAG + 1,
        HEADER_LEN + SEALED_CHUNK // 2,
        HEADER_LEN + SEALED_CHUNK + 1,
        HEADER_LEN + 2 * SEALED_CHUNK + 500,
        -1,
        -17,
    ],
)
def test_cut_mid_chunk(big_bundle, tmp_path, hub, trusted, size):
    if size < 0:
        size += big_bundle.stat().st_size
    expect({"truncated", "damaged"}, open_bundle, cut(big_bundle, size, tmp_path), hub, trusted)


def flipped(path, pos, tmp_path):
    data = bytearray(path.read_bytes())
    data[pos] ^= 0x01
    out = tmp_path / f"flip-{pos}"
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize(
    "pos, codes",
    [
        (0, {"not_bundle"}),
        (7, {"not_bundle"}),  # magic
        (9, {"too_new", "not_bundle"}),  # version
        (10, {"wrong_station"}),  # length of the target code
        (14, {"wrong_station"}),  # target code
        (HEADER_LEN - 64 + 5, {"wrong_key"}),  # recipient key
        (HEADER_LEN - 32 + 5, {"damaged"}),  # ephemeral key
        (HEADER_LEN, {"damaged"}),  # first ciphertext byte
        (HEADER_LEN + SEALED_CHUNK - 1, {"damaged"}),  # tag of the first chunk
        (HEADER_LEN + SEALED_CHUNK + 12345, {"damaged"}),  # inside the second chunk
        (HEADER_LEN + 3 * SEALED_CHUNK, {"damaged"}),  # start of the last chunk
        (-1, {"damaged"}),  # the very last byte (a tag)
    ],
)
def test_one_flipped_byte(big_bundle, tmp_path, hub, trusted, pos, codes):
    if pos < 0:
        pos += big_bundle.stat().st_size
    expect(codes, open_bundle, flipped(big_bundle, pos, tmp_path), hub, trusted)


def test_reordered_chunks(big_bundle, tmp_path, hub, trusted):
    data = big_bundle.read_bytes()
    a = HEADER_LEN + SEALED_CHUNK
    swapped = (
        data[:a]
        + data[a + SEALED_CHUNK : a + 2 * SEALED_CHUNK]
        + data[a : a + SEALED_CHUNK]
        + data[a + 2 * SEALED_CHUNK :]
    )
    path = tmp_path / "swapped"
    path.write_bytes(swapped)
    expect("damaged", open_bundle, path, hub, trusted)


def test_dropped_chunk(big_bundle, tmp_path, hub, trusted):
    data = big_bundle.read_bytes()
    a = HEADER_LEN + SEALED_CHUNK
    path = tmp_path / "dropped"
    path.write_bytes(data[:a] + data[a + SEALED_CHUNK :])
    expect("damaged", open_bundle, path, hub, trusted)


def test_appended_bytes(big_bundle, tmp_path, hub, trusted):
    path = tmp_path / "longer"
    path.write_bytes(big_bundle.read_bytes() + b"\0")
    expect("damaged", open_bundle, path, hub, trusted)


def test_empty_last_chunk_after_full_ones(tmp_path, hub, trusted):
    """One encoding per payload, as in age: an empty last chunk may only stand alone."""
    path = tmp_path / "b"
    with open(path, "wb") as f:
        s = sealed.Sealer(f, hub.peer)
        s._emit(b"x" * sealed.CHUNK, last=False)
        s._emit(b"", last=True)
    expect("damaged", open_bundle, path, hub, trusted)


def test_bundle_for_another_station(tmp_path, station, neighbour, hub, trusted):
    path = write_bundle(tmp_path / "b", station, neighbour)
    e = expect("wrong_station", open_bundle, path, hub, {station.code: station.peer}.get)
    assert neighbour.code in e.user_message and hub.code in e.user_message


def test_bundle_sealed_to_an_old_key(tmp_path, station, hub, trusted):
    path = write_bundle(tmp_path / "b", station, hub)
    remade = keys.generate(hub.code, hub.name, "hub")  # the hub made new keys since
    e = expect("wrong_key", open_bundle, path, remade, trusted)
    assert "公钥文件" in e.user_message


def test_file_larger_than_the_limit(tmp_path, station, hub, trusted):
    path = write_bundle(tmp_path / "b", station, hub)
    expect("too_large", open_bundle, path, hub, trusted, limits=Limits(max_file_size=100))


# ---------------------------------------------------------------- signature and trust


def test_signer_not_trusted(tmp_path, station, hub):
    path = write_bundle(tmp_path / "b", station, hub)
    e = expect("untrusted", open_bundle, path, hub, lambda code: None)
    assert station.code in e.user_message and "公钥文件" in e.user_message


def test_trusted_returns_another_station(tmp_path, station, neighbour, hub):
    path = write_bundle(tmp_path / "b", station, hub)
    expect("untrusted", open_bundle, path, hub, lambda code: neighbour.peer)


def test_revoked_signer(tmp_path, station, hub):
    path = write_bundle(tmp_path / "b", station, hub)
    revoked = dataclasses.replace(station.peer, revoked=True)
    e = expect("revoked", open_bundle, path, hub, {station.code: revoked}.get)
    assert station.code in e.user_message


def test_forged_signature(tmp_path, station, neighbour, hub, trusted):
    """The neighbour signs a bundle that claims to come from the station."""
    path = craft(tmp_path / "b", station, hub, {"residents": ROWS}, sign_with=neighbour)
    e = expect("bad_signature", open_bundle, path, hub, trusted)
    assert station.code in e.user_message


def test_missing_signature(tmp_path, station, hub, trusted):
    expect(
        "bad_signature",
        open_bundle,
        craft(tmp_path / "b", station, hub, {"residents": ROWS}, signature=b""),
        hub,
        trusted,
    )


@pytest.mark.parametrize("signature", [b"\0" * 64, b"\1" * 63, b"\1" * 65])
def test_wrong_signature(tmp_path, station, hub, trusted, signature):
    path = craft(tmp_path / "b", station, hub, {"residents": ROWS}, signature=signature)
    expect("bad_signature", open_bundle, path, hub, trusted)


def test_manifest_changed_after_signing(tmp_path, station, hub, trusted):
    body = container.canonical_manifest({"container": {"source": station.code}})
    sig = container.sign_manifest(station, body)
    path = craft(
        tmp_path / "b",
        station,
        hub,
        {"residents": ROWS},
        manifest_bytes=body.replace(b"}}", b',"x":1}}'),
        signature=sig,
    )
    expect("bad_signature", open_bundle, path, hub, trusted)


def test_signature_from_a_remade_key_names_both_fingerprints(tmp_path, station, hub, trusted):
    remade = keys.generate(station.code, station.name)
    path = write_bundle(tmp_path / "b", remade, hub)
    e = expect("bad_signature", open_bundle, path, hub, trusted)
    assert remade.fingerprint in e.user_message and station.fingerprint in e.user_message


def test_readdressed_bundle(tmp_path, station, neighbour, hub, trusted):
    """Whoever can open a bundle for the neighbour re-seals it to the hub: the signed target gives it away."""
    original = write_bundle(tmp_path / "b", station, neighbour)
    inner = io.BytesIO()
    with open(original, "rb") as f:
        sealed.open_stream(f, inner, neighbour, sealed.read_header(f))
    inner.seek(0)
    path = tmp_path / "readdressed"
    with open(path, "wb") as out:
        sealed.seal_stream(inner, out, hub.peer)
    e = expect("readdressed", open_bundle, path, hub, trusted)
    assert neighbour.code in e.user_message


def test_manifest_top_level_source_must_match(tmp_path, station, hub, trusted):
    path = craft(tmp_path / "b", station, hub, {"residents": ROWS}, edit=lambda m: m.update(source="340304002"))
    expect("bad_manifest", open_bundle, path, hub, trusted)


def test_newer_container_version_inside(tmp_path, station, hub, trusted):
    path = craft(tmp_path / "b", station, hub, {"residents": ROWS}, edit=lambda m: m["container"].update(version=2))
    e = expect("too_new", open_bundle, path, hub, trusted)
    assert "升级" in e.user_message


# ---------------------------------------------------------------- the inner archive


def test_crafted_honest_bundle_opens(tmp_path, station, hub, trusted):
    """The crafting helper itself makes valid bundles, so the refusals below are about their one defect."""
    path = craft(tmp_path / "b", station, hub, {"residents": ROWS, "households": b""})
    with open_bundle(path, hub, trusted) as b:
        b.verify_all()
        assert list(b.rows("residents")) == [{"id": "a", "name": "张三"}, {"id": "b", "name": "李四"}]


def test_payload_is_not_a_zip(tmp_path, station, hub, trusted):
    path = tmp_path / "b"
    with open(path, "wb") as f:
        sealed.seal_stream(io.BytesIO(b"just some text, not an archive" * 10), f, hub.peer)
    expect("bad_archive", open_bundle, path, hub, trusted)


@pytest.mark.parametrize(
    "name",
    [
        "../evil",
        "parts/../../evil",
        "/etc/passwd",
        "parts\\residents",
        "C:/Windows/evil",
        "c:evil",
        "parts//residents",
        "./manifest.json",
        "parts/",
        "parts/\x01x",
    ],
)
def test_unsafe_member_names(tmp_path, station, hub, trusted, name):
    path = craft(tmp_path / "b", station, hub, {"residents": ROWS}, members=[("parts/residents", ROWS), (name, b"x")])
    e = expect("bad_member_name", open_bundle, path, hub, trusted)
    assert "不安全" in e.user_message


def test_duplicate_members(tmp_path, station, hub, trusted):
    path = craft(
        tmp_path / "b",
        station,
        hub,
        {"residents": ROWS},
        members=[("parts/residents", ROWS), ("parts/residents", b"{}\n")],
    )
    expect("duplicate_member", open_bundle, path, hub, trusted)


def test_duplicate_manifest(tmp_path, station, hub, trusted):
    path = craft(
        tmp_path / "b", station, hub, {"residents": ROWS}, members=[("parts/residents", ROWS), ("manifest.json", b"{}")]
    )
    expect("duplicate_member", open_bundle, path, hub, trusted)


@pytest.mark.parametrize("name", ["notes.txt", "parts/extra", "parts/a/b"])
def test_unexpected_members(tmp_path, station, hub, trusted, name):
    path = craft(
        tmp_path / "b", station, hub, {"residents": ROWS}, members=[("parts/residents", ROWS), (name, b"{}\n")]
    )
    expect("unexpected_member", open_bundle, path, hub, trusted)


def test_missing_part(tmp_path, station, hub, trusted):
    path = craft(
        tmp_path / "b", station, hub, {"residents": ROWS, "households": ROWS}, members=[("parts/residents", ROWS)]
    )
    expect("missing_member", open_bundle, path, hub, trusted)


def test_missing_manifest(tmp_path, station, hub, trusted):
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("parts/residents", ROWS)
    zbuf.seek(0)
    path = tmp_path / "b"
    with open(path, "wb") as f:
        sealed.seal_stream(zbuf, f, hub.peer)
    expect("bad_manifest", open_bundle, path, hub, trusted)


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe{}", b"[1, 2]", b'{"container": 5}', b"{}", b""])
def test_malformed_manifest(tmp_path, station, hub, trusted, body):
    """Signed by the real key, so only the manifest check can refuse it."""
    path = craft(tmp_path / "b", station, hub, {"residents": ROWS}, manifest_bytes=body)
    expect("bad_manifest", open_bundle, path, hub, trusted)


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m["container"].update(parts={"residents": {}}),
        lambda m: m["container"].update(version="1"),
        lambda m: m["container"].pop("source"),
        lambda m: m["container"]["parts"][0].update(sha256="XYZ"),
        lambda m: m["container"]["parts"][0].update(size=-1),
        lambda m: m["container"]["parts"][0].update(size=True),
        lambda m: m["container"]["parts"][0].update(kind="exe"),
        lambda m: m["container"]["parts"][0].update(lines=None),
        lambda m: m["container"]["parts"][0].update(name="../residents"),
        lambda m: m["container"]["parts"].append(m["container"]["parts"][0]),
    ],
)
def test_manifest_with_bad_fields(tmp_path, station, hub, trusted, edit):
    path = craft(tmp_path / "b", station, hub, {"residents": ROWS}, edit=edit)
    expect("bad_manifest", open_bundle, path, hub, trusted)


def test_manifest_larger_than_the_limit(tmp_path, station, hub, trusted):
    path = craft(tmp_path / "b", station, hub, {"residents": ROWS}, edit=lambda m: m.update(padding="x" * 5000))
    expect("member_too_large", open_bundle, path, hub, trusted, limits=Limits(max_manifest=4096))


def test_zip_bomb(tmp_path, station, hub, trusted):
    bomb = b"\n" * (20 * 1024 * 1024)  # deflates about a thousandfold
    path = craft(tmp_path / "b", station, hub, {"residents": bomb})
    assert path.stat().st_size < 100_000
    e = expect("compression_ratio", open_bundle, path, hub, trusted)
    assert "压缩" in e.user_message


def test_member_over_the_size_limit(tmp_path, station, hub, trusted):
    path = craft(tmp_path / "b", station, hub, {"residents": ROWS * 100})
    expect("member_too_large", open_bundle, path, hub, trusted, limits=Limits(max_member_size=1000))


def test_total_over_the_size_limit(tmp_path, station, hub, trusted):
    path = craft(tmp_path / "b", station, hub, {"a": ROWS * 20, "b": ROWS * 20})
    expect("total_too_large", open_bundle, path, hub, trusted, limits=Limits(max_member_size=2000, max_total_size=2000))


def test_too_many_members(tmp_path, station, hub, trusted):
    parts = {f"t{i}": b"" for i in range(1001)}
    expect("too_many_members", open_bundle, craft(tmp_path / "b", station, hub, parts), hub, trusted)


def test_member_size_disagrees_with_manifest(tmp_path, station, hub, trusted):
    path = craft(
        tmp_path / "b", station, hub, {"residents": ROWS}, members=[("parts/residents", ROWS + b'{"id":"c"}\n')]
    )
    expect("part_hash", open_bundle, path, hub, trusted)


# ---------------------------------------------------------------- part contents


def tampered(tmp_path, station, hub, honest, actual):
    """A manifest describing ``honest`` over a member holding ``actual`` (same length)."""
    assert len(honest) == len(actual)
    return craft(tmp_path / "b", station, hub, {"residents": honest}, members=[("parts/residents", actual)])


def test_part_hash_mismatch_found_by_verify_all(tmp_path, station, hub, trusted):
    path = tampered(tmp_path, station, hub, ROWS, ROWS.replace("李四".encode(), "王五".encode()))
    with open_bundle(path, hub, trusted) as b:
        e = expect("part_hash", b.verify_all)
        assert "residents" in e.user_message
        assert not b.verified


def test_part_hash_mismatch_found_at_the_end_of_rows(tmp_path, station, hub, trusted):
    path = tampered(tmp_path, station, hub, ROWS, ROWS.replace("李四".encode(), "王五".encode()))
    with open_bundle(path, hub, trusted) as b:
        seen = []

        def drain():
            for row in b.rows("residents"):
                seen.append(row)

        expect("part_hash", drain)
        assert len(seen) == 2  # rows stream before the hash is known: hence verify_all


def test_bytes_part_hash_mismatch(tmp_path, station, hub, trusted):
    path = craft(
        tmp_path / "b",
        station,
        hub,
        {},
        edit=lambda m: m["container"]["parts"].append(part_entry("photo", b"abcd", "bytes")),
        members=[("parts/photo", b"abce")],
    )
    with open_bundle(path, hub, trusted) as b:
        expect("part_hash", lambda: b"".join(b.chunks("photo")))


def test_line_count_disagrees_with_manifest(tmp_path, station, hub, trusted):
    path = craft(
        tmp_path / "b", station, hub, {"residents": ROWS}, edit=lambda m: m["container"]["parts"][0].update(lines=3)
    )
    with open_bundle(path, hub, trusted) as b:
        expect("bad_manifest", b.verify_all)
        expect("bad_manifest", b.rows, "residents")


@pytest.mark.parametrize(
    "line",
    [
        b"{not json}",
        b"[1, 2]",
        b'"text"',
        b"",
        b"\xff\xfe\xfd",
        b'{"a": 1} x',
        b'{"a": NaN}',
        b'{"a": "\xed\xa0\x80"}',
        b"[" * 2000 + b"]" * 2000,
    ],
)
def test_malformed_row(tmp_path, station, hub, trusted, line):
    data = b'{"id": "a"}\n' + line + b"\n"
    path = craft(tmp_path / "b", station, hub, {"residents": data})
    with open_bundle(path, hub, trusted) as b:
        b.verify_all()  # the hash is right: the content is what was signed
        e = expect("bad_row", b.rows, "residents")
        assert "第 2 行" in e.user_message


def test_last_line_without_newline(tmp_path, station, hub, trusted):
    path = craft(
        tmp_path / "b",
        station,
        hub,
        {"residents": ROWS.rstrip(b"\n")},
        edit=lambda m: m["container"]["parts"][0].update(lines=2),
    )
    with open_bundle(path, hub, trusted) as b:
        expect("bad_row", b.rows, "residents")


def test_line_over_the_default_limit(tmp_path, station, hub, trusted):
    long_line = json.dumps({"note": os.urandom(600 * 1024).hex()}).encode() + b"\n"  # 1.2 MB
    path = craft(tmp_path / "b", station, hub, {"residents": b'{"id": "a"}\n' + long_line})
    with open_bundle(path, hub, trusted) as b:
        b.verify_all()
        e = expect("line_too_long", b.rows, "residents")
        assert "第 2 行" in e.user_message


def test_line_limit_is_configurable(tmp_path, station, hub, trusted):
    path = craft(tmp_path / "b", station, hub, {"residents": ROWS})
    with open_bundle(path, hub, trusted, limits=Limits(max_line=20)) as b:
        expect("line_too_long", b.rows, "residents")
    with open_bundle(path, hub, trusted, limits=Limits(max_line=40)) as b:
        assert len(list(b.rows("residents"))) == 2


# ---------------------------------------------------------------- reading in batches


def _outcome(read):
    """The rows ``read()`` gives, or the refusal it raises (code, message, detail)."""
    try:
        return "rows", read()
    except BundleError as e:
        return "refused", (e.code, e.user_message, str(e))


def _batched(b, name, size):
    batches = list(b.row_batches(name, size))
    assert all(len(x) == size for x in batches[:-1]) and all(0 < len(x) <= size for x in batches)
    return [row for batch in batches for row in batch]


GOOD = [{"id": f"r{i}", "name": "张" * (i % 7), "n": i} for i in range(23)]
BAD_LINES = [b"{not json}", b"[1, 2]", b'"text"', b"", b"\xff\xfe", b'{"a": NaN}', b'{"a": 1} x', b"{" + b'"x"' * 40]


@pytest.mark.parametrize(
    "data",
    [
        jsonl(GOOD),
        b"",
        jsonl(GOOD[:1]),
        jsonl(GOOD).rstrip(b"\n"),  # the last line without its newline
        jsonl(GOOD[:3]) + b'{"note": "' + b"x" * 200 + b'"}',  # ... and too long
        *(jsonl(GOOD[:k]) + bad + b"\n" + jsonl(GOOD[k:]) for bad in BAD_LINES for k in (0, 4, 23)),
        jsonl(GOOD[:5]) + b"{}" + b" " * 99 + b"\n" + jsonl(GOOD[5:]),  # exactly the limit, newline included
        jsonl(GOOD[:5]) + b"{}" + b" " * 98 + b"\n" + jsonl(GOOD[5:]),  # a byte under it
        jsonl(GOOD[:5]) + b'{"n": 1}' + b" " * 300 + b"\n" + jsonl(GOOD[5:]),  # over it, within one block or not
        jsonl(GOOD[:5]) + b"{} " + b"\n" + b"[" * 500,  # a long last line after a short bad one
    ],
)
@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])
def test_row_batches_read_what_rows_read(tmp_path, station, hub, trusted, monkeypatch, data, block):
    """The same rows, or the same refusal naming the same line, whatever the
    batch size and however the part's bytes arrive."""
    monkeypatch.setattr(container, "_READ_BLOCK", block)
    path = craft(tmp_path / "b", station, hub, {"residents": data})
    with open_bundle(path, hub, trusted, limits=Limits(max_line=101)) as b:
        b.verify_all()
        want = _outcome(lambda: list(b.rows("residents")))
        for size in (1, 2, 3, 5, 23, 2000):
            assert _outcome(lambda size=size: _batched(b, "residents", size)) == want, size


def test_row_batches_refuse_what_rows_refuse(tmp_path, station, hub, trusted):
    tampered_path = tampered(tmp_path, station, hub, ROWS, ROWS.replace("李四".encode(), "王五".encode()))
    with open_bundle(tampered_path, hub, trusted) as b:
        expect("part_hash", lambda: list(b.row_batches("residents", 1)))
    (tmp_path / "c").mkdir()
    short = craft(
        tmp_path / "c" / "b",
        station,
        hub,
        {"residents": ROWS},
        edit=lambda m: m["container"]["parts"][0].update(lines=3),
    )
    with open_bundle(short, hub, trusted) as b:
        expect("bad_manifest", lambda: list(b.row_batches("residents", 2000)))
        with pytest.raises(ValueError):
            next(b.row_batches("residents", 0))


def test_a_verified_bundle_is_hashed_once(tmp_path, station, hub, trusted, monkeypatch):
    """verify_all hashes every part; reading them afterwards does not hash
    them again (their size is still checked, and zipfile's CRC-32)."""
    path = write_bundle(tmp_path / "out.sdbundle", station, hub, rows=50)
    hashed = []
    real = container.hashlib.sha256

    def counting(*args, **kwargs):
        if not args:  # a part's hash starts empty (a key's fingerprint does not)
            hashed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(container.hashlib, "sha256", counting)
    with open_bundle(path, hub, trusted) as b:
        list(b.rows("residents"))  # not verified yet: hashed as it streams
        assert len(hashed) == 1
        b.verify_all()
        assert len(hashed) == 2
        assert len(list(b.rows("residents"))) == 50
        assert len(_batched(b, "residents", 7)) == 50
        assert b"".join(b.chunks("residents")).count(b"\n") == 50
        assert len(hashed) == 2
