"""The household table: which child belongs to which household, shared by ingest instances.

Kept in the compacted ``ketenhub.households`` topic (key: child pseudonym, value: household
pseudonym). Every ingest instance follows the whole topic, so any instance keys a message
about a sibling to the same household, and the router sees one household, one state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field

from hub.kafka.connection import KafkaConnection
from hub.kafka.reader import assign_all, committed_reader
from observability.logging import get_logger

log = get_logger(__name__)


class Members(MutableMapping[str, str]):
    """Child -> household, with the reverse index kept beside it: a merge (and every
    household's move to a new pseudonym key) asks for a household's children, which a scan
    of the whole table would answer in time proportional to all children the hub knows."""

    def __init__(self) -> None:
        self._household: dict[str, str] = {}
        self._children: dict[str, dict[str, None]] = {}

    def __getitem__(self, child: str) -> str:
        return self._household[child]

    def __setitem__(self, child: str, household: str) -> None:
        if child in self._household:
            del self[child]
        self._household[child] = household
        self._children.setdefault(household, {})[child] = None

    def __delitem__(self, child: str) -> None:
        household = self._household.pop(child)
        children = self._children[household]
        del children[child]
        if not children:
            del self._children[household]

    def __contains__(self, child: object) -> bool:
        return child in self._household

    def get(self, child: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """The dict's own ``get``: the mixin's raises and catches a KeyError for every child
        not in the table, and most children of a message are not (yet)."""
        return self._household.get(child, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._household)

    def __len__(self) -> int:
        return len(self._household)

    def of(self, household: str) -> list[str]:
        """The household's children, in the order they joined it."""
        return list(self._children.get(household, ()))

    def copy(self) -> dict[str, str]:
        return dict(self._household)


@dataclass
class HouseholdTable:
    members: Members = field(default_factory=Members)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    _undo: list[tuple[str, str | None]] = field(default_factory=list, repr=False)
    """(child, household before) for each change by the batch in flight, undone on abort."""
    _written: dict[str, str] = field(default_factory=dict, repr=False)
    """What this instance wrote and has not read back from the topic yet: an older record
    read meanwhile must not undo a newer move."""

    def household_for(self, child: str, siblings: Iterable[str], default: Callable[[], str]) -> str:
        """The child's known household, else a known sibling's, else ``default()`` (made
        only then: it costs a keyed hash)."""
        members = self.members
        if child in members:
            return members[child]
        for sibling in siblings:
            if sibling in members:
                return members[sibling]
        return default()

    def households_of(self, children: Iterable[str]) -> list[str]:
        """The distinct known households of these children, in the children's order."""
        return list(dict.fromkeys(h for c in children if (h := self.members.get(c))))

    def members_of(self, household: str) -> list[str]:
        return self.members.of(household)

    def _set(self, child: str, household: str) -> None:
        self._undo.append((child, self.members.get(child)))
        self.members[child] = household

    def join(self, household: str, children: Iterable[str]) -> list[str]:
        """Record children not yet in a household; returns the ones newly placed. A child
        already in another household stays there (``move`` merges and splits)."""
        placed = [c for c in dict.fromkeys(children) if c not in self.members]
        for child in placed:
            self._set(child, household)
        return placed

    def move(self, children: Iterable[str], household: str) -> list[str]:
        """Put children in ``household`` (a merge or a split); returns those that moved."""
        moved = [c for c in dict.fromkeys(children) if self.members.get(c) != household]
        for child in moved:
            self._set(child, household)
        return moved

    def commit(self) -> None:
        """The batch's membership records are written: keep what it changed."""
        for child, _ in self._undo:
            self._written[child] = self.members[child]
        self._undo.clear()

    def rollback(self) -> None:
        """The batch aborted and comes again: undo what it changed, so the retry changes
        (and writes) the same children again instead of finding them done already."""
        for child, before in reversed(self._undo):
            if before is None:
                self.members.pop(child, None)
            else:
                self.members[child] = before
        self._undo.clear()

    def read(self, child: str, household: str) -> None:
        """A record of the topic: the latest one per child wins, but not over a newer
        change of this instance that is still on its way back."""
        pending = self._written.get(child)
        if pending is not None:
            if pending == household:
                del self._written[child]
            return
        self.members[child] = household

    async def follow(self, kafka: KafkaConnection, topic: str, stop: asyncio.Event) -> None:
        """Read the table from the start, set ``ready`` once caught up, then keep following."""
        async with committed_reader(kafka) as reader:
            partitions = await assign_all(reader, [topic])
            ends = await reader.end_offsets(partitions)
            pending = {tp for tp in partitions if ends[tp] > 0}
            while not stop.is_set():
                for record in await reader.take():
                    if record.key is not None and record.value is not None:
                        self.read(record.key.decode(), record.value.decode())
                if not self.ready.is_set():
                    positions = reader.positions(pending)
                    pending = {tp for tp in pending if positions[tp] < ends[tp]}
                    if not pending:
                        log.info("households-loaded", children=len(self.members))
                        self.ready.set()
