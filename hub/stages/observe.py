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

from hub.kafka.backoff import KAFKA_ERRORS, pause
from hub.kafka.connection import KafkaConnection
from hub.kafka.reader import NotAuthorized, Partition, Reader, assign_all, committed_reader
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
    _reported: dict[str, set[Partition]] = field(default_factory=dict, repr=False)
    _dlq_count: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        async with committed_reader(self.kafka) as dlq:
            assigned = False
            while not stop.is_set():
                try:
                    await self.sample_lag()
                    assigned = assigned or bool(await assign_all(dlq, [self.dlq_topic]))
                    await self.count_dlq(dlq)
                except (*KAFKA_ERRORS, LookupError, TimeoutError, NotAuthorized) as exc:
                    log.warning("observe-failed", error_type=type(exc).__name__)
                if await pause(stop, self.interval_s):
                    break

    async def sample_lag(self) -> None:
        for loop in self.loops:
            stage = loop.stage.name
            lags = await asyncio.wait_for(loop.lag(), TIMEOUT_S)
            assigned = {Partition(topic, partition) for topic, partition in lags}
            for gone in self._reported.get(stage, set()) - assigned:
                self._forget(stage, gone)
            self._reported[stage] = assigned
            for (topic, partition), lag in lags.items():
                self.metrics.consumer_lag.labels(stage, topic, str(partition)).set(lag)

    async def count_dlq(self, reader: Reader) -> None:
        """Count the records that reached the DLQ since the last round (all, the first time).

        The reader stays assigned between rounds (from the start, the first time), so each
        round takes only what is new."""
        partitions = reader.assigned
        ends = await asyncio.wait_for(reader.end_offsets(partitions), TIMEOUT_S)
        positions = reader.positions(partitions)
        pending = {tp for tp in partitions if ends[tp] > max(positions[tp], 0)}
        deadline = asyncio.get_running_loop().time() + TIMEOUT_S
        while pending:
            self._dlq_count += len(await reader.take(timeout_s=0.2))
            positions = reader.positions(pending)
            pending = {tp for tp in pending if positions[tp] < ends[tp]}
            if asyncio.get_running_loop().time() > deadline:
                break  # the rest next round
        self.metrics.dlq_records.set(self._dlq_count)

    def _forget(self, stage: str, tp: Partition) -> None:
        """A partition moved to another instance: stop exporting a lag this one cannot see."""
        with contextlib.suppress(KeyError):
            self.metrics.consumer_lag.remove(stage, tp.topic, str(tp.partition))
