"""settle_heap: start-up's objects leave the collector's generations."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from hub.heap import settle_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_what_lives_at_start_up_is_frozen_and_no_longer_walked() -> None:
    survivor = [{"kept": i} for i in range(1_000)]
    frozen = settle_heap()
    assert frozen >= len(survivor) and gc.get_freeze_count() == frozen
    tracked = {id(o) for o in gc.get_objects()}
    assert id(survivor) not in tracked and id(survivor[0]) not in tracked
