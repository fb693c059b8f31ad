"""The transactional consume -> handle -> produce loop both stages run in.

Each batch is one Kafka transaction: the outputs and the consumed offsets commit together or
not at all, and consumers downstream read committed data only. A crash mid-batch therefore
neither loses nor duplicates a delivery: the batch is consumed again and produces the same
records (stages derive ids from input offsets), and the aborted first attempt stays invisible.

The clients are librdkafka's (confluent-kafka), as in its exactly-once example: the offsets
go to the transaction with the consumer's group metadata (KIP-447), so an instance the group
has thrown out (a stall past ``max.poll.interval.ms``) cannot commit a batch its successor
owns. Their blocking calls run on one thread of the loop's own, the stage's ``handle`` on the
event loop, so stages see no threads. A rebalance happens inside ``consume`` only, which is
never called while a transaction is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from hub.kafka.backoff import backoff_delay, pause, retry_kafka
from hub.kafka.connection import MAX_REQUEST_BYTES, KafkaConnection
from hub.kafka.messages import in_record, take
from hub.stages.records import (
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
T = TypeVar("T")
MAX_FENCED = 5
MAX_BATCH = 500
POLL_S = 0.2
LINGER_MS = 2
"""How long a stage producer holds records for more of the same partition before sending."""
BATCH_BYTES = 256 * 1024
"""Producer record batch size: a transaction's records per partition travel in one batch."""
SESSION_TIMEOUT_MS = 10_000
MAX_POLL_INTERVAL_MS = 300_000
"""A stage that has not come back to ``consume`` for this long leaves its group (librdkafka
heartbeats on a thread of its own, so a stalled handler does not end the session)."""
TRANSACTION_TIMEOUT_S = 30.0
"""Per call of send_offsets / commit / abort. A commit that times out is asked for again,
never given up: giving up on it could deliver a redone batch twice."""
RETRY_BACKOFF_MS = 10
"""librdkafka's first retry wait (100 ms by default, doubling to ``retry.backoff.max.ms``). A
stage that commits back to back meets ``CONCURRENT_TRANSACTIONS`` on its next transaction's
first request while the broker still writes the last one's markers: each such retry waited
100 ms (a bare one-record transaction took 73-77 ms against 11.5-12 ms with 10)."""
STUCK_S = TRANSACTION_TIMEOUT_S + 20
"""A transactional call still not back by then is given up, with its producer and thread:
librdkafka 2.16's ``send_offsets_to_transaction`` was seen waiting for good after a broker
restart (``ketenhub chaos``), its own timeout notwithstanding. A new producer settles what
the stuck one left open, and the batch is read again from what the broker has committed,
so giving up even on a commit cannot deliver twice."""
IDLE_GAP_S = 0.1
"""With a linger set (``KETENHUB_BATCH_LINGER_MS``), a stage that finished its last batch
longer ago than this is idle: a lone record that comes to it is not held back (at a trickle
nothing would share its transaction)."""
FENCED = frozenset({KafkaError._FENCED, KafkaError.PRODUCER_FENCED})
"""Another producer took this transactional id: a second instance with this instance id."""


def consumer_settings(
    kafka: KafkaConnection, group_id: str, max_poll_interval_ms: int = MAX_POLL_INTERVAL_MS
) -> dict[str, Any]:
    """A stage consumer's librdkafka settings (the benchmark's shadow uses the same)."""
    return kafka.rdkafka_config(**{
        "group.id": group_id,
        "client.id": f"{group_id}-consumer",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "enable.partition.eof": False,
        "session.timeout.ms": SESSION_TIMEOUT_MS,
        "max.poll.interval.ms": max_poll_interval_ms,
        "topic.metadata.refresh.interval.ms": 10_000,
    })  # fmt: skip


