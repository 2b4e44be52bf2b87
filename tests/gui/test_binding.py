"""Guards against a Qt binding that would crash a long-running desk."""

import sys

import pytest


def test_void_calls_do_not_leak_references_to_none(qapp):
    """PySide6 6.12.0 on Python 3.11 decremented None's refcount on every call
    of a method returning void; after enough calls the process aborts with
    "deallocating None". A front desk runs all day, so this must hold."""
    if sys.version_info >= (3, 12):
        pytest.skip("None is immortal from Python 3.12")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QLabel

    label, timer = QLabel(), QTimer()
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("张三")
        timer.start(1000)
        qapp.processEvents()
    assert abs(sys.getrefcount(None) - before) < 100
