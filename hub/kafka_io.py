"""Small helpers for the group-less readers (inbox, restore, demo) built on aiokafka."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition


@asynccontextmanager
async def committed_reader(bootstrap: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer without a group that sees committed records only."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    # aiokafka 0.14 re-raises CancelledError from stop() if its group-less coordinator task
    # has not run yet; one loop turn lets it start.
    await asyncio.sleep(0)
    try:
        yield consumer
    finally:
        await consumer.stop()


async def assign_all(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    """Assign every partition of ``topics``; LookupError names a topic that does not exist."""
    partitions: list[TopicPartition] = []
    for topic in topics:
        # A consumer only fetches metadata for topics it tracks; this asks for this one.
        await consumer._client.add_topic(topic)
        ids = consumer.partitions_for_topic(topic)
        if not ids:
            raise LookupError(f"topic {topic} does not exist; run `ketenhub topics create`")
        partitions.extend(TopicPartition(topic, p) for p in sorted(ids))
    consumer.assign(partitions)
    return partitions
