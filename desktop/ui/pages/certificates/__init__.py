"""开具证明: find the type (aliases: 亲属, 单身, 健在, 居住 …), issue what the
catalogue retains, refuse what it abolished with a printed pointer, approve,
void, reissue, verify a scanned certificate, and the ledgers.

One module per part, each a widget that runs its own actions on the worker:

- ``issue``     the issue panel (a retained type's form and 开具并打印)
- ``refuse``    the refuse panel (an abolished type and its 告知单)
- ``pending``   待审批
- ``ledger``    开具台账 (its period also filters 用印登记 and 拒开记录)
- ``seal``      用印登记
- ``refusals``  拒开记录
- ``verify``    核验证明 (``VerifyDialog``)
- ``catalogue`` 证明目录 (``CertCatalogueDialog``, ``CertTypeDialog``)
- ``common``    what they share (period filter, ``CertTab``)

The page holds the search box and the list of types, shows the issue or the
refuse panel for the type chosen, reads the four ledgers in one worker job
(each tab says what to read: ``reader()``), and routes what crosses parts: a
certificate to print, the next resident after issuing or refusing, a
refusal the service made instead of issuing.
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
)

from desktop.services import certificates as certs
from desktop.services.search import Hit, ResidentIndex
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page, forwarded
from desktop.ui.pages.certificates.catalogue import CertCatalogueDialog, CertTypeDialog
from desktop.ui.pages.certificates.common import PERIODS, RED, period_range
from desktop.ui.pages.certificates.issue import ChoiceCompleter, IssuePanel
from desktop.ui.pages.certificates.ledger import LedgerTab
from desktop.ui.pages.certificates.pending import PendingTab
from desktop.ui.pages.certificates.refusals import RefusalsTab
from desktop.ui.pages.certificates.refuse import RefusePanel
from desktop.ui.pages.certificates.seal import SealTab
from desktop.ui.pages.certificates.verify import VerifyDialog
from desktop.ui.widgets import scaled

__all__ = [
    "CertificatesPage",
    "CertCatalogueDialog",
    "CertTypeDialog",
    "ChoiceCompleter",
    "PERIODS",
    "VerifyDialog",
    "period_range",
]


class CertificatesPage(Page):
    title = "开具证明"

    def __init__(self, *args: Any, index: ResidentIndex | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.index = index if index is not None else ResidentIndex(self.db)
        self.types: list[certs.CertTypeView] = []
        self.shown: list[certs.CertTypeView] = []
        self.current: certs.CertTypeView | None = None
        db, actor, worker = self.db, self.actor, self.worker

        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText(
            "证明名称或关键词（居住、亲属、单身、健在…）；扫描证明二维码或输入编号后回车可核验"
        )
        self.search.setClearButtonEnabled(True)
        scaled(self.search, 2)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._enter)
        self.verify_btn = QPushButton("核验证明")
        self.verify_btn.clicked.connect(lambda _c=False: self.verify(self.search.text()))
        self.catalogue_btn = QPushButton("证明目录")
        self.catalogue_btn.clicked.connect(lambda _c=False: self.open_catalogue())
        top.addWidget(self.search, 1)
        top.addWidget(self.verify_btn)
        top.addWidget(self.catalogue_btn)
        self.layout_.addLayout(top)

        split = QSplitter(Qt.Orientation.Vertical)
        upper = QSplitter()
        self.type_list = QListWidget()
        self.type_list.currentRowChanged.connect(self._pick_type)
        upper.addWidget(self.type_list)
        self.stack = QStackedWidget()
        self.issue_panel = IssuePanel(db, actor, worker, self.index)
        self.refuse_panel = RefusePanel(db, actor, worker, self.index)
        self.stack.addWidget(self.issue_panel)
        self.stack.addWidget(self.refuse_panel)
        upper.addWidget(self.stack)
        upper.setSizes([300, 800])
        split.addWidget(upper)

        self.pending = PendingTab(db, actor, worker)
        self.ledger = LedgerTab(db, actor, worker)
        self.seal = SealTab(db, actor, worker)
        self.refusals = RefusalsTab(db, actor, worker)
        self.tabs = QTabWidget()
        for i, (tab, label) in enumerate(
            ((self.pending, "待审批"), (self.ledger, "开具台账"), (self.seal, "用印登记"), (self.refusals, "拒开记录"))
        ):
            self.tabs.addTab(tab, label)
            tab.retitled.connect(lambda text, i=i: self.tabs.setTabText(i, text))
        for part in (self.issue_panel, self.refuse_panel, self.pending, self.ledger):
            part.changed.connect(self.refresh)
            part.printing.connect(self.print_certificate)
        for panel in (self.issue_panel, self.refuse_panel):
            panel.done.connect(self._next_resident)
        self.issue_panel.refused_as.connect(self._show_type_id)
        split.addWidget(self.tabs)
        split.setSizes([380, 260])
        self.layout_.addWidget(split, 1)

    # The parts' widgets, state and actions under the page's own names (callers and tests use them).
    picker = forwarded("issue_panel", "picker")
    field_edits = forwarded("issue_panel", "field_edits")
    materials = forwarded("issue_panel", "materials")
    copies = forwarded("issue_panel", "copies")
    message = forwarded("issue_panel", "message")
    issue_btn = forwarded("issue_panel", "issue_btn")
    issue = forwarded("issue_panel", "issue")
    tick_all = forwarded("issue_panel", "tick_all")
    _seen = forwarded("issue_panel", "_seen")
    r_picker = forwarded("refuse_panel", "r_picker")
    r_where = forwarded("refuse_panel", "r_where")
    refuse_btn = forwarded("refuse_panel", "refuse_btn")
    refuse = forwarded("refuse_panel", "refuse")
    pending_table = forwarded("pending", "pending_table")
    pending_rows = forwarded("pending", "pending_rows")
    approve_btn = forwarded("pending", "approve_btn")
    approve = forwarded("pending", "approve")
    ledger_table = forwarded("ledger", "ledger_table")
    ledger_rows = forwarded("ledger", "ledger_rows")
    period = forwarded("ledger", "period")
    status_filter = forwarded("ledger", "status_filter")
    type_filter = forwarded("ledger", "type_filter")
    print_btn = forwarded("ledger", "print_btn")
    reissue_selected = forwarded("ledger", "reissue_selected")
    export = forwarded("ledger", "export")
    seal_table = forwarded("seal", "seal_table")
    refusal_table = forwarded("refusals", "refusal_table")

    # ------------------------------------------------------------ types
    def activated(self) -> None:
        if not self.types:
            self._load_types()
        self.refresh()
        self.issue_panel.load_purposes()
        self.search.setFocus()

    def _load_types(self) -> None:
        db = self.db

        def show(types: list[certs.CertTypeView]) -> None:
            self.types = types
            self._filter(self.search.text())
            self.ledger.fill_type_filter(types)

        self.worker.run(lambda: certs.catalogue(db), show, lambda e: show_error(self, e))

    def preselect(self, rid: uuid.UUID) -> None:
        """Opened from 居民 for one resident: both pickers show them, the list
        starts from the top (the common retained types) and the cursor waits
        in the search box, so Enter starts the first type's form."""
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._filter("")
        self.search.setFocus()
        index = self.index
        self.worker.run(lambda: index.hit_of(rid), self._chosen, lambda e: show_error(self, e))

    def _chosen(self, h: Hit | None) -> None:
        if h is not None:
            self.picker.choose(h)
            self.r_picker.choose(h)

    def _next_resident(self) -> None:
        """After a certificate is issued or refused: nobody picked, nothing
        ticked, empty fields, one copy, so the next resident starts clean;
        then the ledgers again."""
        self.issue_panel.clear()
        self.r_picker.clear()
        self.issue_panel.load_purposes()
        self.refresh()

    def _filter(self, text: str) -> None:
        if certs.looks_like_code(text) or text.strip().upper().startswith("ZY:"):
            return
        self.shown = certs.search(self.types, text)
        self.type_list.clear()
        for t in self.shown:
            item = QListWidgetItem(("✕ " if t.kind == "abolished" else "") + t.name + f"　[{t.kind_label}]")
            if t.kind == "abolished":
                item.setForeground(RED)
            self.type_list.addItem(item)
        if self.shown:
            self.type_list.setCurrentRow(0)

    def _enter(self) -> None:
        text = self.search.text()
        if certs.looks_like_code(text) or text.strip().upper().startswith("ZY:"):
            self.verify(text)
        elif self.shown:
            first = next(iter(self.field_edits.values()), None) if self.current and self.current.issuable else None
            (first or self.type_list).setFocus()  # the chosen type's first field: start typing

    def _pick_type(self, row: int) -> None:
        if not 0 <= row < len(self.shown):
            return
        t = self.current = self.shown[row]
        self.message.clear()
        if t.kind == "abolished":
            self.issue_panel.type = None
            self.refuse_panel.show_type(t)
            self.stack.setCurrentWidget(self.refuse_panel)
            return
        self.refuse_panel.type = None
        self.stack.setCurrentWidget(self.issue_panel)
        self.issue_panel.show_type(t)

    def _show_type_id(self, type_id: uuid.UUID) -> None:
        """The service refused the request as type ``type_id``: show that type."""
        self.search.clear()
        for i, x in enumerate(self.shown):
            if x.id == type_id:
                self.type_list.setCurrentRow(i)

    def select_type(self, code: str) -> None:
        self.search.clear()
        for i, t in enumerate(self.shown):
            if t.code == code:
                self.type_list.setCurrentRow(i)
                return

    def unsaved(self) -> bool:
        return self.issue_panel.unsaved()

    def print_certificate(self, cert_id: uuid.UUID) -> None:
        from desktop import paperwork
        from desktop.ui.printing import show_preview

        db, actor = self.db, self.actor

        def preview(doc: Any) -> None:
            show_preview(self, doc.title, lambda _layout: doc, suggested_name=f"{doc.title}.pdf")

        self.worker.op(
            lambda: paperwork.certificate_document(db, actor, cert_id), preview, busy=[self.print_btn], parent=self
        )

    # ------------------------------------------------------------ tables
    def refresh(self) -> None:
        start, end = self.ledger.span()
        reads = [
            self.pending.reader(),
            self.ledger.reader(),
            self.seal.reader(start, end),
            self.refusals.reader(start, end),
        ]

        def load() -> list[Any]:
            return [read() for read in reads]

        self.worker.run(load, self._show, lambda e: show_error(self, e))

    def _show(self, result: list[Any]) -> None:
        pend, led, seal, refused = result
        self.pending.show_rows(pend)
        self.ledger.show_rows(led)
        self.seal.show_rows(seal)
        self.refusals.show_rows(refused)

    def open_catalogue(self) -> None:
        dlg = CertCatalogueDialog(self)
        dlg.exec()
        if dlg.changed:
            self._load_types()

    # ------------------------------------------------------------ verify
    def verify(self, code: str) -> None:
        if not code.strip():
            return
        db = self.db
        if code.strip().upper().startswith("ZY:"):  # a 志愿服务记录证明
            from desktop.services import volunteers

            def checked(res: tuple[bool, str]) -> None:
                self.search.clear()
                (QMessageBox.information if res[0] else QMessageBox.warning)(self, "核验志愿服务记录证明", res[1])

            self.worker.op(lambda: volunteers.verify_certificate(db, code), checked, busy=[self.search], parent=self)
            return

        def verified(v: certs.Verification) -> None:
            self.search.clear()
            VerifyDialog(self, v).exec()

        self.worker.op(lambda: certs.verify(db, code), verified, busy=[self.search], parent=self)
