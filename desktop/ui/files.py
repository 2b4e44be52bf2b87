"""Every file dialog of the app, and the note after a file is saved.

Dialogs open in the folder used last (kept in the settings as ``last_folder``),
or the user's documents folder the first time.  A saved PDF or Excel file is
confirmed with an 打开文件夹 button that shows the file's folder.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop.settings import Settings

PDF = "PDF 文件 (*.pdf)"
EXCEL = "Excel 文件 (*.xlsx)"
OPEN_FOLDER = "打开文件夹"

_settings: Settings | None = None


def use_settings(settings: Settings) -> None:
    """Called once at start-up (``make_app``) so the last folder is remembered."""
    global _settings
    _settings = settings


def start_folder() -> str:
    """The folder a file dialog opens in: the last one used if it still exists,
    else the documents folder."""
    last = _settings["last_folder"] if _settings is not None else ""
    if last and Path(last).is_dir():
        return last
    return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)


def _remember(path: str, is_folder: bool = False) -> str:
    if path and _settings is not None:
        _settings.set("last_folder", str(Path(path) if is_folder else Path(path).parent))
    return path


def _start(name: str, folder: str | None) -> str:
    base = folder or start_folder()
    return str(Path(base) / name) if name else base


def save_file(parent: QWidget | None, title: str, name: str, filter_: str, folder: str | None = None) -> str:
    """Ask where to save; ``name`` is the suggested file name.  '' when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, title, _start(name, folder), filter_)
    return _remember(path)


def open_file(parent: QWidget | None, title: str, filter_: str, folder: str | None = None) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, _start("", folder), filter_)
    return _remember(path)


def choose_folder(parent: QWidget | None, title: str, folder: str | None = None) -> str:
    path = QFileDialog.getExistingDirectory(parent, title, _start("", folder))
    return _remember(path, is_folder=True)


def open_folder(path: str | Path) -> bool:
    """Show the folder that holds ``path`` in the system's file manager."""
    p = Path(path)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(p if p.is_dir() else p.parent)))


def saved_box(parent: QWidget | None, title: str, text: str, path: str | Path) -> QMessageBox:
    """The message that confirms a saved file, with an 打开文件夹 button."""
    box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, parent)
    folder = box.addButton(OPEN_FOLDER, QMessageBox.ButtonRole.ActionRole)
    folder.clicked.connect(lambda _c=False: open_folder(path))
    box.setDefaultButton(QMessageBox.StandardButton.Ok)
    return box


def show_saved(parent: QWidget | None, title: str, text: str, path: str | Path) -> QMessageBox:
    """Show the confirmation without waiting for it (no nested event loop);
    it closes itself with 确定 and is deleted then."""
    from PySide6.QtCore import Qt

    box = saved_box(parent, title, text, path)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
