"""Reading router state back from the compacted ``ketenhub.state`` topic."""

from __future__ import annotations

from collections.abc import Iterable

from hub.kafka_io import KafkaConnection, assign_all, committed_reader, read_to_end
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
        async for records in read_to_end(consumer, partitions):
            for record in records:
                restore_record(states, record.key, record.value)
    return states
