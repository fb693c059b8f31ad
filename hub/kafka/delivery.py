"""A few records written with a librdkafka producer, and awaited until the broker has them.

For the hub's tools (DLQ replay and disclosure, raw publishes), not the stages: those write
in their transactional loop (``hub.stages.loop``). ``produce`` is local; ``flush`` blocks
until every delivery report is in, so it runs on a worker thread, with a deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from hub.stages.records import OutRecord


@dataclass(frozen=True)
class Delivered:
    """Where the broker put a record."""

    topic: str
    partition: int
    offset: int


async def deliver(
    producer: Producer, records: Sequence[OutRecord], timeout_s: float
) -> list[Delivered]:
    """Write ``records`` and wait for the broker's word on each, in their order.

    KafkaException with the first delivery error; TimeoutError when reports are still
    missing after ``timeout_s`` (the records may yet arrive: a resend must be safe).
    """
    reports: list[tuple[KafkaError | None, Any]] = [(None, None)] * len(records)

    def report(index: int) -> Any:
        def done(error: KafkaError | None, message: Any) -> None:
            reports[index] = (error, message)

        return done

    for index, record in enumerate(records):
        while True:
            try:
                producer.produce(
                    record.topic, value=record.value, key=record.key,
                    headers=list(record.headers), on_delivery=report(index),
                )  # fmt: skip
                break
            except BufferError:  # the local queue is full: let it drain a moment
                await asyncio.to_thread(producer.poll, 0.1)
    left = await asyncio.to_thread(producer.flush, timeout_s)
    if left:
        raise TimeoutError(f"Kafka confirmed {len(records) - left} of {len(records)} records")
    delivered = []
    for error, message in reports:
        if error is not None:
            raise KafkaException(error)
        delivered.append(Delivered(message.topic(), message.partition(), message.offset()))
    return delivered
