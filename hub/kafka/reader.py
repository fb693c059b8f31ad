"""Group-less reads of committed records, on librdkafka (confluent-kafka) like the stages.

The hub reads whole topics outside its stages: state restore, the household table, the DLQ
and the audit log. A reader joins no group and commits nothing, but confluent-kafka wants a
``group.id`` all the same, and librdkafka looks its coordinator up (FindCoordinator, which
needs DESCRIBE on that group). The reader therefore uses ``KafkaConnection.reader_group``,
a group inside the namespace the principal's ACLs already cover, and takes every partition
at an explicit offset, so no committed offset is ever asked for (no OffsetFetch).

Its blocking librdkafka calls run on a worker thread (``asyncio.to_thread``), each with a
timeout, one at a time; closing waits for the one in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, NamedTuple, TypeVar

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    IsolationLevel,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from hub.kafka.auth import rd
from hub.kafka.connection import KafkaConnection
from hub.kafka.messages import in_record, take
from hub.stages.records import InRecord
from observability.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")
REQUEST_TIMEOUT_S = 10.0
"""Per metadata or offsets request: a broker that is away is an error the caller retries."""
POLL_S = 0.5
BATCH = 500
FETCH_WAIT_MS = 100
"""How long a broker holds a fetch with nothing new (500 ms by default). An offsets query
waits behind that fetch on the broker's connection, and a caught-up partition says so only
when it returns: a read of a small topic took 1.6 s against 0.2 s with 100. The broker
answers as soon as a transaction commits, so a follower (the bench's observer) loses no
latency either; a 5 ms wait cost the broker about 0.15 of a core with nothing to read."""


class Partition(NamedTuple):
    """A topic partition (hashable, unlike confluent-kafka's ``TopicPartition``)."""

    topic: str
    partition: int


class NotAuthorized(PermissionError):
    """The cluster's ACLs refuse this principal a topic or the reader's group: a setting to
    fix (``ketenhub partners provision``), not an outage to wait out."""


class ReadStalled(Exception):
    """Partitions stopped yielding records before their end: the broker is not healthy."""


_AUTHORISATION = {
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.GROUP_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED,
}


def reader_settings(kafka: KafkaConnection) -> dict[str, Any]:
    """A reader's librdkafka settings: the cluster's (``KafkaConnection.rdkafka_config``)
    plus a never-joined group, no commits, committed records only."""
    return kafka.rdkafka_config(**{
        "group.id": kafka.reader_group,
        "client.id": "ketenhub-reader",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": True,  # an empty or caught-up partition says so
        "fetch.wait.max.ms": FETCH_WAIT_MS,
    })  # fmt: skip


_LEADER_MOVED = {
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError._UNKNOWN_PARTITION,
}


class Reader:
    """A ``read_committed`` librdkafka consumer without a group, for awaiting callers."""

    def __init__(self, kafka: KafkaConnection) -> None:
        self.kafka = kafka
        self.consumer = Consumer(reader_settings(kafka))
        self._admin: AdminClient | None = None
        self._lock = asyncio.Lock()
        self._in_flight: asyncio.Future[Any] | None = None
        self.assigned: list[Partition] = []
        """What ``assign`` last gave the consumer to read."""
        self.leaderless: set[str] = set()
        """Topics whose last metadata had a partition without a leader."""

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` on a worker thread, one call at a time. A caller cancelled
        meanwhile leaves the call running; ``close`` waits for it (librdkafka's consumer
        must not be closed under a running call)."""
        async with self._lock:
            self._in_flight = asyncio.ensure_future(asyncio.to_thread(function, *args))
            result: T = await asyncio.shield(self._in_flight)
            return result

    async def close(self) -> None:
        if self._in_flight is not None and not self._in_flight.done():
            await asyncio.wait([self._in_flight])
        await asyncio.to_thread(self.consumer.close)

    async def partitions_of(self, topic: str) -> list[int]:
        """The topic's partition ids from the cluster's metadata; [] while it has none, or
        a partition has no leader yet (a topic just created: its offsets are not there)."""
        metadata = await self._call(self.consumer.list_topics, topic, REQUEST_TIMEOUT_S)
        found = metadata.topics.get(topic)
        if found is None:
            return []
        if found.error is not None:
            if found.error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED:
                raise NotAuthorized(
                    f"Kafka user {self.kafka.username!r} may not read topic {topic} (no ACL "
                    "allows it, or it does not exist)"
                )
            if found.error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise KafkaException(found.error)
        if any(p.leader < 0 for p in found.partitions.values()):
            self.leaderless.add(topic)
            return []
        self.leaderless.discard(topic)
        return sorted(found.partitions)

    async def assign(
        self, partitions: Iterable[Partition], offsets: Mapping[Partition, int] | None = None
    ) -> None:
        """Read exactly ``partitions``, each from ``offsets`` (else its start); a partition
        paused before is fetched again."""
        at = offsets or {}
        wanted = [TopicPartition(t, p, at.get(Partition(t, p), OFFSET_BEGINNING))
                  for t, p in partitions]  # fmt: skip

        def assign() -> None:
            self.consumer.assign(wanted)
            if wanted:
                self.consumer.resume(wanted)

        await self._call(assign)
        self.assigned = [Partition(tp.topic, tp.partition) for tp in wanted]

    async def pause(self, partitions: Iterable[Partition]) -> None:
        """Stop fetching ``partitions`` (read to where the caller wanted)."""
        done = [TopicPartition(t, p) for t, p in partitions]
        if done:
            await self._call(self.consumer.pause, done)

    async def end_offsets(self, partitions: Sequence[Partition]) -> dict[Partition, int]:
        """Where committed data ends: under ``read_committed`` librdkafka's query answers
        the last stable offset (the cached answer would be the high watermark)."""

        def query() -> dict[Partition, int]:
            return {tp: self._watermarks(tp)[1] for tp in partitions}

        return await self._call(query) if partitions else {}

    def _watermarks(self, tp: Partition) -> tuple[int, int]:
        """(low, high) from the partition's leader; a leader that moved (or is not elected
        yet) is asked again until ``REQUEST_TIMEOUT_S`` (worker thread)."""
        deadline = time.monotonic() + REQUEST_TIMEOUT_S
        while True:
            try:
                low, high = self.consumer.get_watermark_offsets(
                    TopicPartition(*tp), REQUEST_TIMEOUT_S, False
                )
                return low, high
            except KafkaException as exc:
                error = exc.args[0] if exc.args else None
                if not (isinstance(error, KafkaError) and error.code() in _LEADER_MOVED):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    async def high_watermarks(self, partitions: Sequence[Partition]) -> dict[Partition, int]:
        """Where written data ends, committed or not (past any open transaction)."""
        if not partitions:
            return {}
        if self._admin is None:
            self._admin = AdminClient(self.kafka.rdkafka_config(**{"client.id": "ketenhub-reader"}))
        futures = self._admin.list_offsets(
            {TopicPartition(*tp): rd.OffsetSpec.latest() for tp in partitions},
            isolation_level=IsolationLevel.READ_UNCOMMITTED,
            request_timeout=REQUEST_TIMEOUT_S,
        )
        ends: dict[Partition, int] = {}
        for tp, future in futures.items():
            result = await asyncio.wait_for(asyncio.wrap_future(future), REQUEST_TIMEOUT_S * 2)
            ends[Partition(tp.topic, tp.partition)] = result.offset
        return ends

    def positions(self, partitions: Iterable[Partition]) -> dict[Partition, int]:
        """The next offset to be returned per partition; -1 before the first record or end
        of partition has come (local: no request)."""
        got = self.consumer.position([TopicPartition(*tp) for tp in partitions])
        return {Partition(tp.topic, tp.partition): max(tp.offset, -1) for tp in got}

    async def take(self, limit: int = BATCH, timeout_s: float = POLL_S) -> list[InRecord]:
        """Up to ``limit`` records, back as soon as one is there (or after ``timeout_s``).

        NotAuthorized for an ACL that refuses the read; a fatal error raises; others (the
        broker away) are librdkafka's to recover from, and are logged.
        """
        messages = await self._call(take, self.consumer, limit, timeout_s)
        records = []
        for message in messages:
            error = message.error()
            if error is None:
                records.append(in_record(message)[0])
            elif error.code() == KafkaError._PARTITION_EOF:
                continue  # the position has moved to the end: ``positions`` says so
            elif error.code() in _AUTHORISATION:
                raise NotAuthorized(
                    f"Kafka user {self.kafka.username!r} is refused a read ({error.name()}); "
                    f"a reader needs READ on its topics and DESCRIBE on group "
                    f"{self.kafka.reader_group!r}"
                )
            elif error.fatal():
                raise KafkaException(error)
            else:
                log.info("reader-notice", error_type=error.name())
        return records


@asynccontextmanager
async def committed_reader(kafka: KafkaConnection) -> AsyncIterator[Reader]:
    """A reader without a group that sees committed records only; closed afterwards."""
    reader = Reader(kafka)
    try:
        yield reader
    finally:
        await reader.close()


async def assign_all(
    reader: Reader, topics: Iterable[str], wait_s: float = 10.0
) -> list[Partition]:
    """Assign every partition of ``topics`` from its start; LookupError names a topic that
    does not exist, NotAuthorized one the principal may not read.

    A topic created a moment ago may not be in the broker's metadata yet, so a missing topic
    is asked for again for up to ``wait_s`` seconds before it counts as absent. One that is
    there with a partition still without a leader then (its brokers away) is a KafkaException:
    an outage to wait out, not a topic to create.
    """
    partitions: list[Partition] = []
    for topic in topics:
        deadline = time.monotonic() + wait_s
        while not (ids := await reader.partitions_of(topic)) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        if not ids and topic in reader.leaderless:
            raise KafkaException(KafkaError(
                KafkaError.LEADER_NOT_AVAILABLE, f"topic {topic} has a partition without a leader"
            ))  # fmt: skip
        if not ids:
            raise LookupError(f"topic {topic} does not exist; run `ketenhub topics create`")
        partitions.extend(Partition(topic, p) for p in ids)
    await reader.assign(partitions)
    return partitions


async def read_to_end(
    reader: Reader,
    partitions: Sequence[Partition],
    *,
    stall_s: float | None = None,
    since: Mapping[Partition, int] | None = None,
    ends: Mapping[Partition, int] | None = None,
) -> AsyncIterator[list[InRecord]]:
    """Batches of the records of ``partitions``, from the start (or the offsets ``since``
    gives) up to their end when this began (or the offsets ``ends`` gives).

    Records written meanwhile are left out, so the caller sees the topic as it was at one
    moment. ReadStalled when nothing arrives for ``stall_s`` seconds before the end (None:
    wait on, for a reader that must not give up).
    """
    starts = {tp: o for tp, o in (since or {}).items() if tp in partitions}
    await reader.assign(partitions, starts)
    if ends is None:
        ends = await reader.end_offsets(partitions)
    pending = {tp for tp in partitions if ends[tp] > starts.get(tp, 0)}
    await reader.pause(tp for tp in partitions if tp not in pending)
    last_news = time.monotonic()
    while pending:
        records = [r for r in await reader.take()
                   if Partition(r.topic, r.partition) in pending
                   and r.offset < ends[Partition(r.topic, r.partition)]]  # fmt: skip
        if records:
            yield records
            last_news = time.monotonic()
        positions = reader.positions(pending)
        done = {tp for tp in pending if positions[tp] >= ends[tp]}
        if done:
            pending -= done
            last_news = time.monotonic()
            await reader.pause(done)
        if pending and stall_s is not None and time.monotonic() - last_news > stall_s:
            topics = ", ".join(dict.fromkeys(tp.topic for tp in partitions))
            raise ReadStalled(f"reading {topics} stalled; is the broker healthy?")
