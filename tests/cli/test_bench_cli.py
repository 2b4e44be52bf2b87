"""``python -m desktop bench --only``: an unknown name is refused before anything is built."""

from __future__ import annotations

from tests.cli.test_cli import cli


def test_bench_only_refuses_an_unknown_benchmark(tmp_path):
    r = cli("--db", str(tmp_path / "b.sqlite3"), "bench", "--only", "nosuch")
    assert r.returncode == 2 and "nosuch" in r.stderr and "reports" in r.stderr
    assert not (tmp_path / "b.sqlite3").exists()
