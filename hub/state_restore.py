"""Reading router state back from the compacted ``ketenhub.state`` topic."""

from __future__ import annotations

from collections.abc import Iterable

from hub.kafka_io import KafkaConnection, assign_all, committed_reader
from hub.state_store import StateStore, restore_record


async def restore_states(
    kafka: KafkaConnection, topic: str, only: Iterable[int] | None = None
) -> StateStore:
    """Read the compacted state changelog from the start up to its committed end.

    ``only`` limits it to some partitions (a rebalance handed this instance those).
    Each household's state stays raw JSON until the router first uses it (``StateStore``).
    """
    states = StateStore()
    async with committed_reader(kafka) as consumer:
        partitions = await assign_all(consumer, [topic])
        if only is not None:
            wanted = set(only)
            partitions = [tp for tp in partitions if tp.partition in wanted]
            consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        pending = {tp for tp in partitions if ends[tp] > 0}
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=500)
            for records in batch.values():
                for record in records:
                    restore_record(states, record.key, record.value)
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
    return states
