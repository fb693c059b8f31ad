"""The transactional loop with a fake broker: what commits, what is retried, nothing lost.

The fakes model what matters of aiokafka: a transaction that commits outputs and offsets
together or not at all, consumer positions that move as records are drained (also when a
later partition in the same call fails), and commits that can fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, MessageSizeTooLargeError
from structlog.testing import capture_logs

from hub.context import HubContext
from hub.kafka.connection import KafkaConnection
from hub.kafka.group_fencing import Membership, OffsetsFenced
from hub.stages.ingest import IngestStage
from hub.stages.loop import MAX_FENCED, StageLoop
from hub.stages.records import HEADER_DLQ_REASON, HEADER_KIND, InRecord, OutRecord
from hub.stages.route import RouteStage
from observability.metrics import HubMetrics
from schemas.envelope import header_value
from tests.conftest import GP, PROVIDER

TP0 = TopicPartition("in", 0)
TP1 = TopicPartition("in", 1)


def _record(tp: TopicPartition, offset: int, value: bytes,
            headers: Iterable[tuple[str, bytes]] = ()) -> ConsumerRecord[bytes, bytes]:  # fmt: skip
    return ConsumerRecord(tp.topic, tp.partition, offset, 1_700_000_000_000 + offset, 0, None,
                          value, None, 0, len(value), list(headers))  # fmt: skip


@dataclass
class FakeCoordinator:
    """aiokafka's group coordinator as far as the loop reads it: who this member is."""

    generation: int = 1
    member_id: str = "member-1"
    group_id: str = "g"


@dataclass
class FakeConsumer:
    logs: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    poison: set[tuple[TopicPartition, int]] = field(default_factory=set)
    committed_offsets: dict[TopicPartition, int] = field(default_factory=dict)
    positions: dict[TopicPartition, int] = field(default_factory=dict)
    start_failures: int = 0
    started: bool = False
    stopped: bool = False
    _coordinator: FakeCoordinator = field(default_factory=FakeCoordinator)

    async def start(self) -> None:
        if self.start_failures:
            self.start_failures -= 1
            raise KafkaConnectionError("broker away")
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    def subscribe(
        self, topics: list[str] | None = None, pattern: str | None = None, listener: Any = None
    ) -> None:
        self.positions = {tp: self.committed_offsets.get(tp, 0) for tp in self.logs}
        self.listener = listener

    def assignment(self) -> set[TopicPartition]:
        return set(self.logs)

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        limit = max_records or 10**9
        out: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {}
        for tp in partitions or sorted(self.logs):
            position, got = self.positions[tp], []
            while position < len(self.logs[tp]) and limit > 0:
                if (tp, position) in self.poison:
                    # Like aiokafka: what other partitions gave in this call is gone, and
                    # their positions have moved on anyway.
                    raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
                got.append(self.logs[tp][position])
                position += 1
                limit -= 1
            self.positions[tp] = position
            if got:
                out[tp] = got
        if not out:
            await asyncio.sleep(0.001)
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    async def committed(self, tp: TopicPartition) -> int | None:
        return self.committed_offsets.get(tp)

    async def seek_to_committed(self, *partitions: TopicPartition) -> None:
        for tp in partitions:
            offset = self.committed_offsets.get(tp)
            if offset and offset > 0:  # as aiokafka 0.14: no seek without a committed offset
                self.positions[tp] = offset

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        for tp in partitions:
            self.positions[tp] = 0

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: len(self.logs[tp]) for tp in partitions}


