"""A consumed librdkafka message as plain data, read so that no record can crash the hub.

A partner can publish a record whose header *name* is not UTF-8 (the broker takes any bytes).
confluent-kafka 2.16's ``Message.headers()`` then fails half-way: it raises SystemError, but
has already cached a header list holding a NULL where the name should be, and a second call
returns that list; unpacking it crashes the interpreter. So ``headers()`` is called exactly
once per message, here, and a message whose headers cannot be read becomes an unreadable
record (topic, partition, offset only): its stage answers it with a DLQ record and a nack.
"""

from __future__ import annotations

from operator import methodcaller
from typing import Protocol

from confluent_kafka import Consumer
from confluent_kafka import Message as RdMessage

from hub.stages.records import InRecord


class Message(Protocol):
    """**Protocol:** what the hub reads of a ``confluent_kafka.Message``."""

    def topic(self) -> str | None: ...

    def partition(self) -> int | None: ...

    def offset(self) -> int | None: ...

    def key(self) -> bytes | None: ...

    def value(self) -> bytes | None: ...

    def headers(
        self,
    ) -> dict[str, str | bytes | None] | list[tuple[str, str | bytes | None]] | None: ...

    def timestamp(self) -> tuple[int, int]: ...


_HEADERS = methodcaller("headers")
"""Calls ``headers()`` through C, which turns the half-failed call into SystemError every
time. A plain ``message.headers()`` does so only until CPython 3.11 specialises the call
site (after a few runs): the specialised call returns the broken list as if all went well."""


def in_record(message: Message) -> tuple[InRecord, bool]:
    """The message as an ``InRecord``, and whether it could be read (False: headers broken,
    the record then carries topic, partition and offset only)."""
    topic, partition, offset = message.topic() or "", message.partition(), message.offset()
    place = InRecord(topic=topic, partition=partition or 0, offset=offset or 0, value=None)
    try:
        headers = _HEADERS(message)  # once only: see the module's docstring
    except (SystemError, UnicodeDecodeError):
        return place, False
    return InRecord(
        topic=topic,
        partition=place.partition,
        offset=place.offset,
        value=message.value(),
        key=message.key(),
        headers=[(name, _bytes(value)) for name, value in _pairs(headers)],
        timestamp_ms=message.timestamp()[1],
    ), True


def _pairs(
    headers: dict[str, str | bytes | None] | list[tuple[str, str | bytes | None]] | None,
) -> list[tuple[str, str | bytes | None]]:
    return list(headers.items()) if isinstance(headers, dict) else list(headers or ())


def _bytes(value: str | bytes | None) -> bytes:
    return value.encode() if isinstance(value, str) else value or b""


def take(consumer: Consumer, limit: int, timeout_s: float) -> list[RdMessage]:
    """Up to ``limit`` records, back as soon as one is there. librdkafka's ``consume`` waits
    out its whole timeout unless ``limit`` records come, so at a trickle every hop would add
    its poll timeout (the bench saw p50 267 ms at 5 msg/s): ``poll`` waits for the first,
    then ``consume`` without a timeout takes what is already fetched. The stages' loop and
    the readers both take records this way."""
    first = consumer.poll(timeout_s)
    if first is None:
        return []
    return [first, *consumer.consume(limit - 1, 0)] if limit > 1 else [first]
