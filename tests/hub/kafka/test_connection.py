"""``read_to_end`` without a broker: the topic as it was when the read began, or a clear stall."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from hub.kafka.connection import ReadStalled, read_to_end

A = TopicPartition("t", 0)
B = TopicPartition("t", 1)


def _record(tp: TopicPartition, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, None, b"v", None, 0, 1, [])


@dataclass
class Log:
    """A consumer over in-memory partitions; ``append_on_fetch`` writes while it is read."""

    logs: dict[TopicPartition, int]
    append_on_fetch: int = 0
    fetch_size: int = 2
    positions: dict[TopicPartition, int] = field(default_factory=dict)

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        self.positions.update(dict.fromkeys(partitions, 0))

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.logs[tp] for tp in partitions}

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0
    ) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        batch = {}
        for tp in partitions:
            self.logs[tp] += self.append_on_fetch
            start = self.positions[tp]
            stop = min(start + self.fetch_size, self.logs[tp])
            if stop > start:
                batch[tp] = [_record(tp, o) for o in range(start, stop)]
                self.positions[tp] = stop
        return batch


async def _read(consumer: Any, stall_s: float | None = None) -> list[tuple[int, int]]:
    return [
        (r.partition, r.offset)
        async for records in read_to_end(consumer, [A, B], stall_s=stall_s)
        for r in records
    ]


def test_reads_every_partition_from_the_start_to_its_end() -> None:
    got = asyncio.run(_read(Log({A: 3, B: 0})))
    assert got == [(0, 0), (0, 1), (0, 2)]


def test_records_written_during_the_read_are_left_out() -> None:
    got = asyncio.run(_read(Log({A: 3, B: 1}, append_on_fetch=1)))
    # Partitions are read side by side: only the order within each one is given.
    assert sorted(got) == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert [o for p, o in got if p == 0] == [0, 1, 2]


def test_a_partition_that_stops_short_of_its_end_is_a_stall() -> None:
    class Stuck(Log):
        async def getmany(
            self, *partitions: TopicPartition, timeout_ms: int = 0
        ) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
            return {}

    with pytest.raises(ReadStalled, match="reading t stalled"):
        asyncio.run(_read(Stuck({A: 1, B: 0}), stall_s=0.0))
