"""``read_to_end`` without a broker: the topic as it was when the read began, or a clear stall."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from hub.kafka.connection import KafkaConnection
from hub.kafka.reader import (
    NotAuthorized,
    Partition,
    Reader,
    ReadStalled,
    assign_all,
    read_to_end,
)
from hub.stages.records import InRecord

A = Partition("t", 0)
B = Partition("t", 1)


@dataclass
class Log:
    """A reader over in-memory partitions; ``append_on_fetch`` writes while it is read.

    Like librdkafka's consumer, it hands out what every assigned, unpaused partition has
    (records past the caller's end included), and reports a caught-up partition's position
    as its end (the end-of-partition event)."""

    logs: dict[Partition, int]
    append_on_fetch: int = 0
    fetch_size: int = 2
    next: dict[Partition, int] = field(default_factory=dict)
    paused: set[Partition] = field(default_factory=set)

    async def assign(
        self, partitions: Iterable[Partition], offsets: Mapping[Partition, int] | None = None
    ) -> None:
        self.next = {tp: (offsets or {}).get(tp, 0) for tp in partitions}
        self.paused = set()

    async def pause(self, partitions: Iterable[Partition]) -> None:
        self.paused |= set(partitions)

    async def end_offsets(self, partitions: Sequence[Partition]) -> dict[Partition, int]:
        return {tp: self.logs[tp] for tp in partitions}

    def positions(self, partitions: Iterable[Partition]) -> dict[Partition, int]:
        return {tp: self.next[tp] for tp in partitions}

    async def take(self, limit: int = 500, timeout_s: float = 0.5) -> list[InRecord]:
        batch = []
        for tp in self.next:
            if tp in self.paused:
                continue
            self.logs[tp] += self.append_on_fetch
            start = self.next[tp]
            stop = min(start + self.fetch_size, self.logs[tp])
            batch += [InRecord(tp.topic, tp.partition, o, b"v") for o in range(start, stop)]
            self.next[tp] = stop
        return batch


async def _read(reader: Any, stall_s: float | None = None, **kw: Any) -> list[tuple[int, int]]:
    return [
        (r.partition, r.offset)
        async for records in read_to_end(reader, [A, B], stall_s=stall_s, **kw)
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


def test_since_and_ends_bound_the_read() -> None:
    got = asyncio.run(_read(Log({A: 5, B: 4}), since={A: 2, B: 4}, ends={A: 4, B: 4}))
    assert got == [(0, 2), (0, 3)]


def test_a_partition_read_to_its_end_is_paused() -> None:
    log = Log({A: 1, B: 6})
    asyncio.run(_read(log))
    assert log.paused == {A, B}


def test_a_partition_that_stops_short_of_its_end_is_a_stall() -> None:
    class Stuck(Log):
        async def take(self, limit: int = 500, timeout_s: float = 0.5) -> list[InRecord]:
            return []

    with pytest.raises(ReadStalled, match="reading t stalled"):
        asyncio.run(_read(Stuck({A: 1, B: 0}), stall_s=0.0))


class _Event:
    """A consumer event that is an error, as librdkafka hands them out with the records."""

    def __init__(self, error: KafkaError) -> None:
        self._error = error

    def error(self) -> KafkaError:
        return self._error


class _Consumer:
    def __init__(self, events: list[Any], topic: Any = None) -> None:
        self.events, self.topic = events, topic

    def poll(self, timeout: float) -> Any:
        return self.events.pop(0) if self.events else None

    def consume(self, limit: int, timeout: float) -> list[Any]:
        taken, self.events = self.events[:limit], self.events[limit:]
        return taken

    def list_topics(self, topic: str, timeout: float) -> Any:
        return SimpleNamespace(topics={topic: self.topic} if self.topic else {})

    def close(self) -> None:
        pass


def _reader(consumer: _Consumer) -> Reader:
    reader = Reader(KafkaConnection("unused:9092", reader_group="kh-reader"))
    reader.consumer.close()
    reader.consumer = consumer  # type: ignore[assignment]
    return reader


def _error(code: int, fatal: bool = False) -> _Event:
    return _Event(KafkaError(code, fatal=fatal))


def test_a_refused_group_stops_the_read_and_names_the_group() -> None:
    events = [_error(KafkaError._PARTITION_EOF), _error(KafkaError.GROUP_AUTHORIZATION_FAILED)]
    with pytest.raises(NotAuthorized, match=r"GROUP_AUTHORIZATION_FAILED.*'kh-reader'"):
        asyncio.run(_reader(_Consumer(events)).take())


def test_a_passing_error_is_librdkafkas_to_recover_and_a_fatal_one_raises() -> None:
    passing = [_error(KafkaError._TRANSPORT), _error(KafkaError._PARTITION_EOF)]
    assert asyncio.run(_reader(_Consumer(passing)).take()) == []
    with pytest.raises(KafkaException):
        asyncio.run(_reader(_Consumer([_error(KafkaError._FENCED, fatal=True)])).take())


def _topic(error: int | None, leaders: dict[int, int]) -> Any:
    return SimpleNamespace(
        error=None if error is None else KafkaError(error),
        partitions={p: SimpleNamespace(leader=leader) for p, leader in leaders.items()},
    )


def test_metadata_tells_a_refused_topic_from_one_not_there_yet() -> None:
    def partitions(topic: Any) -> list[int]:
        return asyncio.run(_reader(_Consumer([], topic)).partitions_of("t"))

    with pytest.raises(NotAuthorized, match="may not read topic t"):
        partitions(_topic(KafkaError.TOPIC_AUTHORIZATION_FAILED, {}))
    assert partitions(_topic(KafkaError.UNKNOWN_TOPIC_OR_PART, {})) == []
    assert partitions(_topic(None, {0: 1, 1: -1})) == [], "a partition without a leader yet"
    assert partitions(_topic(None, {1: 1, 0: 1})) == [0, 1]


def test_a_topic_whose_partition_has_no_leader_is_an_outage_not_a_missing_topic() -> None:
    reader = _reader(_Consumer([], _topic(None, {0: -1})))
    with pytest.raises(KafkaException, match="without a leader"):
        asyncio.run(assign_all(reader, ["t"], wait_s=0))
    with pytest.raises(LookupError, match="topic u does not exist"):
        asyncio.run(assign_all(_reader(_Consumer([])), ["u"], wait_s=0))
