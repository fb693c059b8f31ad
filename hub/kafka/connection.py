"""How the hub talks to Kafka: one place that builds every client, and the reads they share."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import TopicAuthorizationFailedError
from aiokafka.helpers import create_ssl_context
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from pydantic import SecretStr

from hub.kafka.partitioner import KeyPartitioner

MAX_REQUEST_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class KafkaConnection:
    """Bootstrap servers plus, for an authenticated cluster, SASL credentials."""

    bootstrap: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    """CA bundle for SSL/SASL_SSL; None trusts the system's CAs."""
    reader_group: str = "ketenhub-reader"
    """The ``group.id`` of group-less readers (``hub.kafka.reader``): never joined, but
    librdkafka looks up its coordinator, which needs DESCRIBE on it; so it lies in the
    group namespace the principal's ACLs cover (``hub.kafka.provision``)."""

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol in ("SSL", "SASL_SSL"):
            kwargs["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile)
        if self.sasl_mechanism:
            kwargs |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password.get_secret_value() if self.password else None,
            }
        return kwargs

    def consumer(self, *topics: str, **kwargs: Any) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(*topics, **self.client_kwargs(), **kwargs)

    def producer(self, **kwargs: Any) -> AIOKafkaProducer:
        options = {"max_request_size": MAX_REQUEST_BYTES, "partitioner": KeyPartitioner()} | kwargs
        return AIOKafkaProducer(**self.client_kwargs(), **options)

    def rdkafka_config(self, **overrides: Any) -> dict[str, Any]:
        """librdkafka settings for this cluster plus ``overrides``; its log lines go through
        stdlib logging (rendered as JSON like the hub's own), not straight to stderr."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": self.security_protocol,
            "logger": logging.getLogger("librdkafka"),
        }
        if self.security_protocol in ("SSL", "SASL_SSL") and self.ssl_cafile:
            config["ssl.ca.location"] = self.ssl_cafile
        if self.sasl_mechanism:
            config |= {
                "sasl.mechanism": self.sasl_mechanism,
                "sasl.username": self.username,
                "sasl.password": self.password.get_secret_value() if self.password else None,
            }
        return config | overrides

    def rdkafka_admin(self) -> AdminClient:
        return AdminClient(self.rdkafka_config(**{"client.id": "ketenhub-admin"}))

    def admin(self, **kwargs: Any) -> AIOKafkaAdminClient:
        return AIOKafkaAdminClient(**self.client_kwargs(), client_id="ketenhub-admin", **kwargs)


@asynccontextmanager
async def committed_reader(kafka: KafkaConnection) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer without a group that sees committed records only."""
    consumer = kafka.consumer(enable_auto_commit=False, isolation_level="read_committed")
    try:
        await consumer.start()
    except BaseException:
        await consumer.stop()  # a failed start still holds a client; close it, then raise
        raise
    # aiokafka 0.14 re-raises CancelledError from stop() if its group-less coordinator task
    # has not run yet; one loop turn lets it start.
    await asyncio.sleep(0)
    try:
        yield consumer
    finally:
        await consumer.stop()


async def abort_open_transaction(
    kafka: KafkaConnection, transactional_id: str, timeout_s: float
) -> None:
    """Abort what an earlier life of ``transactional_id`` left open, and fence that life.

    InitProducerId (librdkafka's ``init_transactions``) does both; the coordinator answers
    only once the abort markers are written. KafkaException when it has not by ``timeout_s``.
    """
    producer = Producer(kafka.rdkafka_config(**{
        "transactional.id": transactional_id, "client.id": f"{transactional_id}-abort",
    }))  # fmt: skip
    await asyncio.to_thread(producer.init_transactions, timeout_s)


async def assign_all(
    consumer: AIOKafkaConsumer, topics: Iterable[str], wait_s: float = 10.0
) -> list[TopicPartition]:
    """Assign every partition of ``topics``; LookupError names a topic that does not exist.

    A topic created a moment ago may not be in the broker's metadata yet, so a missing topic
    is asked for again for up to ``wait_s`` seconds before it counts as absent.
    """
    partitions: list[TopicPartition] = []
    loop = asyncio.get_running_loop()
    for topic in topics:
        deadline = loop.time() + wait_s
        while True:
            # A consumer only fetches metadata for topics it tracks; this asks for this one.
            await consumer._client.add_topic(topic)
            ids = consumer.partitions_for_topic(topic)
            if not ids and topic in consumer._client.cluster.unauthorized_topics:
                raise TopicAuthorizationFailedError(topic)  # no ACL lets this principal see it
            if ids or loop.time() > deadline:
                break
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.2)
        if not ids:
            raise LookupError(f"topic {topic} does not exist; run `ketenhub topics create`")
        partitions.extend(TopicPartition(topic, p) for p in sorted(ids))
    consumer.assign(partitions)
    return partitions


class ReadStalled(Exception):
    """Partitions stopped yielding records before their end: the broker is not healthy."""


async def read_to_end(
    consumer: AIOKafkaConsumer,
    partitions: Sequence[TopicPartition],
    *,
    stall_s: float | None = None,
    since: Mapping[TopicPartition, int] | None = None,
    ends: Mapping[TopicPartition, int] | None = None,
) -> AsyncIterator[list[ConsumerRecord[bytes, bytes]]]:
    """Batches of the records of ``partitions``, from the start (or the offsets ``since``
    gives) up to their end when this began (or the offsets ``ends`` gives).

    Records written meanwhile are left out, so the caller sees the topic as it was at one
    moment. ReadStalled when nothing arrives for ``stall_s`` seconds before the end (None:
    wait on, for a reader that must not give up).
    """
    await consumer.seek_to_beginning(*partitions)
    for tp, offset in (since or {}).items():
        if tp in partitions:
            consumer.seek(tp, offset)
    if ends is None:
        ends = await consumer.end_offsets(list(partitions))
    pending = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
    last_news = time.monotonic()
    while pending:
        batch = await consumer.getmany(*pending, timeout_ms=500)
        if batch:
            records = [r for tp, got in batch.items() for r in got if r.offset < ends[tp]]
            if records:
                yield records
            last_news = time.monotonic()
        pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        if pending and stall_s is not None and time.monotonic() - last_news > stall_s:
            topics = ", ".join(dict.fromkeys(tp.topic for tp in partitions))
            raise ReadStalled(f"reading {topics} stalled; is the broker healthy?")
        await asyncio.sleep(0)  # a fetch served from the buffer does not let other tasks run
