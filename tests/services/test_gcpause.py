import gc
import threading

import pytest

from desktop.services import gcpause


def test_paused_nests_and_restores():
    assert gc.isenabled()
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_an_error_inside_still_restores():
    with pytest.raises(RuntimeError), gcpause.paused():
        raise RuntimeError("the report failed half way")
    assert gc.isenabled()


def test_overlapping_threads_restore_once_the_last_ends():
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with gcpause.paused():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other)
    t.start()
    assert inside.wait(5)
    with gcpause.paused():
        pass
    assert not gc.isenabled()  # the other thread's pause is still on
    release.set()
    t.join(5)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
