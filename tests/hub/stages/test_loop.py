"""The transactional loop with fake librdkafka clients: what commits, what is retried.

The fakes model what matters of confluent-kafka: a transaction that commits outputs and
offsets together or not at all, rebalance callbacks that run inside ``consume``, consumer
positions that move as records are consumed, errors that are abortable or fatal, and a
message whose headers cannot be read. The real clients are proven on a real broker in
``tests/e2e`` (test_group_fencing, test_rebalance, test_chaos).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, OFFSET_INVALID, KafkaError, KafkaException
from confluent_kafka import TopicPartition as TP
from structlog.testing import capture_logs

from hub.context import HubContext
from hub.kafka.connection import KafkaConnection
from hub.stages.ingest import IngestStage
from hub.stages.loop import MAX_FENCED, ProducerLost, StageLoop
from hub.stages.records import HEADER_DLQ_REASON, HEADER_KIND, InRecord, OutRecord
from hub.stages.route import RouteStage
from observability.metrics import HubMetrics
from schemas.envelope import header_value
from tests.conftest import GP, PROVIDER

Part = tuple[str, int]
P0: Part = ("in", 0)
P1: Part = ("in", 1)


@dataclass
class FakeMessage:
    """A consumed record; ``broken`` headers fail as a non-UTF-8 header name does."""

    part: Part
    at: int
    data: bytes | None
    heads: list[tuple[str, bytes]] = field(default_factory=list)
    broken: bool = False

    def topic(self) -> str:
        return self.part[0]

    def partition(self) -> int:
        return self.part[1]

    def offset(self) -> int:
        return self.at

    def key(self) -> bytes | None:
        return None

    def value(self) -> bytes | None:
        return self.data

    def headers(self) -> list[tuple[str, bytes]]:
        if self.broken:
            raise SystemError("headers returned a result with an exception set")
        return list(self.heads)

    def error(self) -> KafkaError | None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_700_000_000_000 + self.at)


def _record(
    part: Part, offset: int, value: bytes, headers: Iterable[tuple[str, bytes]] = (),
    broken: bool = False,
) -> FakeMessage:  # fmt: skip
    return FakeMessage(part, offset, value, list(headers), broken)


@dataclass
class FakeConsumer:
    logs: dict[Part, list[FakeMessage]]
    committed_offsets: dict[Part, int] = field(default_factory=dict)
    positions: dict[Part, int] = field(default_factory=dict)
    generation: int = 1
    assigned: bool = False
    closed: bool = False
    callbacks: dict[str, Any] = field(default_factory=dict)
    on_consume: Callable[[int], None] = lambda call: None
    consumed_calls: int = 0

    def subscribe(self, topics: list[str], **callbacks: Any) -> None:
        self.callbacks = callbacks

    def rebalance(self) -> None:
        """The next ``consume`` revokes everything and assigns it again (eager protocol)."""
        self.generation += 1
        if self.assigned:
            self.callbacks["on_revoke"](self, self._partitions())
        self.assigned = False

    def _partitions(self) -> list[TP]:
        return [TP(topic, partition) for topic, partition in self.logs]

    def consume(self, num_messages: int, timeout: float) -> list[FakeMessage]:
        self.consumed_calls += 1
        self.on_consume(self.consumed_calls)
        if not self.assigned:
            self.assigned = True
            self.positions = {p: self.committed_offsets.get(p, 0) for p in self.logs}
            self.callbacks["on_assign"](self, self._partitions())
        out: list[FakeMessage] = []
        for part in sorted(self.logs):
            while self.positions[part] < len(self.logs[part]) and len(out) < num_messages:
                out.append(self.logs[part][self.positions[part]])
                self.positions[part] += 1
        if not out:
            time.sleep(min(timeout, 0.002))
        return out

    def poll(self, timeout: float) -> FakeMessage | None:
        """One record (librdkafka's poll: back as soon as there is one)."""
        got = self.consume(1, timeout)
        return got[0] if got else None

    def assignment(self) -> list[TP]:
        return self._partitions() if self.assigned else []

    def seek(self, tp: TP) -> None:
        self.positions[(tp.topic, tp.partition)] = 0 if tp.offset == OFFSET_BEGINNING else tp.offset

    def committed(self, partitions: list[TP], timeout: float) -> list[TP]:
        return [
            TP(tp.topic, tp.partition, self.committed_offsets.get((tp.topic, tp.partition),
                                                                  OFFSET_INVALID))
            for tp in partitions
        ]  # fmt: skip

    def consumer_group_metadata(self) -> tuple[str, int]:
        return ("g", self.generation)

    def position(self, partitions: list[TP]) -> list[TP]:
        return [TP(tp.topic, tp.partition, self.positions[(tp.topic, tp.partition)])
                for tp in partitions]  # fmt: skip

    def get_watermark_offsets(self, tp: TP, timeout: float, cached: bool) -> tuple[int, int]:
        return 0, len(self.logs[(tp.topic, tp.partition)])

    def close(self) -> None:
        self.closed = True


def _error(code: int, **kinds: bool) -> KafkaException:
    return KafkaException(KafkaError(code, "test", **kinds))


@dataclass
class FakeProducer:
    consumer: FakeConsumer
    fail_commits: int = 0
    """Commits that fail with an abortable error (the coordinator away, say)."""
    fatal_commits: int = 0
    """Commits that fail with a fatal error (this transactional id fenced)."""
    fail_send: Callable[[str, bytes], bool] = lambda topic, value: False
    init_failures: int = 0
    visible: list[OutRecord] = field(default_factory=list)
    pending: list[OutRecord] = field(default_factory=list)
    pending_offsets: dict[Part, int] = field(default_factory=dict)
    metadata: list[Any] = field(default_factory=list)
    in_transaction: bool = False
    aborted: int = 0
    inits: int = 0
    commits: int = 0
    closed: bool = False

    def init_transactions(self, timeout: float) -> None:
        self.inits += 1
        if self.init_failures:
            self.init_failures -= 1
            raise _error(KafkaError._TRANSPORT, retriable=True)

    def begin_transaction(self) -> None:
        assert not self.in_transaction, "a transaction is open already"
        self.in_transaction, self.pending, self.pending_offsets = True, [], {}

    def produce(
        self, topic: str, value: bytes, key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None, timestamp: int = 0,
    ) -> None:  # fmt: skip
        if self.fail_send(topic, value):
            raise _error(KafkaError.MSG_SIZE_TOO_LARGE)
        self.pending.append(OutRecord(topic, value, key, list(headers or [])))

    def send_offsets_to_transaction(self, offsets: list[TP], metadata: Any, timeout: float) -> None:
        self.metadata.append(metadata)
        self.pending_offsets = {(tp.topic, tp.partition): tp.offset for tp in offsets}

    def commit_transaction(self, timeout: float) -> None:
        if self.fatal_commits:
            self.fatal_commits -= 1
            raise _error(KafkaError._FENCED, fatal=True)
        if self.fail_commits:
            self.fail_commits -= 1
            raise _error(KafkaError._TIMED_OUT_QUEUE, txn_requires_abort=True)
        self.visible.extend(self.pending)
        self.consumer.committed_offsets.update(self.pending_offsets)
        self.in_transaction = False
        self.commits += 1

    def abort_transaction(self, timeout: float) -> None:
        self.aborted += 1
        self.in_transaction = False

    def poll(self, timeout: float) -> int:
        return 0

    def purge(self) -> None:
        pass

    def flush(self, timeout: float) -> int:
        self.closed = True
        return 0


@dataclass
class Echo:
    """A stage that answers each record with one output carrying its value."""

    name: str = "echo"

    def handle(self, record: InRecord) -> list[OutRecord]:
        return [OutRecord("out", record.value or b"")]


def _loop(stage: Any, consumer: FakeConsumer, *producers: FakeProducer) -> StageLoop:
    loop = StageLoop(
        stage, kafka=KafkaConnection("unused:9092"), group_id="g", transactional_id="t",
        dlq_topic="t.dlq", metrics=HubMetrics(), topics=("in",),
    )  # fmt: skip
    spare = list(producers[1:])
    loop.consumer, loop.producer = consumer, producers[0]  # type: ignore[assignment]
    loop._new_producer = lambda: spare.pop(0)  # type: ignore[assignment, return-value]
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
    consumer = FakeConsumer({P0: [_record(P0, i, b"m%d" % i) for i in range(5)]})
    producer = FakeProducer(consumer, fail_commits=1)
    loop = _loop(Echo(), consumer, producer)
    await _run_until(loop, lambda: consumer.committed_offsets.get(P0) == 5)
    assert _values(producer.visible) == [b"m%d" % i for i in range(5)]
    assert producer.aborted == 1
    assert consumer.closed and producer.closed


async def test_a_failed_first_batch_is_read_again_although_nothing_was_committed_yet() -> None:
    consumer = FakeConsumer({P0: [_record(P0, i, b"m%d" % i) for i in range(3)]})
    producer = FakeProducer(consumer, fail_commits=2)
    loop = _loop(Echo(), consumer, producer)
    assert consumer.committed_offsets == {}
    await _run_until(loop, lambda: consumer.committed_offsets.get(P0) == 3)
    assert _values(producer.visible) == [b"m0", b"m1", b"m2"]


async def test_an_output_that_fails_to_send_aborts_the_batch_and_commits_no_offset() -> None:
    consumer = FakeConsumer({P0: [_record(P0, 0, b"ok"), _record(P0, 1, b"too big")]})
    failures = iter([True, True])
    producer = FakeProducer(
        consumer, fail_send=lambda topic, value: value == b"too big" and next(failures, False)
    )
    loop = _loop(Echo(), consumer, producer)
    await _run_until(loop, lambda: consumer.committed_offsets.get(P0) == 2)
    assert producer.aborted == 2
    assert _values(producer.visible) == [b"ok", b"too big"]


async def test_offsets_go_with_the_group_metadata_the_batch_was_read_under() -> None:
    """Taken when the records come: a consumer thrown out of its group meanwhile forgets its
    generation, and offsets sent without one would not be fenced."""
    consumer = FakeConsumer({P0: [_record(P0, 0, b"m0")]})

    @dataclass
    class LosesGeneration(Echo):
        def handle(self, record: InRecord) -> list[OutRecord]:
            consumer.generation = -1  # the group let this member go while it worked
            return super().handle(record)

    producer = FakeProducer(consumer)
    loop = _loop(LosesGeneration(), consumer, producer)
    await _run_until(loop, lambda: consumer.committed_offsets.get(P0) == 1)
    assert producer.metadata == [("g", 1)]


async def test_a_fatal_producer_error_takes_a_new_producer_and_reads_from_the_commit() -> None:
    """The outcome of a transaction whose producer died is the broker's: the batch is read
    again from the offsets the broker has committed, not from where the loop thinks."""
    consumer = FakeConsumer({P0: [_record(P0, i, b"m%d" % i) for i in range(4)]},
                            committed_offsets={P0: 1})  # fmt: skip
    dying = FakeProducer(consumer, fatal_commits=1)
    fresh = FakeProducer(consumer)
    loop = _loop(Echo(), consumer, dying, fresh)
    await _run_until(loop, lambda: consumer.committed_offsets.get(P0) == 4)
    assert dying.visible == [] and fresh.inits == 1
    assert _values(fresh.visible) == [b"m1", b"m2", b"m3"]


async def test_a_second_instance_with_the_same_id_ends_the_stage_after_a_few_fencings() -> None:
    consumer = FakeConsumer({P0: [_record(P0, 0, b"m0")]})
    producers = [FakeProducer(consumer, fatal_commits=1) for _ in range(MAX_FENCED + 2)]
    loop = _loop(Echo(), consumer, *producers)
    with pytest.raises(ProducerLost):
        async with asyncio.timeout(10):
            await loop.run(asyncio.Event())
    assert consumer.committed_offsets == {}


async def test_route_state_follows_an_aborted_transaction(
    hub_context: HubContext, golden_payload: bytes
) -> None:
    """The router's memory must not keep what an aborted batch changed: a retried referral
    would look like a resend of itself, be acknowledged as a duplicate and never delivered."""
    canonical = _canonical(hub_context, golden_payload)
    part = (hub_context.names.canonical, 0)
    done_before = _record(part, 0, b"{}")  # committed earlier: the retry has an offset to go to
    record = _record(part, 1, canonical.value, canonical.headers)
    consumer = FakeConsumer({part: [done_before, record]}, committed_offsets={part: 1})
    producer = FakeProducer(consumer, fail_commits=1)
    route = RouteStage(hub_context, HubMetrics())
    loop = _loop(route, consumer, producer)
    await _run_until(loop, lambda: consumer.committed_offsets.get(part) == 2)
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


async def test_a_record_whose_headers_cannot_be_read_is_dead_lettered_and_nothing_else_lost() -> (
    None
):
    """One hostile record (a header name that is not UTF-8) must not stop or crash the stage."""
    consumer = FakeConsumer({
        P0: [_record(P0, i, b"a%d" % i) for i in range(4)],
        P1: [_record(P1, i, b"b%d" % i, broken=i == 2) for i in range(4)],
    })  # fmt: skip
    producer = FakeProducer(consumer)
    loop = _loop(Echo(), consumer, producer)
    await _run_until(loop, lambda: all(consumer.committed_offsets.get(p) == 4 for p in (P0, P1)))
    assert sorted(_values(producer.visible)) == [b"a0", b"a1", b"a2", b"a3", b"b0", b"b1", b"b3"]
    [dlq] = [r for r in producer.visible if r.topic == "t.dlq"]
    assert header_value(dlq.headers, HEADER_DLQ_REASON) == "malformed"
    assert dlq.value == b""


async def test_ingest_answers_a_record_whose_headers_cannot_be_read_with_a_nack(
    hub_context: HubContext, golden_payload: bytes
) -> None:
    part = (f"t.partner.{GP}.out", 0)
    consumer = FakeConsumer(
        {part: [_record(part, 0, golden_payload), _record(part, 1, b"x", broken=True)]}
    )
    producer = FakeProducer(consumer)
    loop = _loop(IngestStage(hub_context, HubMetrics()), consumer, producer)
    await _run_until(loop, lambda: consumer.committed_offsets.get(part) == 2)
    topics = sorted(r.topic for r in producer.visible if r.topic != "t.households")
    assert topics == ["t.canonical", "t.dlq", f"t.partner.{GP}.in"]


async def test_ingest_household_memory_follows_an_aborted_transaction(
    hub_context: HubContext, golden_payload: bytes
) -> None:
    """A child placed in a household by an aborted batch must be placed (and its membership
    record written) again by the retry, or no other instance ever learns of it."""
    part = (f"t.partner.{GP}.out", 0)
    consumer = FakeConsumer({part: [_record(part, 0, golden_payload)]})
    producer = FakeProducer(consumer, fail_commits=1)
    loop = _loop(IngestStage(hub_context, HubMetrics()), consumer, producer)
    await _run_until(loop, lambda: consumer.committed_offsets.get(part) == 1)
    assert sorted(r.topic for r in producer.visible) == ["t.canonical", "t.households"]


async def test_a_broker_that_is_away_at_start_is_waited_for() -> None:
    consumer = FakeConsumer({P0: [_record(P0, 0, b"m")]})
    producer = FakeProducer(consumer, init_failures=2)
    loop = _loop(Echo(), consumer, producer)
    with capture_logs() as logs:
        await _run_until(loop, lambda: consumer.committed_offsets.get(P0) == 1)
    unavailable = [e for e in logs if e["event"] == "kafka-unavailable"]
    assert len(unavailable) == 2
    assert _values(producer.visible) == [b"m"]


async def test_stop_while_waiting_for_the_broker_ends_cleanly() -> None:
    consumer = FakeConsumer({P0: []})
    producer = FakeProducer(consumer, init_failures=10**6)
    loop = _loop(Echo(), consumer, producer)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    await asyncio.sleep(0.1)
    assert not task.done()
    stop.set()
    async with asyncio.timeout(5):
        await task  # no exception: a clean exit
    assert consumer.closed and producer.closed


async def test_stop_lets_the_batch_in_flight_commit() -> None:
    consumer = FakeConsumer({P0: [_record(P0, i, b"m%d" % i) for i in range(3)]})
    producer = FakeProducer(consumer)
    stop = asyncio.Event()

    @dataclass
    class StopsMidBatch:
        name: str = "stops"

        def handle(self, record: InRecord) -> list[OutRecord]:
            stop.set()  # SIGTERM arrives while the batch is being handled
            return [OutRecord("out", record.value or b"")]

    loop = _loop(StopsMidBatch(), consumer, producer)
    async with asyncio.timeout(5):
        await loop.run(stop)
    assert consumer.committed_offsets == {P0: 3}
    assert _values(producer.visible) == [b"m0", b"m1", b"m2"]


@pytest.mark.parametrize(("linger_s", "transactions"), [(0.0, 2), (0.2, 1)])
async def test_records_arriving_within_the_linger_share_one_transaction(
    linger_s: float, transactions: int
) -> None:
    consumer = FakeConsumer({P0: [_record(P0, 0, b"m0"), _record(P0, 1, b"m1")]})
    producer = FakeProducer(consumer)
    loop = _loop(Echo(), consumer, producer)
    loop.linger_s = linger_s

    def third_record_lands(call: int) -> None:
        if call == 3:  # just after the first two were fetched (a poll, then a consume)
            consumer.logs[P0].append(_record(P0, 2, b"m2"))

    consumer.on_consume = third_record_lands
    await _run_until(loop, lambda: consumer.committed_offsets.get(P0) == 3)
    assert _values(producer.visible) == [b"m0", b"m1", b"m2"]
    assert producer.commits == transactions


async def test_a_lone_record_on_an_idle_stage_is_not_held_back() -> None:
    """At a trickle nothing would share its transaction: lingering would only add latency."""
    consumer = FakeConsumer({P0: [_record(P0, 0, b"m0")]})
    producer = FakeProducer(consumer)
    loop = _loop(Echo(), consumer, producer)
    loop.linger_s = 30.0
    await _run_until(loop, lambda: consumer.committed_offsets.get(P0) == 1, timeout=5)
    assert _values(producer.visible) == [b"m0"]


async def test_a_batch_fetched_across_a_rebalance_is_read_again_not_written_twice() -> None:
    consumer = FakeConsumer({P0: [_record(P0, 0, b"m0"), _record(P0, 1, b"m1")]})
    producer = FakeProducer(consumer)
    loop = _loop(Echo(), consumer, producer)
    loop.linger_s = 0.2

    def rebalance_while_lingering(call: int) -> None:
        if call == 3:  # the linger's first fetch (the batch took a poll and a consume)
            consumer.rebalance()

    consumer.on_consume = rebalance_while_lingering
    with capture_logs() as logs:
        await _run_until(loop, lambda: consumer.committed_offsets.get(P0) == 2)
    assert "batch-dropped-after-rebalance" in [e["event"] for e in logs]
    assert _values(producer.visible) == [b"m0", b"m1"]


@dataclass
class Restoring(Echo):
    """A stage that reads state back when it gains partitions, slowly, and can fail at it."""

    events: list[str] = field(default_factory=list)
    failures: int = 0

    async def partitions_assigned(self, partitions: list[int]) -> None:
        self.events.append("restore-start")
        await asyncio.sleep(0.1)
        if self.failures:
            self.failures -= 1
            raise KafkaException(KafkaError(KafkaError._TRANSPORT))
        self.events.append("restore-end")

    def partitions_revoked(self, partitions: list[int]) -> None:
        self.events.append("revoked")

    def handle(self, record: InRecord) -> list[OutRecord]:
        self.events.append("handle")
        return super().handle(record)


async def test_no_record_is_handled_before_the_stage_has_read_back_its_partitions() -> None:
    """Also not when the read back fails first (the broker away): it is tried again, and the
    records wait for it."""
    consumer = FakeConsumer({P0: [_record(P0, i, b"m%d" % i) for i in range(3)]})
    producer = FakeProducer(consumer)
    stage = Restoring(failures=2)
    loop = _loop(stage, consumer, producer)
    await _run_until(loop, lambda: consumer.committed_offsets.get(P0) == 3)
    assert stage.events == ["restore-start"] * 3 + ["restore-end"] + ["handle"] * 3
    assert _values(producer.visible) == [b"m0", b"m1", b"m2"]


async def test_a_rebalance_tells_the_stage_what_it_lost_and_what_it_owns_now() -> None:
    consumer = FakeConsumer({P0: [_record(P0, 0, b"m0")]})
    producer = FakeProducer(consumer)
    stage = Restoring()
    loop = _loop(stage, consumer, producer)

    def rebalance_once(call: int) -> None:
        if call == 3:
            consumer.rebalance()

    consumer.on_consume = rebalance_once
    await _run_until(loop, lambda: stage.events.count("restore-end") == 2)
    assert stage.events == ["restore-start", "restore-end", "handle", "revoked",
                            "restore-start", "restore-end"]  # fmt: skip
    assert _values(producer.visible) == [b"m0"]


async def test_lag_is_what_is_left_per_assigned_partition() -> None:
    consumer = FakeConsumer({P0: [_record(P0, i, b"m%d" % i) for i in range(3)]})
    producer = FakeProducer(consumer)
    loop = _loop(Echo(), consumer, producer)
    await _run_until(loop, lambda: consumer.committed_offsets.get(P0) == 3)
    consumer.logs[P0].append(_record(P0, 3, b"m3"))
    assert loop._lag() == {P0: 1}


@dataclass
class HangsOnOffsets(FakeProducer):
    """A producer whose ``send_offsets_to_transaction`` never comes back (as librdkafka's
    did after a broker restart)."""

    released: threading.Event = field(default_factory=threading.Event)

    def send_offsets_to_transaction(self, offsets: list[TP], metadata: Any, timeout: float) -> None:
        self.released.wait(30)
        raise _error(KafkaError._FENCED, fatal=True)


async def test_a_transactional_call_that_never_comes_back_takes_a_new_producer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("hub.stages.loop.STUCK_S", 0.3)
    consumer = FakeConsumer({P0: [_record(P0, i, b"m%d" % i) for i in range(3)]})
    stuck = HangsOnOffsets(consumer)
    fresh = FakeProducer(consumer)
    loop = _loop(Echo(), consumer, stuck, fresh)
    try:
        await _run_until(loop, lambda: consumer.committed_offsets.get(P0) == 3)
    finally:
        stuck.released.set()
    assert stuck.visible == [] and _values(fresh.visible) == [b"m0", b"m1", b"m2"]
