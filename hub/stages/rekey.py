"""Ingest's part in a key rotation: which pseudonyms a message's children are known by.

After ``ketenhub keys rotate`` the household table holds children under the previous key
until a message names them. For each child a message names, ingest computes its pseudonym
under both keys: the current one when the table knows it, else the previous one when the
table knows that (the child is then renamed: a ``renamed_children`` pair for the router).
A household found under the previous key moves to a ``successor`` pseudonym in the same
partition as the old one, so the route instance that owns the old state can hand it over at
once, in the transaction of the message that moves it (``HouseholdMoves.in_place``): a next
message, keyed to the new pseudonym straight away, comes after it in that partition and
finds the state there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hub.kafka.partitioner import partition_of
from hub.stages.pseudonyms import Pseudonymiser, version_of

MAX_ATTEMPTS_PER_PARTITION = 64


@dataclass(frozen=True)
class KnownAs:
    """Current-key pseudonym -> the one the household table has for that child."""

    previous: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, child: str) -> str:
        return self.previous.get(child, child)

    @property
    def renamed(self) -> tuple[tuple[str, str], ...]:
        """(previous-key, current-key) pairs, for ``RoutingFacts.renamed_children``."""
        return tuple((old, new) for new, old in self.previous.items())


NOTHING_RENAMED = KnownAs()


def known_as(
    members: Mapping[str, str],
    current: Pseudonymiser,
    previous: Pseudonymiser | None,
    values: Iterable[str],
) -> KnownAs:
    """For each named child (its BSN or ``correlation:`` alias) that the table ``members``
    knows only under the previous key: its pseudonym there. Nothing without a previous key."""
    if previous is None:
        return NOTHING_RENAMED
    found = {}
    for value in values:
        new = current.child(value)
        if new in members:
            continue
        old = previous.child(value)
        if old in members:
            found[new] = old
    return KnownAs(found) if found else NOTHING_RENAMED


def stale(household: str, current: Pseudonymiser) -> bool:
    """Is this household still named under an older key than the current one?"""
    return version_of(household) < current.version


def successor(current: Pseudonymiser, household: str, partitions: int) -> str:
    """The household's pseudonym under the current key: the first ``Pseudonymiser.successor``
    in the old pseudonym's partition (about ``partitions`` HMACs to find)."""
    wanted = partition_of(household, partitions)
    for attempt in range(MAX_ATTEMPTS_PER_PARTITION * partitions):
        candidate = current.successor(household, attempt)
        if partition_of(candidate, partitions) == wanted:
            return candidate
    return current.successor(household)  # (never in practice) the state goes round instead
