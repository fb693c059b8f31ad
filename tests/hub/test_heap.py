"""settle_heap and keep_heap_frozen: long-lived objects leave the collector's generations."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from hub.heap import keep_heap_frozen, settle_heap


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
