"""The household table: which child belongs to which household, shared by ingest instances.

Kept in the compacted ``ketenhub.households`` topic (key: child pseudonym, value: household
pseudonym). Every ingest instance follows the whole topic, so any instance keys a message
about a sibling to the same household, and the router sees one household, one state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from hub.kafka.connection import KafkaConnection, assign_all, committed_reader
from observability.logging import get_logger

log = get_logger(__name__)


@dataclass
class HouseholdTable:
    members: dict[str, str] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    _joined: list[str] = field(default_factory=list, repr=False)
    """Children placed by the batch in flight, forgotten again if its transaction aborts."""

    def household_for(self, child: str, siblings: Iterable[str], default: str) -> str:
        """The child's known household, else a known sibling's, else ``default``."""
        if child in self.members:
            return self.members[child]
        for sibling in siblings:
            if sibling in self.members:
                return self.members[sibling]
        return default

    def join(self, household: str, children: Iterable[str]) -> list[str]:
        """Record children not yet in a household; returns the ones newly placed.

        A child already in another household stays there: merging two households' router
        state is a decision for people, not for the hub.
        """
        placed = []
        for child in children:
            if child not in self.members:
                self.members[child] = household
                placed.append(child)
        self._joined.extend(placed)
        return placed

    def commit(self) -> None:
        """The batch's membership records are written: keep what it placed."""
        self._joined.clear()

    def rollback(self) -> None:
        """The batch aborted and comes again: forget what it placed, so the retry places
        (and writes) the same children again instead of finding them known already."""
        for child in self._joined:
            self.members.pop(child, None)
        self._joined.clear()

    async def follow(self, kafka: KafkaConnection, topic: str, stop: asyncio.Event) -> None:
        """Read the table from the start, set ``ready`` once caught up, then keep following."""
        async with committed_reader(kafka) as consumer:
            partitions = await assign_all(consumer, [topic])
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            pending = {tp for tp in partitions if ends[tp] > 0}
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        if record.key is not None and record.value is not None:
                            self.members.setdefault(record.key.decode(), record.value.decode())
                if not self.ready.is_set():
                    pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
                    if not pending:
                        log.info("households-loaded", children=len(self.members))
                        self.ready.set()