def producer_settings(
    kafka: KafkaConnection, client_id: str, transactional_id: str | None = None
) -> dict[str, Any]:
    """A stage producer's librdkafka settings; without ``transactional_id`` idempotent only
    (the benchmark's passthrough and shadow use the same)."""
    transactional = {"transactional.id": transactional_id} if transactional_id else {}
    return kafka.rdkafka_config(**{
        "client.id": client_id,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": LINGER_MS,
        "batch.size": BATCH_BYTES,
        "retry.backoff.ms": RETRY_BACKOFF_MS,
        "message.max.bytes": MAX_REQUEST_BYTES,
        "partitioner": "murmur2_random",  # Kafka's default: Java and aiokafka agree
        **transactional,
    })  # fmt: skip


class ProducerLost(Exception):
    """The producer cannot go on (a fatal error, an abort that did not go through, a call
    that never came back): the outcome of its last transaction is the broker's to settle,
    and a new producer takes over."""

    def __init__(self, error: KafkaError | None, reason: str = "abort-failed") -> None:
        super().__init__(error.name() if error else reason)
        self.fenced = error is not None and error.code() in FENCED


class ClientThread:
    """One daemon thread that runs the clients' blocking calls in order.

    Not a ThreadPoolExecutor: its threads are joined at exit, and one stuck in librdkafka
    would keep the hub from ever stopping.
    """

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]
                                       | None] = queue.SimpleQueue()  # fmt: skip
        threading.Thread(target=self._serve, name=name, daemon=True).start()

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        self._calls.put((future, function, args))
        return future

    def shutdown(self) -> None:
        self._calls.put(None)

    def _serve(self) -> None:
        while (call := self._calls.get()) is not None:
            future, function, args = call
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function(*args))
                except BaseException as exc:
                    future.set_exception(exc)


class Stage(Protocol):
    """**Protocol:** one pipeline stage; ``handle`` is synchronous and does no I/O."""

    @property
    def name(self) -> str: ...

    def handle(self, record: InRecord) -> list[OutRecord]: ...


@runtime_checkable
class BatchAware(Protocol):
    """**Protocol:** a stage whose in-memory state must share the fate of its transaction.

    ``handle`` may change memory before the batch commits; if the transaction then aborts,
    the batch is consumed again and must meet the memory as it was, or a retried message
    looks like a resend of itself (and is acknowledged as a duplicate instead of delivered).
    """

    def batch_committed(self) -> None: ...

    def batch_aborted(self) -> None: ...


@runtime_checkable
class PartitionAware(Protocol):
    """**Protocol:** a stage whose memory follows the partitions it owns.

    Called from the consumer's rebalance listener; never while a batch is in flight.
    """

    async def partitions_assigned(self, partitions: list[int]) -> None: ...

    def partitions_revoked(self, partitions: list[int]) -> None: ...


