"""StateStore: restored states stay raw until used, and it answers as a mapping does."""

from __future__ import annotations

from hub.stages.state_store import StateStore, restore_record
from routing.state import HouseholdState


def test_get_answers_as_a_mapping_does_and_parses_a_raw_state_once() -> None:
    store = StateStore()
    state = HouseholdState(merged_into="household-2")
    assert store.get("household-1") is None
    assert store.get("household-1", state) is state
    restore_record(store, b"household-1", state.model_dump_json().encode())
    assert store.parsed() == 0, "a restored state stays raw until it is used"
    assert store.get("household-1") == state
    assert store.parsed() == 1
    assert store.get("household-1") is store["household-1"]
    restore_record(store, b"household-1", None)  # a tombstone
    assert store.get("household-1") is None
