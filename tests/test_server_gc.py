"""The language server tunes the garbage collector at start-up
(hplint/server/gctune.py): raised thresholds, start-up objects frozen, and an
idle full collection that sees the frozen heap too."""

from __future__ import annotations

import gc
import types

import pytest

from hplint import server as server_pkg
from hplint.server import gctune
from hplint.server.server import HplintServer


@pytest.fixture
def restore_gc():
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_tune_gc_raises_thresholds_and_freezes(restore_gc):
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    gctune.tune_gc()
    assert gc.get_threshold() == gctune.THRESHOLDS
    assert gc.get_threshold()[0] > 700
    assert gc.get_freeze_count() > 0  # the imported modules' objects


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_idle_collection_frees_cycles_that_were_frozen(restore_gc):
    import weakref

    gctune.tune_gc()
    obj = _Cycle()
    ref = weakref.ref(obj)
    gc.freeze()  # e.g. frozen by after_lint() while still in use
    del obj
    gc.collect()
    assert ref() is not None  # a frozen cycle survives ordinary collections...
    gctune.collect_when_idle()
    assert ref() is None  # ...the idle collection sees the whole heap
    assert gc.get_freeze_count() > 0  # and freezes the survivors again


def test_first_lint_freezes_once(restore_gc):
    gctune.tune_gc()
    gc.unfreeze()
    gctune.after_lint()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    gc.unfreeze()
    gctune.after_lint()  # later lints leave freezing to the idle collection
    assert gc.get_freeze_count() == 0


def test_server_start_up_applies_the_tuning(monkeypatch, restore_gc):
    calls = []

    class FakeServer:
        def tune_gc(self) -> None:
            calls.append("tune_gc")

        def start_io(self) -> None:
            calls.append("start_io")

    import hplint.server.server as server_mod

    monkeypatch.setattr(server_mod, "create_server", lambda: FakeServer())
    monkeypatch.delenv("HPLINT_SERVER_GC", raising=False)
    assert server_pkg.main(types.SimpleNamespace(log_level="WARNING", tcp=None)) == 0
    assert calls == ["tune_gc", "start_io"]  # tuned before serving, after the imports

    calls.clear()
    monkeypatch.setenv("HPLINT_SERVER_GC", "default")  # the benchmark's "before"
    server_pkg.main(types.SimpleNamespace(log_level="WARNING", tcp=None))
    assert calls == ["start_io"]


def test_server_tune_gc_marks_the_server(restore_gc):
    ls = HplintServer()
    assert not ls.gc_tuned
    ls.tune_gc()
    assert ls.gc_tuned and gc.get_threshold() == gctune.THRESHOLDS


def test_editing_without_pause_still_collects_cycles(restore_gc):
    import weakref

    gctune.tune_gc()
    gctune.after_lint()  # the first lint: freezes
    gc.set_threshold(0)  # no automatic collection: only after_lint may free the cycle
    obj = _Cycle()
    ref = weakref.ref(obj)
    del obj
    for _ in range(gctune.COLLECT_EVERY - 1):
        gctune.after_lint()
    assert ref() is not None
    gctune.after_lint()
    assert ref() is None  # collected by the COLLECT_EVERY-th lint, no idle period needed
