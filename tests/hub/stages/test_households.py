"""The household table's reverse index stays true through every way the table changes."""

from __future__ import annotations

from hub.stages.households import HouseholdTable, Members


def test_a_households_children_follow_every_change() -> None:
    members = Members()
    members["a"], members["b"], members["c"] = "H", "H", "G"
    assert (members.of("H"), members.of("G"), members.of("X")) == (["a", "b"], ["c"], [])
    members["a"] = "G"
    assert (members.of("H"), members.of("G")) == (["b"], ["c", "a"])
    del members["b"]
    assert members.of("H") == [] and "b" not in members
    assert members.copy() == {"a": "G", "c": "G"} and len(members) == 2


def test_a_rolled_back_merge_leaves_the_index_as_it_was() -> None:
    table = HouseholdTable()
    table.join("H", ["a", "b"])
    table.join("G", ["c"])
    table.commit()
    table.move(table.members_of("G"), "H")
    assert table.members_of("H") == ["a", "b", "c"]
    table.rollback()
    assert (table.members_of("H"), table.members_of("G")) == (["a", "b"], ["c"])
    table.read("d", "G")
    assert table.members_of("G") == ["c", "d"]


def test_members_get_answers_as_a_mapping_does() -> None:
    members = Members()
    assert members.get("child-a") is None
    assert members.get("child-a", "fallback") == "fallback"
    members["child-a"] = "household-1"
    assert members.get("child-a") == "household-1"
    del members["child-a"]
    assert members.get("child-a") is None
