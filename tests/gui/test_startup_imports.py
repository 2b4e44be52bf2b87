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
