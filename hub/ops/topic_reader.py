"""Raw topic reads and writes with the hub's own connection: for chaos runs and the tests.

Partners do not use this: they use the SDK (``hub.sdk``), which ``ketenhub send`` and
``ketenhub inbox`` run on. This reads any topic (DLQ, audit, an inbox) as an operator would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka.errors import KafkaTimeoutError

from hub.kafka.connection import KafkaConnection
from hub.kafka.reader import assign_all, committed_reader
from hub.stages.records import HEADER_KIND, HEADER_MESSAGE_ID
from schemas.envelope import header_value

PUBLISH_DEADLINE_S = 60.0


@dataclass(frozen=True)
class Published:
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class InboxMessage:
    partition: int
    offset: int
    timestamp_ms: int
    kind: str
    message_id: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


async def publish(kafka: KafkaConnection, topic: str, payloads: list[bytes]) -> list[Published]:
    """Publish native payloads as a partner does (no key: the hub keys by household)."""
    producer = kafka.producer(acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=payload) for payload in payloads]
        try:
            results = await asyncio.wait_for(asyncio.gather(*futures), PUBLISH_DEADLINE_S)
        except TimeoutError:
            raise KafkaTimeoutError(
                f"Kafka confirmed none or only part of the messages within "
                f"{PUBLISH_DEADLINE_S:.0f} s; it is safe to send them again (the hub "
                "acknowledges a resent message id as a duplicate)"
            ) from None
    finally:
        await producer.stop()
    return [Published(r.topic, r.partition, r.offset) for r in results]


async def read_inbox(
    kafka: KafkaConnection,
    topic: str,
    *,
    idle_timeout_s: float = 2.0,
    until: Callable[[list[InboxMessage]], bool] | None = None,
    max_wait_s: float = 60.0,
) -> list[InboxMessage]:
    """Everything committed to an inbox, oldest first.

    Stops once ``until`` holds, or after ``idle_timeout_s`` without news once caught up, or
    after ``max_wait_s`` in all.
    """
    messages: list[InboxMessage] = []
    async with committed_reader(kafka) as reader:
        await assign_all(reader, [topic])
        started = last_news = time.monotonic()
        while True:
            records = await reader.take(timeout_s=0.2)
            for r in records:
                messages.append(
                    InboxMessage(
                        partition=r.partition, offset=r.offset, timestamp_ms=r.timestamp_ms,
                        kind=header_value(r.headers, HEADER_KIND) or "?",
                        message_id=header_value(r.headers, HEADER_MESSAGE_ID) or "",
                        value=r.value or b"", headers=tuple(r.headers),
                    )
                )  # fmt: skip
            if records:
                last_news = time.monotonic()
            now = time.monotonic()
            if until is not None and until(messages):
                break
            if until is None and now - last_news > idle_timeout_s:
                break
            if now - started > max_wait_s:
                break
    messages.sort(key=lambda m: (m.timestamp_ms, m.partition, m.offset))
    return messages
