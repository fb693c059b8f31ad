"""Reading router state back from the compacted ``ketenhub.state`` topic."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, MutableMapping

from hub.kafka.connection import KafkaConnection
from hub.kafka.reader import Partition, Reader, assign_all, committed_reader, read_to_end
from hub.stages.state_store import StateStore, restore_record
from observability.logging import get_logger
from routing.state import HouseholdState

log = get_logger(__name__)
OPEN_TRANSACTION_WAIT_S = 5.0
"""How long a state read waits for a transaction open on the changelog. One whose commit is
on its way ends within milliseconds; one of an instance that died ends only when the broker
aborts it at its timeout (a minute), and its state must not count then anyway."""


async def restore_states(
    kafka: KafkaConnection, topic: str, only: Iterable[int] | None = None
) -> StateStore:
    """Read the compacted state changelog from the start up to its end.

    ``only`` limits it to some partitions (a rebalance handed this instance those).
    Each household's state stays raw JSON until the router first uses it (``StateStore``),
    which also notes where the changelog was read up to (``restored_to``).
    """
    states = StateStore()
    states.restored_to = await read_changelog(kafka, topic, states, only=only)
    return states


async def read_changelog(
    kafka: KafkaConnection,
    topic: str,
    states: MutableMapping[str, HouseholdState],
    *,
    only: Iterable[int] | None = None,
    since: Mapping[int, int] | None = None,
) -> dict[int, int]:
    """Apply the changelog to ``states`` from the offsets ``since`` gives (else the start) up
    to its end now; the end per partition read up to.

    The end is the last record written, committed or not, so a transaction still open on
    the changelog (the last batch of the partition's previous owner) is waited for, for a
    while: the state it commits counts, as the offsets it commits will
    (the loop reads them stable: ``hub.stages.loop``).
    """
    async with committed_reader(kafka) as reader:
        partitions = await assign_all(reader, [topic])
        await reader.pause(partitions)  # nothing to fetch before the ends are known
        if only is not None:
            wanted = set(only)
            partitions = [tp for tp in partitions if tp.partition in wanted]
        ends = await _stable_ends(reader, partitions, await reader.high_watermarks(partitions))
        starts = {Partition(topic, p): o for p, o in (since or {}).items()}
        async for records in read_to_end(reader, partitions, since=starts, ends=ends):
            for record in records:
                restore_record(states, record.key, record.value)
    return {tp.partition: end for tp, end in ends.items()}


async def _stable_ends(
    reader: Reader, partitions: list[Partition], written: dict[Partition, int]
) -> dict[Partition, int]:
    """``written`` once no transaction open then is open any more (a ``read_committed``
    consumer's end is where the first open one starts); past ``OPEN_TRANSACTION_WAIT_S``,
    the committed end, with a warning."""
    deadline = time.monotonic() + OPEN_TRANSACTION_WAIT_S
    while True:
        committed = await reader.end_offsets(partitions)
        if all(committed[tp] >= written[tp] for tp in partitions):
            return written
        if time.monotonic() >= deadline:
            still_open = sorted(tp.partition for tp in partitions if committed[tp] < written[tp])
            log.warning("state-read-before-open-transaction", partitions=still_open)
            return {tp: min(committed[tp], written[tp]) for tp in partitions}
        await asyncio.sleep(0.05)
