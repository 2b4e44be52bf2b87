"""数据交换: this station's key and fingerprint, the trusted peers, writing and
reading bundle files, the exchange history, field conflicts and possible
duplicate residents found by imports.

One module per part, each a widget that runs its own actions on the worker:

- ``key_strip``  本站密钥 (the strip above the tabs)
- ``transfer``   导出 / 导入
- ``peers``      信任的站点 (and ``TrustPeerDialog``)
- ``history``    交换记录
- ``conflicts``  冲突
- ``duplicates`` 疑似重复居民
- ``common``     what they share (table helpers, ``ExchangeTab``)

The page reads what every part shows in one worker job (each part says what
to read: ``reader()``) and routes what crosses tabs: a reload after a change,
a tab's label with its count, a notice for the 导出 / 导入 result.  All
database and file work goes through ``desktop.services.sync.exchange``; the
services check every role again; the page only hides what the signed-in
account may not do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QTabWidget, QWidget

from db.engine import Database
from desktop.services.context import Actor
from desktop.services.sync import exchange  # noqa: F401  (tests patch the service through this module)
from desktop.settings import Settings
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page, forwarded
from desktop.ui.pages.exchange.common import ExchangeTab, user_message
from desktop.ui.pages.exchange.conflicts import ConflictsTab
from desktop.ui.pages.exchange.duplicates import DuplicatesTab
from desktop.ui.pages.exchange.history import HistoryTab
from desktop.ui.pages.exchange.key_strip import KeyStrip
from desktop.ui.pages.exchange.peers import TRUST_TEXT, PeersTab, TrustPeerDialog
from desktop.ui.pages.exchange.transfer import TransferTab
from desktop.ui.worker import SerialWorker

__all__ = ["ExchangePage", "TRUST_TEXT", "TrustPeerDialog"]

log = logging.getLogger(__name__)


@dataclass
class Snapshot:
    """Everything the page shows, read in one worker job."""

    identity: tuple[str, str, str, str]
    peers: list[Any]
    history: list[Any]
    conflicts: tuple[list[Any], int]  # the rows shown, how many are open
    duplicates: tuple[list[Any], int]


class ExchangePage(Page):
    title = "数据交换"
    min_role = "supervisor"

    TAB_TRANSFER, TAB_PEERS, TAB_HISTORY, TAB_CONFLICTS, TAB_DUPLICATES = range(5)

    def __init__(
        self,
        db: Database,
        actor: Actor,
        worker: SerialWorker,
        *,
        settings: Settings | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(db, actor, worker, parent)
        self.key_strip = KeyStrip(db, actor, worker)
        self.transfer = TransferTab(db, actor, worker, settings=settings)
        self.peers = PeersTab(db, actor, worker)
        self.history = HistoryTab(db, actor, worker)
        self.conflicts = ConflictsTab(db, actor, worker)
        self.duplicates = DuplicatesTab(db, actor, worker)

        self.layout_.addWidget(self.key_strip)
        self.tabs = QTabWidget()
        parts: list[tuple[ExchangeTab, str]] = [
            (self.transfer, "导出 / 导入"),
            (self.peers, "信任的站点"),
            (self.history, "交换记录"),
            (self.conflicts, "冲突"),
            (self.duplicates, "疑似重复居民"),
        ]
        for i, (tab, label) in enumerate(parts):
            self.tabs.addTab(tab, label)
            tab.retitled.connect(lambda text, i=i: self.tabs.setTabText(i, text))
        for part in (self.key_strip, *(tab for tab, _label in parts)):
            part.reload.connect(self.activated)
            part.notice.connect(self.transfer.say)
            part.update_buttons()
        self.transfer.started.connect(lambda: self.tabs.setCurrentIndex(self.TAB_TRANSFER))
        self.layout_.addWidget(self.tabs, 1)

    # The parts' widgets, state and actions under the page's own names (callers and tests use them).
    station_label = forwarded("key_strip", "station_label")
    fingerprint_caption = forwarded("key_strip", "fingerprint_caption")
    fingerprint = forwarded("key_strip", "fingerprint")
    export_key_btn = forwarded("key_strip", "export_key_btn")
    export_key = forwarded("key_strip", "export_key")
    peer_combo = forwarded("transfer", "peer_combo")
    peer_note = forwarded("transfer", "peer_note")
    export_btn = forwarded("transfer", "export_btn")
    full_btn = forwarded("transfer", "full_btn")
    import_btn = forwarded("transfer", "import_btn")
    progress = forwarded("transfer", "progress")
    progress_sig = forwarded("transfer", "progress_sig")
    result = forwarded("transfer", "result")
    busy = forwarded("transfer", "busy")
    last_result = forwarded("transfer", "last_result")
    export_bundle = forwarded("transfer", "export_bundle")
    import_bundle = forwarded("transfer", "import_bundle")
    trust_btn = forwarded("peers", "trust_btn")
    revoke_btn = forwarded("peers", "revoke_btn")
    peer_table = forwarded("peers", "peer_table")
    history_table = forwarded("history", "history_table")
    conflict_table = forwarded("conflicts", "conflict_table")
    conflict_rows = forwarded("conflicts", "conflict_rows")
    conflict_note = forwarded("conflicts", "conflict_note")
    show_resolved = forwarded("conflicts", "show_resolved")
    panel_a = forwarded("conflicts", "panel_a")
    panel_b = forwarded("conflicts", "panel_b")
    duplicate_table = forwarded("duplicates", "duplicate_table")
    duplicate_rows = forwarded("duplicates", "duplicate_rows")
    duplicate_note = forwarded("duplicates", "duplicate_note")
    show_decided = forwarded("duplicates", "show_decided")
    dismiss_btn = forwarded("duplicates", "dismiss_btn")
    left = forwarded("duplicates", "left")
    right = forwarded("duplicates", "right")

    # ------------------------------------------------------------ loading
    def activated(self) -> None:
        identity, peers, history = self.key_strip.reader(), self.peers.reader(), self.history.reader()
        conflicts, duplicates = self.conflicts.reader(), self.duplicates.reader()

        def load() -> Snapshot:
            ident, confs, dups = identity(), conflicts(), duplicates()
            return Snapshot(ident, peers(), history(), confs, dups)

        self.worker.run(load, self._show, self._load_failed)

    def _load_failed(self, exc: BaseException) -> None:
        log.warning("loading the exchange page failed: %s", exc)
        msg = user_message(exc)
        self.key_strip.show_unreadable(msg)
        if not msg:
            show_error(self, exc)

    def _show(self, snap: Snapshot) -> None:
        self.key_strip.show_identity(snap.identity)
        self.peers.show_peers(snap.peers)
        self.transfer.show_peers(snap.peers)
        self.history.show_history(snap.history)
        self.conflicts.show_conflicts(snap.conflicts)
        self.duplicates.show_duplicates(snap.duplicates)
