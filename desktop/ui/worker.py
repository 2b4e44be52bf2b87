"""One serial background worker for database work (after Anki's aqt/operations).

The rule: the background function never touches a widget.  It gets plain
arguments, returns a plain result, and the result (or the exception) comes
back to the UI thread by a queued signal, where the callback may use widgets.
One worker, one job at a time, so database work never races itself.

Work that takes longer than ``PROGRESS_DELAY_MS`` shows a progress dialog.
Page actions go through ``op`` (like Anki's CollectionOp): the button, menu
action or field that started the work is disabled until the result is back,
so a double click or a second Enter cannot do the work twice.
``call`` runs a job and waits for it in a local event loop; keep it for when
no window exists yet (opening the database, setup, sign-in): a nested loop
delivers a second click while the first is still running.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Callable, Iterable

import shiboken6

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QProgressDialog, QWidget

log = logging.getLogger(__name__)

PROGRESS_DELAY_MS = 300
_BUSY = "_desk_op_busy"  # dynamic property on a widget whose action is running


class _Relay(QObject):
    done = Signal(object, object, object)  # job, result, exception


def _widget_of(handler: Callable[..., object] | None) -> QWidget | None:
    """The widget a handler is a method of (``page._show``), if it is one."""
    owner = getattr(handler, "__self__", None)
    return owner if isinstance(owner, QWidget) else None


class _Job:
    __slots__ = ("fn", "on_done", "on_error", "owner", "release", "progress", "timer")

    def __init__(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], object] | None,
        on_error: Callable[[BaseException], None] | None,
        owner: QWidget | None = None,
    ):
        self.fn = fn
        self.on_done = on_done
        self.on_error = on_error
        self.owner = owner  # the widget that asked: when it is gone, so is the result
        self.release: Callable[[], None] | None = None  # op(): re-enable what it held, always
        self.progress: QProgressDialog | None = None
        self.timer: QTimer | None = None


class SerialWorker(QObject):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._relay = _Relay()
        self._relay.done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._thread = threading.Thread(target=self._loop, name="db-worker", daemon=True)
        self._thread.start()
        self.pending = 0

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                result, error = job.fn(), None
            except BaseException as e:  # noqa: BLE001 - handed to the UI thread
                result, error = None, e
            self._relay.done.emit(job, result, error)

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], object] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        label: str | None = None,
        parent: QWidget | None = None,
        release: Callable[[], None] | None = None,
        bound: bool = True,
    ) -> None:
        """Run ``fn`` off the UI thread; ``on_done(result)`` / ``on_error(exc)`` on it.
        With ``parent`` (and ``bound``), a result that comes back after that
        widget was deleted (its dialog closed, its window gone) is dropped, not
        handed to a dead widget.  Without one, a handler that is a widget's
        own method (``self._show``) binds the result to that widget."""
        owner = (parent or _widget_of(on_done) or _widget_of(on_error)) if bound else None
        job = _Job(fn, on_done, on_error, owner)
        job.release = release  # runs first when the job is back, even if its window is gone
        if label:
            timer = QTimer(self)
            timer.setSingleShot(True)
            timer.timeout.connect(lambda: self._show_progress(job, label, parent))
            timer.start(PROGRESS_DELAY_MS)
            job.timer = timer
        self.pending += 1
        self._queue.put(job)

    def op(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], object] | None = None,
        *,
        busy: Iterable[QWidget | QAction | None] = (),
        on_error: Callable[[BaseException], None] | None = None,
        label: str | None = None,
        parent: QWidget | None = None,
    ) -> bool:
        """A user action: run ``fn`` on the worker with every widget or QAction
        in ``busy`` disabled until it is back, then ``on_done(result)``.

        Returns False and does nothing while an action holding one of those
        widgets is still running (a shortcut or Enter can fire even when the
        button is disabled).  An error goes to ``on_error`` or is shown over
        ``parent``.
        """
        held = [w for w in busy if w is not None]
        if any(w.property(_BUSY) for w in held):
            return False
        before = [(w, w.isEnabled()) for w in held]
        for w in held:
            w.setProperty(_BUSY, True)
            w.setEnabled(False)

        def release() -> None:
            for w, enabled in before:
                try:
                    w.setProperty(_BUSY, None)
                    w.setEnabled(enabled)
                except RuntimeError:  # the dialog that held it is gone
                    pass

        def done(result: Any) -> None:
            if on_done is not None:
                on_done(result)

        def failed(exc: BaseException) -> None:
            if on_error is not None:
                on_error(exc)
            else:
                from desktop.ui.errors import show_error

                show_error(parent, exc)

        self.run(fn, done, failed, label=label, parent=parent, release=release)
        return True

    def _show_progress(self, job: _Job, label: str, parent: QWidget | None) -> None:
        try:
            dlg = QProgressDialog(label, "", 0, 0, parent)
        except RuntimeError:  # the window that asked is gone; its result is dropped anyway
            return
        dlg.setWindowTitle("请稍候")
        dlg.setCancelButton(None)
        dlg.setWindowModality(Qt.WindowModality.WindowModal if parent else Qt.WindowModality.ApplicationModal)
        dlg.setMinimumDuration(0)
        dlg.show()
        job.progress = dlg

    def _deliver(self, job: _Job, result: Any, error: BaseException | None) -> None:
        self.pending -= 1
        if job.timer is not None:
            job.timer.stop()
            job.timer.deleteLater()
        if job.progress is not None:
            job.progress.close()
            job.progress.deleteLater()
        if job.release is not None:
            job.release()
        if job.owner is not None and not shiboken6.isValid(job.owner):
            log.debug("a background result came back after its window closed; dropped")
            return
        if error is not None:
            if job.on_error is not None:
                job.on_error(error)
            else:
                from desktop.ui.errors import show_error

                show_error(None, error)
        elif job.on_done is not None:
            job.on_done(result)

    def call(self, fn: Callable[[], Any], *, label: str | None = None, parent: QWidget | None = None) -> Any:
        """Run ``fn`` on the worker and wait (the UI keeps painting)."""
        loop = QEventLoop()
        box: dict[str, Any] = {}

        def done(r: Any) -> None:
            box["result"] = r
            loop.quit()

        def failed(e: BaseException) -> None:
            box["error"] = e
            loop.quit()

        self.run(fn, done, failed, label=label, parent=parent, bound=False)  # the caller waits for it
        while not box:
            if loop.exec() != 0 and not box:
                # The event loop refuses to run while the application is
                # quitting; keep delivering events until the job reports.
                QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
