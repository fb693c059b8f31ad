"""settle_heap and keep_heap_frozen: long-lived objects leave the collector's generations;
limit_malloc_arenas: the hub's threads share two malloc arenas."""

from __future__ import annotations

import gc
import os
import platform
import subprocess
import sys
from collections.abc import Iterator

import pytest

from hub.heap import keep_heap_frozen, limit_malloc_arenas, settle_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Nothing frozen, and no other hook of the process's collector (a test that ran a hub in
    this process leaves its own) while the test runs; both as they were after."""
    hooks = gc.callbacks[:]
    gc.callbacks.clear()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.callbacks[:] = hooks


@pytest.mark.usefixtures("unfrozen")
def test_what_lives_at_start_up_is_frozen_and_no_longer_walked() -> None:
    survivor = [{"kept": i} for i in range(1_000)]
    frozen = settle_heap()
    assert frozen >= len(survivor) and gc.get_freeze_count() == frozen
    tracked = {id(o) for o in gc.get_objects()}
    assert id(survivor) not in tracked and id(survivor[0]) not in tracked


@pytest.mark.usefixtures("unfrozen")
def test_what_survives_a_full_collection_is_frozen_from_then_on() -> None:
    undo = keep_heap_frozen()
    try:
        survivor = [{"kept": i} for i in range(1_000)]
        assert id(survivor) in {id(o) for o in gc.get_objects()}
        gc.collect(1)  # a young collection freezes nothing
        assert id(survivor) in {id(o) for o in gc.get_objects()}
        gc.collect()
        tracked = {id(o) for o in gc.get_objects()}
        assert id(survivor) not in tracked and id(survivor[0]) not in tracked
        later = [{"new": i} for i in range(10)]
        assert id(later) in {id(o) for o in gc.get_objects()}  # walked until the next one
    finally:
        undo()
    gc.unfreeze()
    gc.collect()
    again = [{"after": i} for i in range(10)]
    gc.collect()
    assert id(again) in {id(o) for o in gc.get_objects()}  # undone: nothing frozen any more


@pytest.mark.usefixtures("unfrozen")
def test_frozen_objects_are_still_freed_by_reference_counting() -> None:
    undo = keep_heap_frozen()
    try:
        freed = []

        class Kept:
            def __del__(self) -> None:
                freed.append(True)

        kept = [Kept()]
        gc.collect()
        del kept
        assert freed == [True]
    finally:
        undo()


_ARENAS_SCRIPT = r"""
import ctypes, ctypes.util, re, sys, tempfile, threading
from hub.heap import limit_malloc_arenas
applied = limit_malloc_arenas(2) if sys.argv[1] == "limit" else None
held, ready, go = [], threading.Barrier(9), threading.Event()
def work():
    held.append([bytearray(64 * 1024) for _ in range(50)])  # malloc'd in the thread's arena
    ready.wait()
    go.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
ready.wait()  # all eight allocate at once, each holding its memory
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile() as out:
    stream = libc.fopen(out.name.encode(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    arenas = len(re.findall(r'<heap nr="', open(out.name).read()))
go.set()
for t in threads:
    t.join()
print(applied, arenas)
"""


def _arenas(mode: str) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run(
        [sys.executable, "-c", _ARENAS_SCRIPT, mode], capture_output=True, text=True, env=env,
        check=True,
    ).stdout.split()  # fmt: skip
    return out[0], int(out[1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc malloc arenas only")
def test_the_hubs_threads_share_two_malloc_arenas_instead_of_one_each() -> None:
    applied, arenas = _arenas("limit")
    assert applied == "True" and arenas <= 2
    _, by_default = _arenas("default")
    assert by_default > 2, "without the limit, busy threads get arenas of their own"


def test_an_arena_limit_set_in_the_environment_is_left_to_glibc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
