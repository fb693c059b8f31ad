"""A side task of ``ketenhub run`` that samples what no message handler sees: consumer lag per
input partition and the size of the dead-letter topic.

Every ``interval`` seconds it asks the broker for the end offsets of the partitions each stage
holds (one ListOffsets request per stage) and subtracts the stage's position (the next record
it will process; local, no request). The DLQ is counted by a group-less reader that reads
the topic once from the start and then only what is new. Sampling never blocks or fails a
stage: a Kafka error is logged and the next round tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from hub.kafka.backoff import KAFKA_ERRORS, pause
from hub.kafka.connection import KafkaConnection, assign_all
from hub.stages.loop import StageLoop
from observability.logging import get_logger
from observability.metrics import HubMetrics

log = get_logger(__name__)
INTERVAL_S = 10.0
TIMEOUT_S = 5.0


@dataclass
class Observer:
    loops: Sequence[StageLoop]
    metrics: HubMetrics
    kafka: KafkaConnection
    dlq_topic: str
    interval_s: float = INTERVAL_S
    _reported: dict[str, set[TopicPartition]] = field(default_factory=dict, repr=False)
    _dlq_count: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        dlq: AIOKafkaConsumer | None = None
        try:
            while not stop.is_set():
                try:
                    await self.sample_lag()
                    dlq = dlq or await self._open_dlq()
                    await self.count_dlq(dlq)
                except (*KAFKA_ERRORS, LookupError, TimeoutError) as exc:
                    log.warning("observe-failed", error_type=type(exc).__name__)
                if await pause(stop, self.interval_s):
                    break
        finally:
            if dlq is not None:
                await dlq.stop()

    async def _open_dlq(self) -> AIOKafkaConsumer:
        consumer = self.kafka.consumer(enable_auto_commit=False, isolation_level="read_committed")
        await consumer.start()
        try:
            await asyncio.sleep(0)  # see hub.kafka.connection.committed_reader
            await assign_all(consumer, [self.dlq_topic])
            await consumer.seek_to_beginning()
        except BaseException:
            await consumer.stop()
            raise
        return consumer

    async def sample_lag(self) -> None:
        for loop in self.loops:
            stage = loop.stage.name
            lags = await asyncio.wait_for(loop.lag(), TIMEOUT_S)
            assigned = {TopicPartition(topic, partition) for topic, partition in lags}
            for gone in self._reported.get(stage, set()) - assigned:
                self._forget(stage, gone)
            self._reported[stage] = assigned
            for (topic, partition), lag in lags.items():
                self.metrics.consumer_lag.labels(stage, topic, str(partition)).set(lag)

    async def count_dlq(self, consumer: AIOKafkaConsumer) -> None:
        """Count the records that reached the DLQ since the last round (all, the first time)."""
        partitions = sorted(consumer.assignment())
        ends = await asyncio.wait_for(consumer.end_offsets(partitions), TIMEOUT_S)
        pending = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=1000)
            self._dlq_count += sum(len(records) for records in batch.values())
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
            if not batch:
                break  # only transaction markers left: done for this round
        self.metrics.dlq_records.set(self._dlq_count)

    def _forget(self, stage: str, tp: TopicPartition) -> None:
        """A partition moved to another instance: stop exporting a lag this one cannot see."""
        with contextlib.suppress(KeyError):
            self.metrics.consumer_lag.remove(stage, tp.topic, str(tp.partition))
