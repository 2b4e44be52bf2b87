"""GUI-thread time per keystroke in the resident picker and 迁入其他户
(issue 14: no database work on the GUI thread).

    python -m desktop.ui.bench_gui --residents 10000

Prints, per keystroke, how long the GUI thread was busy handling it (what a
user feels as a frozen window) and how long until the hits were on screen,
next to the same searches run the old way, on the calling thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _summary(values: list[float]) -> dict[str, float]:
    return {"median_ms": _ms(statistics.median(values)), "max_ms": _ms(max(values))}


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=10_000)
    ap.add_argument("--keep", help="folder for the demo database (reused when it exists)")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QLineEdit
    from sqlalchemy import select

    from db.engine import open_database
    from db.models import Household, Resident
    from desktop.services import accounts, demo, households
    from desktop.services.search import ResidentIndex
    from desktop.ui.pages.households import HouseholdDialog, MoveDialog
    from desktop.ui.pickers import ResidentPicker
    from desktop.ui.worker import SerialWorker

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="station-bench-gui-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = open_database(folder / f"bench-gui-{args.residents}.sqlite3")
    if accounts.station_info(db) is None:
        demo.create_demo_station(db, n_residents=args.residents, seed=1)
    actor = accounts.authenticate(db, demo.DEMO_ADMIN, demo.DEMO_PASSWORD)
    with db.session() as s:
        number, head = s.execute(
            select(Household.number, Resident.name)
            .join(Resident, Resident.id == Household.head_id)
            .order_by(Household.number.desc())
            .limit(1)
        ).one()
        mover = s.scalar(select(Resident.id).where(Resident.household_id.is_not(None)).limit(1))
        doc = s.scalar(select(Resident.doc_number).where(Resident.doc_number.is_not(None)).limit(1))
    assert mover is not None and doc is not None and number is not None, (
        "the demo station has households and ID numbers"
    )
    _app = QApplication.instance() or QApplication([])  # kept alive for the run
    worker = SerialWorker()

    def type_and_wait(edit: QLineEdit, text: str, done: Callable[[], bool]) -> tuple[list[float], list[float]]:
        """Type ``text`` one character at a time; GUI-thread time of each key
        event, and the time until ``done()`` says its hits are shown."""
        edit.clear()
        QCoreApplication.processEvents()
        gui, shown = [], []
        for ch in text:
            t = time.perf_counter()
            QTest.sendKeyEvent(QTest.KeyAction.Click, edit, Qt.Key.Key_unknown, ch, Qt.KeyboardModifier.NoModifier)
            gui.append(time.perf_counter() - t)
            while not done():
                QCoreApplication.processEvents()
                time.sleep(0.0005)
            shown.append(time.perf_counter() - t)
        return gui, shown

    figures: dict[str, object] = {"residents": args.residents}
    # --- the picker, cold (first keystroke loads the index) then warm
    index = ResidentIndex(db)
    picker = ResidentPicker(index, worker=worker)
    queries = [doc[-4:], head[:2]]
    gui, shown = type_and_wait(picker.edit, queries[0], lambda: not picker.pending)
    figures["picker_cold_first_key_gui_ms"] = _ms(gui[0])
    figures["picker_cold_first_key_shown_ms"] = _ms(shown[0])
    gui2, shown2 = type_and_wait(picker.edit, queries[1], lambda: not picker.pending)
    figures["picker_per_key_gui"] = _summary(gui[1:] + gui2)
    figures["picker_per_key_shown"] = _summary(shown[1:] + shown2)
    old_index = ResidentIndex(db)
    t = time.perf_counter()
    old_index.search(queries[0][:1], limit=30)
    figures["old_picker_cold_first_key_gui_ms"] = _ms(time.perf_counter() - t)

    # --- 迁入其他户: household number, then the head's name
    dlg = HouseholdDialog(None, db, actor, worker, mover)
    while worker.pending:
        QCoreApplication.processEvents()
    md = MoveDialog(dlg, mover)
    gui, shown = [], []
    for text in (number, head):
        g, sh = type_and_wait(md.query, text, lambda: md.shown_query == md.query.text())
        gui += g
        shown += sh
    figures["household_per_key_gui"] = _summary(gui)
    figures["household_per_key_shown"] = _summary(shown)
    old = []
    for text in (number, head):
        for i in range(1, len(text) + 1):
            t = time.perf_counter()
            households.search(db, text[:i])
            old.append(time.perf_counter() - t)
    figures["old_household_per_key_gui"] = _summary(old)
    figures["keystrokes"] = {"picker": len(queries[0]) + len(queries[1]), "household": len(number) + len(head)}
    worker.stop()
    db.close()
    for k, v in figures.items():
        print(f"{k}: {v}")
    return figures


if __name__ == "__main__":
    main()
