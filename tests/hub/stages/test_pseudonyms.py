"""Pseudonyms carry their key version; the first key's stay as they always were."""

from __future__ import annotations

from hub.stages.pseudonyms import Pseudonymiser, version_of


def test_the_first_keys_pseudonyms_have_no_prefix_and_a_later_keys_say_their_version() -> None:
    first, second = Pseudonymiser(b"k" * 16), Pseudonymiser(b"k" * 16, 2)
    old, new = first.child("999990019"), second.child("999990019")
    assert len(old) == 32 and version_of(old) == 1
    assert new == "v2-" + old, "the same key under another version: only the prefix differs"
    assert version_of(second.household_of("999990019")) == 2
    assert version_of("v12-" + "0" * 32) == 12


def test_a_successor_depends_on_the_old_household_and_the_new_key_only() -> None:
    new = Pseudonymiser(b"n" * 16, 2)
    assert new.successor("a" * 32) == new.successor("a" * 32) != new.successor("b" * 32)
    assert Pseudonymiser(b"m" * 16, 2).successor("a" * 32) != new.successor("a" * 32)
    assert version_of(new.successor("a" * 32)) == 2
