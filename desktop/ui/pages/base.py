from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from db.engine import Database
from desktop.services.context import Actor
from desktop.ui.widgets import heading
from desktop.ui.worker import SerialWorker


class Page(QWidget):
    """A page of the main window. ``title`` shows in the sidebar; ``min_role``
    hides it from roles that may not use it (the services check again)."""

    title = ""
    min_role = "desk"

    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(parent)
        self.db, self.actor, self.worker = db, actor, worker
        self.setObjectName("page")
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(28, 20, 28, 20)
        self.layout_.setSpacing(12)
        self.layout_.addWidget(heading(self.title))

    def activated(self) -> None:
        """Called when the page is shown; refresh what it shows."""

    def unsaved(self) -> bool:
        """True when the page holds typed input that closing the window would lose."""
        return False


class PagePart(QWidget):
    """A piece of a page (a tab, a panel) that runs its own actions on the
    worker with the page's database and signed-in account."""

    def __init__(self, db: Database, actor: Actor, worker: SerialWorker, parent: QWidget | None = None):
        super().__init__(parent)
        self.db, self.actor, self.worker = db, actor, worker


def forwarded(part: str, name: str) -> property:
    """A read-only page attribute that is ``self.<part>.<name>``: a page made
    of tab widgets keeps the short paths (``page.result``) its callers and
    tests use, while the widget and its state live in the tab."""
    return property(lambda self: getattr(getattr(self, part), name), doc=f"``self.{part}.{name}``")