@dataclass
class FakeProducer:
    consumer: FakeConsumer
    fail_commits: int = 0
    fail_send: Callable[[str, bytes], bool] = lambda topic, value: False
    visible: list[OutRecord] = field(default_factory=list)
    aborted: int = 0
    pending: list[OutRecord] = field(default_factory=list)
    pending_offsets: dict[TopicPartition, int] = field(default_factory=dict)
    start_failures: int = 0
    starts: int = 0
    stopped: bool = False
    commits: int = 0

    async def start(self) -> None:
        self.starts += 1
        if self.start_failures:
            self.start_failures -= 1
            raise KafkaConnectionError("broker away")

    async def stop(self) -> None:
        self.stopped = True

    def transaction(self) -> FakeProducer:
        return self

    async def begin_transaction(self) -> None:
        await self.__aenter__()

    async def commit_transaction(self) -> None:
        await self.__aexit__(None, None, None)

    async def abort_transaction(self) -> None:
        self.aborted += 1

    async def __aenter__(self) -> FakeProducer:
        self.pending, self.pending_offsets = [], {}
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None and self.fail_commits:
            self.fail_commits -= 1
            self.aborted += 1
            raise KafkaTimeoutError("commit timed out")
        if kind is not None:
            self.aborted += 1
            return
        self.visible.extend(self.pending)
        self.consumer.committed_offsets.update(self.pending_offsets)
        self.commits += 1

    async def send(
        self, topic: str, value: bytes, key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None, timestamp_ms: int | None = None,
    ) -> asyncio.Future[Any]:  # fmt: skip
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.fail_send(topic, value):
            future.set_exception(MessageSizeTooLargeError())
        else:
            self.pending.append(OutRecord(topic, value, key, list(headers or [])))
            future.set_result(None)
        return future

    async def send_offsets_to_transaction(
        self, offsets: dict[TopicPartition, int], group_id: str
    ) -> None:
        self.pending_offsets = dict(offsets)


def _on_fetch(
    consumer: FakeConsumer,
    *,
    before: Callable[[int], None] = lambda call: None,
    after: Callable[[int, dict[TopicPartition, list[Any]]], None] = lambda call, got: None,
) -> Callable[[], int]:
    """Let a test act around each ``getmany`` (numbered from 1); returns how many ran."""
    real_getmany = consumer.getmany
    calls = 0

    async def getmany(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        before(calls)
        got = await real_getmany(*args, **kwargs)
        after(calls, got)
        return got

    consumer.getmany = getmany  # type: ignore[method-assign]
    return lambda: calls


@dataclass
class Echo:
    """A stage that answers each record with one output carrying its value."""

    name: str = "echo"

    def handle(self, record: InRecord) -> list[OutRecord]:
        return [OutRecord("out", record.value or b"")]


async def _loop(stage: Any, consumer: FakeConsumer, producer: FakeProducer) -> StageLoop:
    loop = StageLoop(
        stage, kafka=KafkaConnection("unused:9092"), group_id="g", transactional_id="t",
        dlq_topic="t.dlq", metrics=HubMetrics(), topics=("in",),
    )  # fmt: skip
    loop.consumer, loop.producer = consumer, producer
    return loop


async def _run_until(loop: StageLoop, done: Callable[[], bool], timeout: float = 20) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        async with asyncio.timeout(timeout):
            while not done():
                if task.done():
                    task.result()
                    pytest.fail("the loop ended by itself")
                await asyncio.sleep(0.005)
    finally:
        stop.set()
        await task


def _canonical(ctx: HubContext, payload: bytes) -> OutRecord:
    out = IngestStage(ctx, HubMetrics()).handle(InRecord(f"t.partner.{GP}.out", 0, 0, payload))
    [canonical] = [r for r in out if r.topic == ctx.names.canonical]
    return canonical


def _values(records: list[OutRecord], topic: str = "out") -> list[bytes]:
    return [r.value for r in records if r.topic == topic]


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hub.kafka.backoff.RETRY_BACKOFF_S", (0.01,))


async def test_a_failed_commit_is_retried_and_every_output_is_written_once() -> None:
    consumer = FakeConsumer({TP0: [_record(TP0, i, b"m%d" % i) for i in range(5)]})
    producer = FakeProducer(consumer, fail_commits=1)
    loop = await _loop(Echo(), consumer, producer)
    await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 5)
    assert _values(producer.visible) == [b"m%d" % i for i in range(5)]
    assert producer.aborted == 1
    assert consumer.stopped and producer.stopped


async def test_a_failed_first_batch_is_read_again_although_nothing_was_committed_yet() -> None:
    """seek_to_committed does nothing without a committed offset: the rewind must not rely
    on it, or the next batch commits past the aborted records and they are lost."""
    consumer = FakeConsumer({TP0: [_record(TP0, i, b"m%d" % i) for i in range(3)]})
    producer = FakeProducer(consumer, fail_commits=2)
    loop = await _loop(Echo(), consumer, producer)
    assert consumer.committed_offsets == {}
    await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 3)
    assert _values(producer.visible) == [b"m0", b"m1", b"m2"]