@runtime_checkable
class ReadsUnreadable(Protocol):
    """**Protocol:** a stage that answers a record the Kafka client could not parse.

    ``record`` has topic, partition and offset only: the bytes are beyond reach.
    """

    def unreadable(self, record: InRecord) -> list[OutRecord]: ...


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
        linger_s: float = 0.0,
        max_poll_interval_ms: int = MAX_POLL_INTERVAL_MS,
    ) -> None:
        self.stage = stage
        self.linger_s = linger_s
        self.group_id = group_id
        self.dlq_topic = dlq_topic
        self.metrics = metrics
        # librdkafka takes a subscription that starts with ^ as a regular expression.
        self.subscription = [pattern if pattern.startswith("^") else f"^{pattern}"] if (
            pattern
        ) else list(topics)  # fmt: skip
        self._consumer_config = consumer_settings(kafka, group_id, max_poll_interval_ms)
        self._producer_config = producer_settings(kafka, f"{group_id}-producer", transactional_id)
        self.consumer = Consumer(self._consumer_config)
        self._new_producer: Callable[[], Producer] = lambda: Producer(self._producer_config)
        self.producer = self._new_producer()
        self._thread = ClientThread(f"kafka-{stage.name}")
        """The one thread the clients' blocking calls (and so the rebalance callbacks) run on."""
        self._abandoned: list[tuple[Producer, ClientThread]] = []
        """Producers (and their thread) stuck in a call: kept, never destroyed (that blocks)."""
        self._events: asyncio.AbstractEventLoop | None = None
        self.rebalances = 0
        """Counts rebalance callbacks: a batch fetched across one is not processed."""
        self._unrestored: set[int] = set()
        """Partitions whose state the stage failed to read back: not processed until it has."""
        self._in_flight: dict[tuple[str, int], int] = {}
        """First offset per partition of the batch whose transaction is open."""
        self._last_batch_done = -IDLE_GAP_S
        """When the stage last finished a batch (``time.monotonic()``): linger and commit
        times, however long, do not make a busy stage look idle."""

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` on the clients' thread: the event loop goes on meanwhile."""
        return await asyncio.wrap_future(self._thread.submit(function, *args))

    async def _call_txn(self, function: Callable[..., T], *args: Any) -> T:
        """A transactional call, given up after ``STUCK_S`` (ProducerLost)."""
        future = self._thread.submit(function, *args)
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), STUCK_S)
        except TimeoutError:
            future.add_done_callback(lambda f: f.exception())  # its outcome no longer matters
            self._abandoned.append((self.producer, self._thread))
            self._thread = ClientThread(f"kafka-{self.stage.name}")
            log.error("producer-stuck", stage=self.stage.name, seconds=STUCK_S)
            raise ProducerLost(None, "stuck") from None

    async def run(self, stop: asyncio.Event) -> None:
        self._events = asyncio.get_running_loop()
        try:
            if not await retry_kafka(self._start, stop, stage=self.stage.name, what="start"):
                return
            log.info("stage-started", stage=self.stage.name, group=self.group_id)
            failures = fenced = 0
            while not stop.is_set():
                try:
                    await self._poll_once()
                    failures = fenced = 0
                except ProducerLost as exc:
                    # A fatal producer error (say, its transaction timed out on the broker
                    # during a restart): a new producer aborts or finishes what is open, and
                    # the batch is read again from what the broker says is committed.
                    # Fenced again and again means a second instance with this instance id.
                    fenced += exc.fenced
                    self.metrics.transactions.labels(self.stage.name, "aborted").inc()
                    if fenced > MAX_FENCED:
                        log.error("fenced", stage=self.stage.name, attempts=fenced)
                        raise
                    log.warning("producer-renewing", stage=self.stage.name, attempt=fenced,
                                error_type=str(exc))  # fmt: skip
                    if not await self._renew_producer(stop):
                        return
                except KafkaException as exc:
                    failures += 1
                    delay = backoff_delay(failures)
                    self.metrics.transactions.labels(self.stage.name, "aborted").inc()
                    log.warning("batch-retry", stage=self.stage.name,
                                error_type=_name(exc), retry_in_s=delay)  # fmt: skip
                    self._rewind()
                    await pause(stop, delay)
        finally:
            with contextlib.suppress(Exception):
                await self._call(self.consumer.close)
            with contextlib.suppress(Exception):
                await self._call(self.producer.flush, 10.0)
            self._thread.shutdown()
            log.info("stage-stopped", stage=self.stage.name)

    async def _start(self) -> bool:
        """A broker that is not up yet is waited for (by ``retry_kafka``), not a crash loop."""
        await self._call(self.producer.init_transactions, TRANSACTION_TIMEOUT_S)
        self.consumer.subscribe(
            self.subscription, on_assign=self._on_assign, on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )  # fmt: skip
        return True

    async def _renew_producer(self, stop: asyncio.Event) -> bool:
        """A new producer (new epoch: the old one's open transaction is settled), then every
        partition back to its committed offset, as the broker has it now."""
        old, self.producer = self.producer, self._new_producer()
        if all(old is not stuck for stuck, _ in self._abandoned):
            with contextlib.suppress(Exception):
                await self._call(old.purge)
        del old

        async def start() -> bool:
            await self._call(self.producer.init_transactions, TRANSACTION_TIMEOUT_S)
            await self._call(self._rewind_to_committed)
            return True

        return bool(await retry_kafka(start, stop, stage=self.stage.name, what="renew"))

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Rebalance callback (clients' thread): the stage reads back what it now owns."""
        self.rebalances += 1
        owned = sorted({tp.partition for tp in partitions})
        if isinstance(self.stage, PartitionAware) and owned:
            self._on_events(self._assigned(owned))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.rebalances += 1
        self._in_flight = {}
        if isinstance(self.stage, PartitionAware) and partitions:
            self._on_events(self._revoked(sorted({tp.partition for tp in partitions})))

    def _on_events(self, work: Any) -> None:
        """Run a coroutine on the event loop and wait for it (called on the clients' thread,
        while the event loop awaits that thread: no deadlock, and stages see one thread)."""
        assert self._events is not None
        asyncio.run_coroutine_threadsafe(work, self._events).result()

    async def _assigned(self, partitions: list[int]) -> None:
        assert isinstance(self.stage, PartitionAware)
        self._unrestored = set(partitions)
        await self._restore()

    async def _revoked(self, partitions: list[int]) -> None:
        assert isinstance(self.stage, PartitionAware)
        self._unrestored -= set(partitions)
        self.stage.partitions_revoked(partitions)

    async def _restore(self) -> bool:
        """Let the stage read back the partitions it gained; True once it has. A failure
        (the broker away) keeps their records from being handled until a later try works."""
        assert isinstance(self.stage, PartitionAware)
        try:
            await self.stage.partitions_assigned(sorted(self._unrestored))
        except Exception as exc:
            log.warning("partition-restore-failed", stage=self.stage.name,
                        error_type=type(exc).__name__)  # fmt: skip
            return False
        self._unrestored = set()
        return True

    async def _poll_once(self) -> None:
        batch = await self._gather_batch()
        if self._unrestored and not await self._restore():
            await asyncio.sleep(backoff_delay(1))
        if batch is None:
            return
        messages, metadata, rebalances = batch
        if self.rebalances != rebalances or self._unrestored:
            # The batch may straddle two assignments (or its state is not read back): read
            # it again, from its first record in every partition still ours (a partition
            # given away is read by its new owner from the last commit).
            log.info("batch-dropped-after-rebalance", stage=self.stage.name)
            self._in_flight = _first_offsets(messages)
            self._rewind()
            return
        await self._process(messages, metadata)
        self._last_batch_done = time.monotonic()

    async def _consume(self, timeout_s: float, limit: int) -> list[Message]:
        messages = await self._call(take, self.consumer, limit, timeout_s)
        good = []
        for message in messages:
            error = message.error()
            if error is None:
                good.append(message)
            elif error.fatal():
                raise KafkaException(error)
            else:  # the broker away, a poll interval exceeded: librdkafka recovers by itself
                log.info("consumer-notice", stage=self.stage.name, error_type=error.name())
        return good

    async def _gather_batch(self) -> tuple[list[Message], Any, int] | None:
        """Records for one transaction (what is there, and what arrives within ``linger_s``),
        the group metadata they were read under, and the rebalance count when they came.

        A transaction costs the same few broker round trips for one record as for hundreds;
        a steady stream would otherwise pay them for every one or two messages. A lone record
        on an idle stage goes at once: lingering would only add to its latency. The metadata
        is taken when the first records come, not at commit: a consumer the group throws out
        meanwhile forgets its generation, and offsets sent without one are not fenced.
        """
        batch = await self._consume(POLL_S, MAX_BATCH)
        if not batch:
            return None
        metadata, rebalances = self._group_metadata(), self.rebalances
        now = time.monotonic()
        if self.linger_s <= 0 or (len(batch) == 1 and now - self._last_batch_done > IDLE_GAP_S):
            return batch, metadata, rebalances
        deadline = now + self.linger_s
        while len(batch) < MAX_BATCH and (left := deadline - time.monotonic()) > 0:
            batch += await self._consume(left, MAX_BATCH - len(batch))
        return batch, metadata, rebalances

    def _group_metadata(self) -> Any:
        """Group, member and generation the batch in hand is read under; the broker takes
        its offsets only if the group still has that member in that generation."""
        return self.consumer.consumer_group_metadata()

    async def _process(self, messages: list[Message], metadata: Any) -> None:
        # A rebalance may have taken a partition since its records were fetched (the linger
        # widens that window): its new owner reads them from the last commit, not us.
        owned = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
        messages = [m for m in messages if (m.topic(), m.partition()) in owned]
        if not messages:
            return
        self._in_flight = _first_offsets(messages)
        ends: dict[tuple[str, int], int] = {}
        outputs: list[OutRecord] = []
        for message in messages:
            record, readable = in_record(message)
            ends[(record.topic, record.partition)] = record.offset + 1
            outputs += self._handle_safely(record) if readable else self._unreadable(record)
        offsets = [
            TopicPartition(topic, partition, end) for (topic, partition), end in ends.items()
        ]
        await self._commit(outputs, offsets, metadata, len(messages))

    async def _commit(
        self, outputs: list[OutRecord], offsets: list[TopicPartition], metadata: Any, count: int
    ) -> None:
        """Write ``outputs`` and commit ``offsets`` in one transaction, or neither."""
        started = time.perf_counter()
        self.metrics.in_progress.labels(self.stage.name).set(count)
        try:
            await self._transact(outputs, offsets, metadata)
        except BaseException:
            if isinstance(self.stage, BatchAware):
                self.stage.batch_aborted()
            raise
        self._in_flight = {}
        if isinstance(self.stage, BatchAware):
            self.stage.batch_committed()
        self.metrics.in_progress.labels(self.stage.name).set(0)
        self.metrics.committed(self.stage.name, time.perf_counter() - started)
        for out in outputs:
            if out.topic == self.dlq_topic:
                self.metrics.dead_lettered(self.stage.name, _dlq_reason(out))

    async def _transact(
        self, outputs: list[OutRecord], offsets: list[TopicPartition], metadata: Any
    ) -> None:
        """One transaction. KafkaException: aborted, nothing of it will commit (the caller
        reads the batch again); ProducerLost: the outcome is the broker's (a new producer)."""
        try:
            self.producer.begin_transaction()
            for out in outputs:
                await self._produce(out)
            # Offsets refused for a past generation or a member the group no longer has
            # fail here: the batch is another instance's by now.
            await self._call_txn(
                self.producer.send_offsets_to_transaction, offsets, metadata, TRANSACTION_TIMEOUT_S
            )
            await self._call_txn(self._commit_transaction)
        except KafkaException as exc:
            error = _error(exc)
            if error is not None and error.fatal():
                raise ProducerLost(error) from None
            # Abortable (offsets refused, a record failed) or refused before it was sent
            # (a record too large): abort, and the caller reads the batch again.
            await self._abort()
            raise

    async def _produce(self, out: OutRecord) -> None:
        headers: list[tuple[str, str | bytes | None]] = list(out.headers)
        while True:
            try:
                self.producer.produce(
                    out.topic, value=out.value, key=out.key, headers=headers,
                    timestamp=out.timestamp_ms or 0,
                )  # fmt: skip
                return
            except BufferError:  # the local queue is full: let it drain a moment
                await self._call(self.producer.poll, 0.1)

    def _commit_transaction(self) -> None:
        """Commit, asking again while the answer is a retriable error (clients' thread)."""
        while True:
            try:
                self.producer.commit_transaction(TRANSACTION_TIMEOUT_S)
                return
            except KafkaException as exc:
                error = _error(exc)
                if error is None or not error.retriable():
                    raise

    async def _abort(self) -> None:
        """Abort the open transaction; a producer that cannot even do that is given up."""
        try:
            await self._call_txn(self.producer.abort_transaction, TRANSACTION_TIMEOUT_S)
        except KafkaException as exc:
            raise ProducerLost(_error(exc)) from None

    def _handle_safely(self, incoming: InRecord) -> list[OutRecord]:
        try:
            return self.stage.handle(incoming)
        except Exception as exc:  # a bug in one message's handling must not stop the stream
            log.error("handler-crash", stage=self.stage.name, error_type=type(exc).__name__,
                      source=_source(incoming))  # fmt: skip
            self.metrics.rejects.labels(self.stage.name, RejectReason.INTERNAL_ERROR.value).inc()
            detail = f"{self.stage.name} failed: {type(exc).__name__}"
            return [self._dead_letter(incoming, RejectReason.INTERNAL_ERROR, detail)]

    def _unreadable(self, record: InRecord) -> list[OutRecord]:
        """A record whose headers cannot be read (see ``hub.kafka.messages``)."""
        log.warning("unreadable-record", stage=self.stage.name, source=_source(record))
        if isinstance(self.stage, ReadsUnreadable):
            return self.stage.unreadable(record)
        self.metrics.rejects.labels(self.stage.name, RejectReason.MALFORMED.value).inc()
        return [self._dead_letter(record, RejectReason.MALFORMED, UNREADABLE_DETAIL)]

    def _dead_letter(self, incoming: InRecord, reason: RejectReason, detail: str) -> OutRecord:
        return OutRecord(
            topic=self.dlq_topic,
            value=incoming.value or b"",
            key=incoming.key,
            headers=[
                *incoming.headers,
                (HEADER_DLQ_REASON, reason.value.encode()),
                (HEADER_DLQ_DETAIL, detail.encode()),
                (HEADER_DLQ_SOURCE, _source(incoming).encode()),
                (HEADER_DLQ_AT, datetime.now(UTC).isoformat().encode()),
            ],
        )

    def _rewind(self) -> None:
        """After an aborted batch, read it again from its first offsets (a local seek: the
        broker is often away right then, and nothing of the batch committed)."""
        assigned = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
        for (topic, partition), offset in self._in_flight.items():
            if (topic, partition) in assigned:  # a partition lost meanwhile: its new owner
                with contextlib.suppress(KafkaException):  # not fetching yet: starts there
                    self.consumer.seek(TopicPartition(topic, partition, offset))
        self._in_flight = {}

    def _rewind_to_committed(self) -> None:
        """Every assigned partition back to its committed offset (clients' thread)."""
        self._in_flight = {}
        assigned = self.consumer.assignment()
        if not assigned:
            return
        for tp in self.consumer.committed(assigned, TRANSACTION_TIMEOUT_S):
            offset = tp.offset if tp.offset >= 0 else OFFSET_BEGINNING
            with contextlib.suppress(KafkaException):
                self.consumer.seek(TopicPartition(tp.topic, tp.partition, offset))

    async def lag(self) -> dict[tuple[str, int], int]:
        """Records not yet processed per assigned partition (for the observer's gauge)."""
        return await self._call(self._lag)

    def _lag(self) -> dict[tuple[str, int], int]:
        lags: dict[tuple[str, int], int] = {}
        for tp in self.consumer.position(self.consumer.assignment()):
            if tp.offset < 0:
                continue  # not fetching yet
            _, high = self.consumer.get_watermark_offsets(tp, 1.0, True)
            lags[(tp.topic, tp.partition)] = max(0, high - tp.offset)
        return lags


UNREADABLE_DETAIL = "the Kafka record could not be read: a header name is not valid UTF-8"


def _first_offsets(messages: Sequence[Message]) -> dict[tuple[str, int], int]:
    first: dict[tuple[str, int], int] = {}
    for message in messages:
        first.setdefault((message.topic() or "", message.partition() or 0), message.offset() or 0)
    return first


def _error(exc: KafkaException) -> KafkaError | None:
    error = exc.args[0] if exc.args else None
    return error if isinstance(error, KafkaError) else None


def _name(exc: KafkaException) -> str:
    error = _error(exc)
    return error.name() if error else type(exc).__name__


def _dlq_reason(out: OutRecord) -> str:
    """The reason code a DLQ record was written with (the hub's header is the last one: a
    dead-lettered record keeps the headers it came with); only known codes become labels."""
    reason = next((v for k, v in reversed(out.headers) if k == HEADER_DLQ_REASON), b"")
    known = {r.value for r in RejectReason}
    text = reason.decode(errors="replace")
    return text if text in known else "unknown"


def _source(record: InRecord) -> str:
    return f"{record.topic}:{record.partition}:{record.offset}"
