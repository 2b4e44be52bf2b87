"""The sync commands end to end, in subprocesses, as a scheduled job would run them."""

from __future__ import annotations

import json

from tests.cli.helpers import run


def test_keys_trust_export_import_and_a_tampered_bundle(tmp_path):
    st, hub = tmp_path / "st.sqlite3", tmp_path / "hub.sqlite3"
    run("--db", st, "init", "--station-code", "340304001", "--station-name", "幸福里社区", "--admin", "admin:admin123")
    run(
        "--db",
        hub,
        "init",
        "--station-code",
        "340304000",
        "--station-name",
        "东风街道",
        "--level",
        "street",
        "--admin",
        "admin:admin123",
    )
    out = run("--db", st, "keys", "export", "--out", tmp_path / "st.peer.json").stdout
    assert "指纹" in out
    run("--db", hub, "keys", "export", "--out", tmp_path / "hub.peer.json")
    trusted = run("--db", hub, "peers", "trust", tmp_path / "st.peer.json").stdout
    fp = out.split("指纹：")[1].split()[:6]
    assert " ".join(fp) in trusted
    run("--db", st, "peers", "trust", tmp_path / "hub.peer.json")
    run("--db", st, "demo", "--residents", "50")  # a station with data

    exp = json.loads(
        run(
            "--db", st, "bundle", "export", "--to", "340304000", "--out", tmp_path / "b1.sdbundle", "--full", "--json"
        ).stdout
    )
    assert exp["rows"] > 50 and exp["tables"]["residents"] >= 50
    res = json.loads(run("--db", hub, "bundle", "import", tmp_path / "b1.sdbundle", "--json").stdout)
    assert set(res) >= {"bundle_id", "new", "updated", "unchanged", "conflicts", "duplicates"}
    assert res["new"] == exp["rows"] and res["bundle_id"] == exp["bundle_id"] and res["backup"]
    again = json.loads(run("--db", hub, "bundle", "import", tmp_path / "b1.sdbundle", "--json").stdout)
    assert again["already"] and again["new"] == 0

    peers = json.loads(run("--db", hub, "peers", "list", "--json").stdout)
    assert peers[0]["code"] == "340304001"

    data = bytearray((tmp_path / "b1.sdbundle").read_bytes())
    data[len(data) // 2] ^= 0x40
    (tmp_path / "bad.sdbundle").write_bytes(bytes(data))
    before = run("--db", hub, "report", "--json").stdout
    p = run("--db", hub, "bundle", "import", tmp_path / "bad.sdbundle", "--json", ok=False)
    assert p.returncode == 2 and "错误" in p.stderr and "没有导入" in p.stderr
    assert run("--db", hub, "report", "--json").stdout.split('"seconds"')[0] == before.split('"seconds"')[0]
    p = run("--db", st, "bundle", "export", "--to", "999999", "--out", tmp_path / "x.sdbundle", ok=False)
    assert p.returncode == 2 and "还没有信任" in p.stderr