async def test_an_output_that_fails_to_send_aborts_the_batch_and_commits_no_offset() -> None:
    """aiokafka would commit a transaction although one of its records failed."""
    consumer = FakeConsumer({TP0: [_record(TP0, 0, b"ok"), _record(TP0, 1, b"too big")]})
    failures = iter([True, True])
    producer = FakeProducer(
        consumer, fail_send=lambda topic, value: value == b"too big" and next(failures, False)
    )
    loop = await _loop(Echo(), consumer, producer)
    await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 2)
    assert producer.aborted == 2
    assert _values(producer.visible) == [b"ok", b"too big"]


async def test_route_state_follows_an_aborted_transaction(
    hub_context: HubContext, golden_payload: bytes
) -> None:
    """The router's memory must not keep what an aborted batch changed: a retried referral
    would look like a resend of itself, be acknowledged as a duplicate and never delivered."""
    canonical = _canonical(hub_context, golden_payload)
    tp = TopicPartition(hub_context.names.canonical, 0)
    done_before = _record(tp, 0, b"{}")  # committed earlier: the retry has an offset to go to
    record = _record(tp, 1, canonical.value, canonical.headers)
    consumer = FakeConsumer({tp: [done_before, record]}, committed_offsets={tp: 1})
    producer = FakeProducer(consumer, fail_commits=1)
    route = RouteStage(hub_context, HubMetrics())
    loop = await _loop(route, consumer, producer)
    await _run_until(loop, lambda: consumer.committed_offsets.get(tp) == 2)
    kinds = {
        r.topic: header_value(r.headers, HEADER_KIND)
        for r in producer.visible
        if r.topic.endswith(".in")
    }
    assert kinds[f"t.partner.{PROVIDER}.in"] == "forward"
    assert kinds[f"t.partner.{GP}.in"] == "ack"
    acks = [r for r in producer.visible if r.topic == f"t.partner.{GP}.in"]
    assert len(acks) == 1 and b'"duplicate":true' not in acks[0].value


def test_route_stage_undoes_only_the_aborted_batch(
    hub_context: HubContext, golden_payload: bytes
) -> None:
    canonical = _canonical(hub_context, golden_payload)
    record = InRecord(hub_context.names.canonical, 0, 0, canonical.value, canonical.key,
                      canonical.headers)  # fmt: skip
    route = RouteStage(hub_context, HubMetrics())
    route.handle(record)
    route.batch_committed()
    committed = dict(route.states)
    assert committed
    route.handle(record)  # a resend: no state change
    route.batch_aborted()
    assert route.states == committed


def _one_unreadable_of_eight() -> FakeConsumer:
    """Two partitions of four records; the client cannot parse the third of the second."""
    return FakeConsumer(
        {
            TP0: [_record(TP0, i, b"a%d" % i) for i in range(4)],
            TP1: [_record(TP1, i, b"b%d" % i) for i in range(4)],
        },
        poison={(TP1, 2)},
    )


def _all_committed(consumer: FakeConsumer) -> Callable[[], bool]:
    return lambda: all(consumer.committed_offsets.get(tp) == 4 for tp in (TP0, TP1))


READABLE_OF_EIGHT = [b"a0", b"a1", b"a2", b"a3", b"b0", b"b1", b"b3"]


async def test_a_record_the_client_cannot_parse_is_dead_lettered_and_nothing_else_lost() -> None:
    """One hostile record (a header name that is not UTF-8) used to stop the stage for good."""
    consumer = _one_unreadable_of_eight()
    producer = FakeProducer(consumer)
    loop = await _loop(Echo(), consumer, producer)
    await _run_until(loop, _all_committed(consumer))
    assert sorted(_values(producer.visible)) == READABLE_OF_EIGHT
    [dlq] = [r for r in producer.visible if r.topic == "t.dlq"]
    assert header_value(dlq.headers, HEADER_DLQ_REASON) == "malformed"
    assert dlq.value == b""


