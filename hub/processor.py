"""The transactional consume -> handle -> produce loop both stages run in.

Each batch is one Kafka transaction: the outputs and the consumed offsets commit together or
not at all, and consumers downstream read committed data only. A crash mid-batch therefore
neither loses nor duplicates a delivery: the batch is consumed again and produces the same
records (stages derive ids from input offsets), and the aborted first attempt stays invisible.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError, ProducerFenced

from hub.kafka_io import KafkaConnection
from hub.records import (
    HEADER_DLQ_AT,
    HEADER_DLQ_DETAIL,
    HEADER_DLQ_REASON,
    HEADER_DLQ_SOURCE,
    InRecord,
    OutRecord,
)
from observability.logging import get_logger
from observability.metrics import HubMetrics
from schemas.codes import RejectReason

log = get_logger(__name__)
MAX_BATCH = 500
RETRY_BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0)


class Stage(Protocol):
    """**Protocol:** one pipeline stage; ``handle`` is synchronous and does no I/O."""

    @property
    def name(self) -> str: ...

    def handle(self, record: InRecord) -> list[OutRecord]: ...


class StageLoop:
    """Runs one stage against Kafka until ``stop`` is set."""

    def __init__(
        self,
        stage: Stage,
        *,
        kafka: KafkaConnection,
        group_id: str,
        transactional_id: str,
        dlq_topic: str,
        metrics: HubMetrics,
        topics: tuple[str, ...] = (),
        pattern: str | None = None,
    ) -> None:
        self.stage = stage
        self.group_id = group_id
        self.dlq_topic = dlq_topic
        self.metrics = metrics
        self.topics = topics
        self.pattern = pattern
        self.consumer = kafka.consumer(
            group_id=group_id,
            client_id=f"{group_id}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            metadata_max_age_ms=10_000,
        )
        self.producer = kafka.producer(
            client_id=f"{group_id}-producer",
            transactional_id=transactional_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
        )

    async def run(self, stop: asyncio.Event) -> None:
        await self._start_with_retry(stop)
        try:
            if self.pattern:
                self.consumer.subscribe(pattern=self.pattern)
            else:
                self.consumer.subscribe(topics=list(self.topics))
            log.info("stage-started", stage=self.stage.name, group=self.group_id)
            failures = 0
            while not stop.is_set():
                batch = await self.consumer.getmany(timeout_ms=200, max_records=MAX_BATCH)
                if not batch:
                    continue
                try:
                    await self._process(batch)
                    failures = 0
                except ProducerFenced:
                    log.error("fenced", stage=self.stage.name)
                    raise
                except KafkaError as exc:
                    failures += 1
                    delay = RETRY_BACKOFF_S[min(failures, len(RETRY_BACKOFF_S)) - 1]
                    self.metrics.transactions.labels(self.stage.name, "aborted").inc()
                    log.warning("batch-retry", stage=self.stage.name,
                                error_type=type(exc).__name__, retry_in_s=delay)  # fmt: skip
                    await self._rewind(list(batch))
                    await asyncio.sleep(delay)
        finally:
            await self.consumer.stop()
            await self.producer.stop()
            log.info("stage-stopped", stage=self.stage.name)

    async def _start_with_retry(self, stop: asyncio.Event) -> None:
        """A broker that is not up yet is waited for, with a clear line, not a crash loop."""
        attempt = 0
        while True:
            try:
                await self.producer.start()
                await self.consumer.start()
                return
            except KafkaError as exc:
                attempt += 1
                delay = RETRY_BACKOFF_S[min(attempt, len(RETRY_BACKOFF_S)) - 1]
                log.warning("kafka-unavailable", stage=self.stage.name,
                            error_type=type(exc).__name__, retry_in_s=delay)  # fmt: skip
                if stop.is_set():
                    raise
                await asyncio.sleep(delay)

    async def _process(
        self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        started = time.perf_counter()
        count = sum(len(records) for records in batch.values())
        self.metrics.in_progress.labels(self.stage.name).set(count)
        offsets: dict[TopicPartition, int] = {}
        async with self.producer.transaction():
            for tp, records in batch.items():
                for record in records:
                    for out in self._handle_safely(record):
                        await self.producer.send(
                            out.topic, value=out.value, key=out.key, headers=out.headers
                        )
                offsets[tp] = records[-1].offset + 1
            await self.producer.send_offsets_to_transaction(offsets, self.group_id)
        self.metrics.in_progress.labels(self.stage.name).set(0)
        self.metrics.committed(self.stage.name, time.perf_counter() - started)

    def _handle_safely(self, record: ConsumerRecord[bytes, bytes]) -> list[OutRecord]:
        incoming = InRecord(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            value=record.value,
            key=record.key,
            headers=list(record.headers or ()),
            timestamp_ms=record.timestamp,
        )
        source = f"{incoming.topic}:{incoming.partition}:{incoming.offset}"
        try:
            return self.stage.handle(incoming)
        except Exception as exc:  # a bug in one message's handling must not stop the stream
            log.error("handler-crash", stage=self.stage.name, error_type=type(exc).__name__,
                      source=source)  # fmt: skip
            self.metrics.rejects.labels(self.stage.name, RejectReason.INTERNAL_ERROR.value).inc()
            return [
                OutRecord(
                    topic=self.dlq_topic,
                    value=incoming.value or b"",
                    key=incoming.key,
                    headers=[
                        *incoming.headers,
                        (HEADER_DLQ_REASON, RejectReason.INTERNAL_ERROR.value.encode()),
                        (
                            HEADER_DLQ_DETAIL,
                            f"{self.stage.name} failed: {type(exc).__name__}".encode(),
                        ),
                        (
                            HEADER_DLQ_SOURCE,
                            f"{incoming.topic}:{incoming.partition}:{incoming.offset}".encode(),
                        ),
                        (HEADER_DLQ_AT, datetime.now(UTC).isoformat().encode()),
                    ],
                )
            ]

    async def _rewind(self, partitions: list[TopicPartition]) -> None:
        """After an aborted batch, read again from the last committed offsets."""
        assigned = self.consumer.assignment()
        live = [tp for tp in partitions if tp in assigned]
        if live:
            try:
                await self.consumer.seek_to_committed(*live)
            except KafkaError as exc:
                log.warning("rewind-failed", stage=self.stage.name, error_type=type(exc).__name__)
