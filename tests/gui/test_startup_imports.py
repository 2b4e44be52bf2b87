"""Start-up stays light: the main window (every page) imports no PDF or
spreadsheet library; those load when a document is first made."""

from __future__ import annotations

import subprocess
import sys


def test_main_window_does_not_import_reportlab_or_openpyxl():
    code = (
        "import sys; import desktop.ui.main_window; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'reportlab', 'openpyxl', 'highspy'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_window_commands_load_the_data_layer_before_qt():
    """PySide6's import hook reads the source of each module imported after it
    (kept in memory for the session): SQLAlchemy and the models come first."""
    code = (
        "import sys; from desktop import cli; cli._load_data_layer_before_qt(); "
        "print('PySide6' in sys.modules, all(m in sys.modules for m in "
        "('sqlalchemy.orm', 'db.models', 'desktop.services.accounts', 'desktop.services.search')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]


def test_the_gui_and_probe_commands_load_the_data_layer_first(monkeypatch):
    import desktop.ui.app as app
    from desktop import cli

    calls: list[str] = []
    monkeypatch.setattr(cli, "_load_data_layer_before_qt", lambda: calls.append("data"))
    monkeypatch.setattr(cli, "_precheck", lambda _url: calls.append("check"))
    monkeypatch.setattr(cli, "_check_target", lambda _args: None)
    monkeypatch.setattr(app, "startup_probe", lambda *a: calls.append("window") or {})
    monkeypatch.setattr(app, "run_app", lambda *a: calls.append("window") or 0)
    assert cli.main(["--db", "x.sqlite3", "startup-probe", "--user", "u", "--password", "p"]) == 0
    assert cli.main(["--db", "x.sqlite3"]) == 0
    assert calls == ["check", "data", "window"] * 2