async def test_ingest_answers_an_unparseable_record_with_a_nack(
    hub_context: HubContext, golden_payload: bytes
) -> None:
    tp = TopicPartition(f"t.partner.{GP}.out", 0)
    consumer = FakeConsumer(
        {tp: [_record(tp, 0, golden_payload), _record(tp, 1, b"x")]}, poison={(tp, 1)}
    )
    producer = FakeProducer(consumer)
    loop = await _loop(IngestStage(hub_context, HubMetrics()), consumer, producer)
    await _run_until(loop, lambda: consumer.committed_offsets.get(tp) == 2)
    topics = sorted(r.topic for r in producer.visible if r.topic != "t.households")
    assert topics == ["t.canonical", "t.dlq", f"t.partner.{GP}.in"]


async def test_ingest_household_memory_follows_an_aborted_transaction(
    hub_context: HubContext, golden_payload: bytes
) -> None:
    """A child placed in a household by an aborted batch must be placed (and its membership
    record written) again by the retry, or no other instance ever learns of it."""
    tp = TopicPartition(f"t.partner.{GP}.out", 0)
    consumer = FakeConsumer({tp: [_record(tp, 0, golden_payload)]})
    producer = FakeProducer(consumer, fail_commits=1)
    loop = await _loop(IngestStage(hub_context, HubMetrics()), consumer, producer)
    await _run_until(loop, lambda: consumer.committed_offsets.get(tp) == 1)
    assert sorted(r.topic for r in producer.visible) == ["t.canonical", "t.households"]


async def test_a_broker_that_is_away_at_start_is_waited_for() -> None:
    consumer = FakeConsumer({TP0: [_record(TP0, 0, b"m")]}, start_failures=2)
    producer = FakeProducer(consumer, start_failures=1)
    loop = await _loop(Echo(), consumer, producer)
    with capture_logs() as logs:
        await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 1)
    unavailable = [e for e in logs if e["event"] == "kafka-unavailable"]
    assert len(unavailable) == 3
    assert unavailable[0]["error_type"] == "KafkaConnectionError"
    assert producer.starts == 2, "a started producer is not started twice"
    assert _values(producer.visible) == [b"m"]


async def test_stop_while_waiting_for_the_broker_ends_cleanly() -> None:
    consumer = FakeConsumer({TP0: []}, start_failures=10**6)
    producer = FakeProducer(consumer)
    loop = await _loop(Echo(), consumer, producer)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    await asyncio.sleep(0.1)
    assert not task.done()
    stop.set()
    async with asyncio.timeout(5):
        await task  # no exception: a clean exit
    assert consumer.stopped and producer.stopped


async def test_stop_lets_the_batch_in_flight_commit() -> None:
    consumer = FakeConsumer({TP0: [_record(TP0, i, b"m%d" % i) for i in range(3)]})
    producer = FakeProducer(consumer)
    stop = asyncio.Event()

    @dataclass
    class StopsMidBatch:
        name: str = "stops"

        def handle(self, record: InRecord) -> list[OutRecord]:
            stop.set()  # SIGTERM arrives while the batch is being handled
            return [OutRecord("out", record.value or b"")]

    loop = await _loop(StopsMidBatch(), consumer, producer)
    async with asyncio.timeout(5):
        await loop.run(stop)
    assert consumer.committed_offsets == {TP0: 3}
    assert _values(producer.visible) == [b"m0", b"m1", b"m2"]


