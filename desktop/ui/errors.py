"""Showing errors: a plain Chinese message for known ones, a calm dialog with
"copy details" for the unexpected.  Also the exception hook and log setup."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db.errors import friendly

log = logging.getLogger("desktop")


def setup_logging(log_file: Path) -> None:
    """A rotating log file (1 MB x 5). Messages must never hold personal data."""
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


class ErrorDialog(QDialog):
    def __init__(self, message: str, details: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("出错了")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        self.message = QLabel(message)
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        self.details = QPlainTextEdit(details)
        self.details.setReadOnly(True)
        self.details.setVisible(False)
        self.details.setMinimumHeight(180)
        lay.addWidget(self.details)
        buttons = QDialogButtonBox()
        self.toggle = QPushButton("显示详细信息")
        self.copy = QPushButton("复制详细信息")
        close = QPushButton("关闭")
        close.setProperty("primary", True)
        buttons.addButton(self.toggle, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(close, QDialogButtonBox.ButtonRole.AcceptRole)
        self.toggle.clicked.connect(self._toggle)
        self.copy.clicked.connect(self._copy)
        close.clicked.connect(self.accept)
        lay.addWidget(buttons)
        close.setDefault(True)

    def _toggle(self) -> None:
        self.details.setVisible(not self.details.isVisible())
        self.toggle.setText("隐藏详细信息" if self.details.isVisible() else "显示详细信息")

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.details.toPlainText())
        self.copy.setText("已复制")


UNEXPECTED = (
    "程序遇到了一个意外的问题，刚才的操作可能没有完成；已经保存的数据不受影响。\n"
    "如果问题反复出现，请点“复制详细信息”，发给技术支持。"
)


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    """A known error as a short message; anything else with details to copy."""
    known = friendly(exc)
    if known is not None:
        QMessageBox.warning(parent, "无法完成", known.user_message)
        return
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log.error("unexpected error:\n%s", details)
    ErrorDialog(UNEXPECTED, details, parent).exec()


def _hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    exc.__traceback__ = tb
    if QApplication.instance() is None:
        sys.__excepthook__(exc_type, exc, tb)
        return
    try:
        show_error(QApplication.activeWindow(), exc)
    except Exception:  # noqa: BLE001 - never raise from the hook
        log.exception("error while showing an error")


def install_excepthook() -> None:
    sys.excepthook = _hook

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        log.error(
            "unhandled error in thread %s",
            args.thread.name if args.thread else "?",
            exc_info=args.exc_value if args.exc_value is not None else True,
        )

    threading.excepthook = thread_hook