async def test_a_commit_that_never_completes_gets_a_new_producer_and_the_batch_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a broker restart a send future can stay pending for good: without a deadline
    the stage would wait for ever, alive and idle."""
    monkeypatch.setattr("hub.stages.loop.WRITE_DEADLINE_S", 0.2)
    consumer = FakeConsumer({TP0: [_record(TP0, i, b"m%d" % i) for i in range(3)]})
    wedged = FakeProducer(consumer)

    async def never(*args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    wedged.send = never  # type: ignore[method-assign]
    fresh = FakeProducer(consumer)
    loop = await _loop(Echo(), consumer, wedged)
    loop._new_producer = lambda: fresh
    with capture_logs() as logs:
        await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 3)
    assert wedged.stopped and fresh.starts == 1
    assert wedged.aborted == 1 and not wedged.visible
    assert _values(fresh.visible) == [b"m0", b"m1", b"m2"]
    renewals = [e for e in logs if e["event"] == "producer-renewing"]
    assert [e["error_type"] for e in renewals] == ["CommitStalled"]


async def test_a_consumer_that_fell_out_of_its_group_is_replaced() -> None:
    """aiokafka's pattern consumer did not rejoin after a broker restart: the group stayed
    empty and the stage idle for good. A consumer the group disowns gets a successor."""
    stranded = FakeConsumer({})
    successor = FakeConsumer({TP0: [_record(TP0, i, b"m%d" % i) for i in range(3)]})
    producer = FakeProducer(successor)
    loop = await _loop(Echo(), stranded, producer)
    loop._new_consumer = lambda: successor

    async def not_listed() -> bool:
        return False

    loop.group_watch.is_member = not_listed
    loop.group_watch.deadline_s = 0.05
    with capture_logs() as logs:
        await _run_until(loop, lambda: successor.committed_offsets.get(TP0) == 3)
    assert stranded.stopped and successor.started
    assert _values(producer.visible) == [b"m0", b"m1", b"m2"]
    assert [e["event"] for e in logs].count("consumer-left-group-rejoining") == 1


@pytest.mark.parametrize(("linger_s", "transactions"), [(0.0, 2), (0.5, 1)])
async def test_records_arriving_within_the_linger_share_one_transaction(
    linger_s: float, transactions: int
) -> None:
    consumer = FakeConsumer({TP0: [_record(TP0, 0, b"m0"), _record(TP0, 1, b"m1")]})
    producer = FakeProducer(consumer)
    loop = await _loop(Echo(), consumer, producer)
    loop.linger_s = linger_s

    def third_record_lands(call: int, got: dict[TopicPartition, list[Any]]) -> None:
        if got and len(consumer.logs[TP0]) == 2:  # just after the first two were fetched
            consumer.logs[TP0].append(_record(TP0, 2, b"m2"))

    _on_fetch(consumer, after=third_record_lands)
    await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 3)
    assert _values(producer.visible) == [b"m0", b"m1", b"m2"]
    assert producer.commits == transactions


async def test_a_lone_record_on_an_idle_stage_is_not_held_back() -> None:
    """At a trickle nothing would share its transaction: lingering would only add latency."""
    consumer = FakeConsumer({TP0: [_record(TP0, 0, b"m0")]})
    producer = FakeProducer(consumer)
    loop = await _loop(Echo(), consumer, producer)
    loop.linger_s = 30.0
    await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 1, timeout=5)
    assert _values(producer.visible) == [b"m0"]


@pytest.mark.parametrize("linger_s", [0.05, 0.15])
async def test_a_lone_record_on_a_busy_stage_lingers(linger_s: float) -> None:
    """One record just after a batch is most likely the start of the next: it waits, however
    long the last batch lingered."""
    consumer = FakeConsumer({TP0: [_record(TP0, 0, b"m0"), _record(TP0, 1, b"m1")]})
    producer = FakeProducer(consumer)
    loop = await _loop(Echo(), consumer, producer)
    loop.linger_s = linger_s

    def feed(call: int, got: dict[TopicPartition, list[Any]]) -> None:
        log = consumer.logs[TP0]
        if producer.commits == 1 and len(log) == 2:  # the first batch is in: one more comes
            log.append(_record(TP0, 2, b"m2"))
        elif [r.offset for records in got.values() for r in records] == [2]:
            log.append(_record(TP0, 3, b"m3"))  # ... and another while that one lingers

    _on_fetch(consumer, after=feed)
    await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 4)
    assert _values(producer.visible) == [b"m0", b"m1", b"m2", b"m3"]
    assert producer.commits == 2


async def test_a_producer_left_in_its_fatal_state_is_replaced() -> None:
    """aiokafka's sender task can die on a connection error while the broker stops; the next
    transaction then fails an internal assertion, which used to end the hub process."""
    consumer = FakeConsumer({TP0: [_record(TP0, i, b"m%d" % i) for i in range(3)]})

    class Broken(FakeProducer):
        async def begin_transaction(self) -> None:
            raise AssertionError("Invalid state transition FATAL_ERROR -> IN_TRANSACTION")

    broken = Broken(consumer)
    fresh = FakeProducer(consumer)
    loop = await _loop(Echo(), consumer, broken)
    loop._new_producer = lambda: fresh
    with capture_logs() as logs:
        await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 3)
    assert broken.stopped and fresh.starts == 1
    assert _values(fresh.visible) == [b"m0", b"m1", b"m2"]
    renewals = [e for e in logs if e["event"] == "producer-renewing"]
    assert [e["error_type"] for e in renewals] == ["ProducerBroken"]


async def test_records_of_a_partition_lost_before_the_batch_commits_are_left_to_its_new_owner() -> (
    None
):
    consumer = FakeConsumer({TP0: [_record(TP0, 0, b"a0")], TP1: [_record(TP1, 0, b"b0")]})
    producer = FakeProducer(consumer)
    loop = await _loop(Echo(), consumer, producer)
    consumer.subscribe()
    batch = await consumer.getmany()
    del consumer.logs[TP1]  # a rebalance gives TP1 to another instance meanwhile
    async with loop.batch_lock:
        await loop._process(batch)
    assert _values(producer.visible) == [b"a0"]
    assert consumer.committed_offsets == {TP0: 1}


async def test_a_batch_fetched_across_a_rebalance_is_read_again_not_written_twice() -> None:
    """A rebalance while a batch lingers resets the positions to the last commit: processing
    the batch anyway would write its outputs now and again when the records come back."""
    consumer = FakeConsumer({TP0: [_record(TP0, i, b"m%d" % i) for i in range(3)]})
    producer = FakeProducer(consumer)
    loop = await _loop(Echo(), consumer, producer)

    def rebalance(call: int, got: dict[TopicPartition, list[Any]]) -> None:
        if call == 1:  # a rebalance lands right after the first fetch
            loop.rebalances += 1
            consumer.positions = {tp: consumer.committed_offsets.get(tp, 0) for tp in consumer.logs}

    calls = _on_fetch(consumer, after=rebalance)
    with capture_logs() as logs:
        await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 3 and calls() >= 5)
    assert _values(producer.visible) == [b"m0", b"m1", b"m2"]
    assert "batch-dropped-after-rebalance" in [e["event"] for e in logs]


async def test_a_batch_fetched_just_after_a_rebalance_is_not_skipped() -> None:
    """The first batch of a new assignment also sees the rebalance counter move (getmany
    waits for the assignment): dropping it without reading it again lost it (found by
    `ketenhub chaos`: 5 of 20,000 referrals)."""
    consumer = FakeConsumer({TP0: [_record(TP0, i, b"m%d" % i) for i in range(3)]})
    producer = FakeProducer(consumer)
    loop = await _loop(Echo(), consumer, producer)

    def assignment_completes(call: int) -> None:
        if call == 1:  # inside the first getmany
            loop.rebalances += 1

    calls = _on_fetch(consumer, before=assignment_completes)
    await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 3 and calls() >= 5)
    assert _values(producer.visible) == [b"m0", b"m1", b"m2"]


async def test_a_consumer_the_group_threw_out_commits_nothing_until_it_has_joined_again() -> None:
    """A stalled instance loses its membership (aiokafka forgets generation and member id);
    a batch it reads meanwhile would commit offsets no group checks: it is read again later."""
    consumer = FakeConsumer({TP0: [_record(TP0, i, b"m%d" % i) for i in range(3)]})
    consumer._coordinator = FakeCoordinator(generation=-1, member_id="")
    producer = FakeProducer(consumer)
    loop = await _loop(Echo(), consumer, producer)

    def rejoin(call: int) -> None:
        if call == 3:
            consumer._coordinator = FakeCoordinator(generation=7, member_id="member-2")

    calls = _on_fetch(consumer, before=rejoin)
    with capture_logs() as logs:
        await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 3 and calls() >= 4)
    assert _values(producer.visible) == [b"m0", b"m1", b"m2"]
    assert [e["event"] for e in logs].count("batch-dropped-not-a-member") == 2
    assert loop._membership == Membership(7, "member-2")


@dataclass
class Restoring(Echo):
    """A stage that reads state back when it gains partitions, slowly."""

    events: list[str] = field(default_factory=list)

    async def partitions_assigned(self, partitions: list[int]) -> None:
        self.events.append("restore-start")
        await asyncio.sleep(0.3)
        self.events.append("restore-end")

    def partitions_revoked(self, partitions: list[int]) -> None:
        pass

    def handle(self, record: InRecord) -> list[OutRecord]:
        self.events.append("handle")
        return super().handle(record)


async def test_no_batch_is_handled_while_the_stage_reads_back_the_state_of_its_partitions() -> None:
    """aiokafka fetches newly assigned partitions while the assignment callback still runs:
    a batch handled then was routed on state not yet restored (seen in test_rebalance)."""
    consumer = FakeConsumer({TP0: [_record(TP0, i, b"m%d" % i) for i in range(3)]})
    producer = FakeProducer(consumer)
    stage = Restoring()
    loop = await _loop(stage, consumer, producer)

    real_getmany = consumer.getmany
    callbacks: list[asyncio.Task[None]] = []

    async def getmany(*args: Any, **kwargs: Any) -> Any:
        if not callbacks:  # the assignment callback starts, and the fetch goes on meanwhile
            callbacks.append(asyncio.create_task(consumer.listener.on_partitions_assigned([TP0])))
            await asyncio.sleep(0)
        return await real_getmany(*args, **kwargs)

    consumer.getmany = getmany  # type: ignore[method-assign]
    await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 3)
    assert stage.events[:2] == ["restore-start", "restore-end"]
    assert stage.events[2:] == ["handle"] * 3


@dataclass
class RefusedOffsets(FakeProducer):
    """A producer whose offsets the group refuses: a stale generation (a stalled instance)."""

    refusals: list[int] = field(default_factory=lambda: [0])

    async def send_offsets_to_transaction(
        self, offsets: dict[TopicPartition, int], group_id: str
    ) -> None:
        if self.refusals[0]:
            self.refusals[0] -= 1
            raise OffsetsFenced("group g refused the batch's offsets: IllegalGenerationError")
        await super().send_offsets_to_transaction(offsets, group_id)


async def test_refused_offsets_take_a_new_producer_each_time_without_giving_up() -> None:
    """The new epoch aborts what aiokafka only aborted locally; refusals say nothing of a
    second instance, so more of them than MAX_FENCED do not end the stage."""
    consumer = FakeConsumer({TP0: [_record(TP0, i, b"m%d" % i) for i in range(3)]})
    refusals = [MAX_FENCED + 2]
    first = RefusedOffsets(consumer, refusals=refusals)
    loop = await _loop(Echo(), consumer, first)
    producers = [first]

    def renew() -> FakeProducer:
        producers.append(RefusedOffsets(consumer, refusals=refusals))
        return producers[-1]

    loop._new_producer = renew
    with capture_logs() as logs:
        await _run_until(loop, lambda: consumer.committed_offsets.get(TP0) == 3)
    assert len(producers) == MAX_FENCED + 3
    assert [p.visible for p in producers[:-1]] == [[]] * (MAX_FENCED + 2)
    assert _values(producers[-1].visible) == [b"m0", b"m1", b"m2"]
    renewals = [e for e in logs if e["event"] == "producer-renewing"]
    assert {e["error_type"] for e in renewals} == {"OffsetsFenced"}


async def test_a_rebalance_during_recovery_from_an_unreadable_record_starts_it_over() -> None:
    """The recovery handles batches as the main loop does: not across a rebalance (the
    partitions may be another instance's, or their state not read back yet)."""
    consumer = _one_unreadable_of_eight()
    producer = FakeProducer(consumer)
    loop = await _loop(Echo(), consumer, producer)
    recovering_fetches = 0

    def rebalance_once_recovering(call: int) -> None:
        nonlocal recovering_fetches
        if loop._recovering:
            recovering_fetches += 1
            if recovering_fetches == 1:
                loop.rebalances += 1

    _on_fetch(consumer, before=rebalance_once_recovering)
    with capture_logs() as logs:
        await _run_until(loop, _all_committed(consumer))
    assert "recovery-restarted-after-rebalance" in [e["event"] for e in logs]
    assert sorted(_values(producer.visible)) == READABLE_OF_EIGHT
