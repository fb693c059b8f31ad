"""The transactional consume -> handle -> produce loop both stages run in.

Each batch is one Kafka transaction: the outputs and the consumed offsets commit together or
not at all, and consumers downstream read committed data only. A crash mid-batch therefore
neither loses nor duplicates a delivery: the batch is consumed again and produces the same
records (stages derive ids from input offsets), and the aborted first attempt stays invisible.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import CorruptRecordException, KafkaError, ProducerFenced

from hub.kafka.backoff import backoff_delay, pause, retry_kafka
from hub.kafka.connection import KafkaConnection
from hub.kafka.group_fencing import (
    Membership,
    OffsetsFenced,
    fence_offset_commits,
    membership_of,
    read_stable_offsets,
)
from hub.kafka.group_watch import GroupWatch, listed_in_group
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
MAX_FENCED = 5
MAX_BATCH = 500
LINGER_MS = 2
"""How long a stage producer holds records for more of the same partition before sending."""
BATCH_BYTES = 256 * 1024
"""Producer record batch size (aiokafka's default is 16 KB). A transaction's records per
partition then travel in one batch instead of one per dozen records, each waiting for the
last to drain: it halves the client CPU per record (56 -> 27-37 µs for 1.4 KB records)."""
WRITE_DEADLINE_S = 90.0
"""A batch whose records are not all written by then is aborted and done again on a new
producer (longer than the producer's own request timeouts: a safety net only). The commit
itself has no deadline: once asked for, giving up on it could deliver a redone batch twice."""
ABORT_DEADLINE_S = 10.0
IDLE_GAP_S = 0.1
"""A stage that finished its last batch longer ago than this is idle: a lone record that comes
to it is not held back by the linger (at a trickle nothing would share its transaction)."""
NOT_A_MEMBER_PAUSE_S = 0.2
"""How long a consumer the group threw out waits before it looks again (it is joining anew)."""


class ProducerBroken(KafkaError):  # type: ignore[misc]
    """aiokafka 0.14's producer cannot go on: when its sender task dies on a connection error
    (seen when the broker stops mid-transaction) the transaction manager is left in its fatal
    state and the next transaction fails an internal assertion. A new producer takes over."""


class CommitStalled(KafkaError):  # type: ignore[misc]
    """A batch's records were neither written nor failed in time (or could not be aborted).
    After a broker restart aiokafka 0.14 can wait for good inside ``send`` on a metadata
    update that never comes (seen in partner clients under ``ketenhub chaos``). The batch is
    aborted, the producer renewed and the batch done again."""


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


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Lets a rebalance wait for the open transaction, then tells the stage what it owns.

    Bound to one consumer: a consumer replaced by ``_rejoin`` may still finish a join in
    the background, and what it is told no longer concerns the stage.
    """

    def __init__(self, loop: StageLoop, consumer: AIOKafkaConsumer) -> None:
        self.loop = loop
        self.consumer = consumer

    def _current(self) -> bool:
        return self.consumer is self.loop.consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        async with self.loop.batch_lock:
            if not self._current():
                return
            self.loop.rebalances += 1
            self.loop._assigned -= set(revoked)
            if isinstance(self.loop.stage, PartitionAware):
                self.loop.stage.partitions_revoked([tp.partition for tp in revoked])

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        # Under the batch lock: aiokafka may already fetch the new partitions while the
        # stage reads their state back, and no batch may be handled before it has.
        async with self.loop.batch_lock:
            if not self._current():
                return
            self.loop.rebalances += 1
            self.loop._assigned |= set(assigned)
            if isinstance(self.loop.stage, PartitionAware):
                await self.loop.stage.partitions_assigned([tp.partition for tp in assigned])


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
    ) -> None:
        self.stage = stage
        self.linger_s = linger_s
        self.group_id = group_id
        self.dlq_topic = dlq_topic
        self.metrics = metrics
        self.topics = topics
        self.pattern = pattern
        self._new_consumer: Callable[[], AIOKafkaConsumer] = functools.partial(
            kafka.consumer,
            group_id=group_id,
            client_id=f"{group_id}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            metadata_max_age_ms=10_000,
        )
        self.consumer = self._new_consumer()
        self.group_watch = GroupWatch(lambda: listed_in_group(kafka, group_id, self.consumer))
        self._assigned: set[TopicPartition] = set()
        """The partitions the last rebalance gave this instance."""
        self.rebalances = 0
        """Counts rebalance callbacks: a batch fetched across one is not processed."""
        self._membership: Membership | None = None
        """The group membership the batch in hand was read under; its offsets commit only if
        the group still has that member in that generation (see ``hub.kafka.group_fencing``)."""
        producer = functools.partial(
            kafka.producer,
            client_id=f"{group_id}-producer",
            transactional_id=transactional_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=LINGER_MS,
            retry_backoff_ms=10,
            max_batch_size=BATCH_BYTES,
        )
        self._new_producer: Callable[[], AIOKafkaProducer] = lambda: fence_offset_commits(
            producer(), lambda: self._membership
        )
        self.producer = self._new_producer()
        self.batch_lock = asyncio.Lock()
        """Held while a batch is handled and committed, so a rebalance waits for it."""
        self._in_flight: dict[TopicPartition, int] = {}
        self._last_batch_done = -IDLE_GAP_S
        """When the stage last finished a batch (``time.monotonic()``): linger and commit
        times, however long, do not make a busy stage look idle."""
        self._recovering = False
        """First offset per partition of the batch whose transaction is open."""

    async def run(self, stop: asyncio.Event) -> None:
        try:
            if not await self._start_with_retry(stop):
                return
            self._subscribe()
            log.info("stage-started", stage=self.stage.name, group=self.group_id)
            failures = fenced = 0
            while not stop.is_set():
                try:
                    await self._poll_once()
                    failures = fenced = 0
                    assigned = bool(self.consumer.assignment())
                    lost = await self.group_watch.lost(assigned, time.monotonic())
                    if lost and not await self._rejoin(stop):
                        return
                except (ProducerFenced, CommitStalled, ProducerBroken, OffsetsFenced) as exc:
                    # After a broker restart an open transaction can time out and fence its
                    # producer; a fresh producer (new epoch) continues from the last commit.
                    # Fenced again and again means a second instance with this instance id.
                    # Offsets refused for a stale generation: aiokafka then forgets the
                    # batch's partitions and "aborts" without telling the broker, whose open
                    # transaction the next commit would commit; a new epoch aborts it. That
                    # says nothing of a second instance, and the consumer is about to learn
                    # that it left the group: no count, a short pause.
                    refused = isinstance(exc, OffsetsFenced)
                    fenced += not refused
                    self.metrics.transactions.labels(self.stage.name, "aborted").inc()
                    if fenced > MAX_FENCED:
                        log.error("fenced", stage=self.stage.name, attempts=fenced)
                        raise
                    log.warning("producer-renewing", stage=self.stage.name, attempt=fenced,
                                error_type=type(exc).__name__)  # fmt: skip
                    self._rewind()
                    if not await self._renew_producer(stop):
                        return
                    if refused and await pause(stop, NOT_A_MEMBER_PAUSE_S):
                        return
                except KafkaError as exc:
                    failures += 1
                    delay = backoff_delay(failures)
                    self.metrics.transactions.labels(self.stage.name, "aborted").inc()
                    log.warning("batch-retry", stage=self.stage.name,
                                error_type=type(exc).__name__, retry_in_s=delay)  # fmt: skip
                    self._rewind()
                    await pause(stop, delay)
        finally:
            await self.consumer.stop()
            await self.producer.stop()
            log.info("stage-stopped", stage=self.stage.name)

    def _subscribe(self) -> None:
        listener = _Rebalance(self, self.consumer)
        if self.pattern:
            self.consumer.subscribe(pattern=self.pattern, listener=listener)
        else:
            self.consumer.subscribe(topics=list(self.topics), listener=listener)

    async def _rejoin(self, stop: asyncio.Event) -> bool:
        """A new consumer for a stage whose consumer fell out of its group for good.

        What it held may have gone to another instance meanwhile: the stage lets go of it
        first, so a partition that comes back is restored afresh.
        """
        log.warning("consumer-left-group-rejoining", stage=self.stage.name, group=self.group_id)
        if isinstance(self.stage, PartitionAware) and self._assigned:
            self.stage.partitions_revoked(sorted(tp.partition for tp in self._assigned))
        self._assigned = set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.consumer.stop(), 10)
        self.consumer = self._new_consumer()
        self.group_watch.reset()

        async def start() -> bool:
            await self._start_consumer()
            return True

        if not await retry_kafka(start, stop, stage=self.stage.name, what="rejoin"):
            return False
        self._subscribe()
        return True

    async def _renew_producer(self, stop: asyncio.Event) -> bool:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.producer.stop(), 10)
        self.producer = self._new_producer()
        return bool(
            await retry_kafka(self._start_producer, stop, stage=self.stage.name, what="renew")
        )

    async def _start_producer(self) -> bool:
        await self.producer.start()
        return True

    async def _start_with_retry(self, stop: asyncio.Event) -> bool:
        """A broker that is not up yet is waited for, with a clear line, not a crash loop.

        True once both clients run; False when asked to stop first (a clean exit, no error).
        """
        producer_started = False

        async def start() -> bool:
            nonlocal producer_started
            if not producer_started:  # a started client must not be started twice
                await self.producer.start()
                producer_started = True
            await self._start_consumer()
            return True

        return bool(await retry_kafka(start, stop, stage=self.stage.name, what="start"))

    async def _start_consumer(self) -> None:
        await self.consumer.start()
        read_stable_offsets(self.consumer)

    async def _poll_once(self) -> None:
        if self._recovering:  # a recovery that a Kafka error broke off starts over
            await self._recover_unreadable()
            return
        rebalances = self.rebalances
        try:
            batch = await self._gather_batch()
        except UNREADABLE as exc:
            log.warning("unreadable-record", stage=self.stage.name, error_type=type(exc).__name__)
            self._recovering = True
            await self._recover_unreadable()
            return
        if batch:
            async with self.batch_lock:
                if self.rebalances != rebalances:
                    # The batch may straddle two assignments: read it again, from its first
                    # record in every partition still ours (a partition given away is read
                    # by its new owner from the last commit).
                    log.info("batch-dropped-after-rebalance", stage=self.stage.name)
                    self._in_flight = {tp: rs[0].offset for tp, rs in batch.items() if rs}
                    self._rewind()
                    return
                await self._process(batch)
                self._last_batch_done = time.monotonic()

    async def _gather_batch(self) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        """Records for one transaction: what is there, and what arrives within ``linger_s``.

        A transaction costs the same few broker round trips for one record as for hundreds;
        a steady stream would otherwise pay them for every one or two messages. A lone record
        on an idle stage goes at once: lingering would only add to its latency.
        """
        batch: dict[
            TopicPartition, list[ConsumerRecord[bytes, bytes]]
        ] = await self.consumer.getmany(timeout_ms=200, max_records=MAX_BATCH)
        count = sum(len(records) for records in batch.values())
        if not count:
            return batch
        now = time.monotonic()
        if self.linger_s <= 0 or (count == 1 and now - self._last_batch_done > IDLE_GAP_S):
            return batch
        deadline = now + self.linger_s
        while count < MAX_BATCH and (left := deadline - time.monotonic()) > 0:
            more: dict[
                TopicPartition, list[ConsumerRecord[bytes, bytes]]
            ] = await self.consumer.getmany(
                timeout_ms=max(1, round(left * 1000)), max_records=MAX_BATCH - count
            )
            for tp, records in more.items():
                batch.setdefault(tp, []).extend(records)
                count += len(records)
        return batch

    async def _process(
        self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        # A rebalance may have taken a partition since its records were fetched (the linger
        # widens that window): its new owner reads them from the last commit, not us.
        owned = self.consumer.assignment()
        batch = {tp: records for tp, records in batch.items() if records and tp in owned}
        if not batch:
            return
        self._in_flight = {tp: records[0].offset for tp, records in batch.items()}
        if not self._read_as_member():
            self._rewind()
            await asyncio.sleep(NOT_A_MEMBER_PAUSE_S)
            return
        outputs = [
            out for records in batch.values() for r in records for out in self._handle_safely(r)
        ]
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items() if records}
        await self._commit(outputs, offsets, sum(len(records) for records in batch.values()))

    def _read_as_member(self) -> bool:
        """Note the group membership the batch in hand is read under; False when there is
        none: the group threw this consumer out (it stalled past its session timeout) and it
        has not joined again, so its partitions may be another instance's by now."""
        self._membership = membership_of(self.consumer)
        if self._membership is None:
            log.info("batch-dropped-not-a-member", stage=self.stage.name)
            return False
        return True

    async def _commit(
        self, outputs: list[OutRecord], offsets: dict[TopicPartition, int], count: int
    ) -> None:
        """Write ``outputs`` and commit ``offsets`` in one transaction, or neither."""
        started = time.perf_counter()
        self.metrics.in_progress.labels(self.stage.name).set(count)
        try:
            await self._transact(outputs, offsets)
        except BaseException as exc:
            if isinstance(self.stage, BatchAware):
                self.stage.batch_aborted()
            if isinstance(exc, AssertionError):
                raise ProducerBroken("the producer refused a new transaction") from None
            raise
        self._in_flight = {}
        if isinstance(self.stage, BatchAware):
            self.stage.batch_committed()
        self.metrics.in_progress.labels(self.stage.name).set(0)
        self.metrics.committed(self.stage.name, time.perf_counter() - started)
        for out in outputs:
            if out.topic == self.dlq_topic:
                self.metrics.dead_lettered(self.stage.name, _dlq_reason(out))

    async def _transact(self, outputs: list[OutRecord], offsets: dict[TopicPartition, int]) -> None:
        await self.producer.begin_transaction()
        sent: list[asyncio.Future[Any]] = []
        try:
            await asyncio.wait_for(self._write(outputs, offsets, sent), WRITE_DEADLINE_S)
        except BaseException as exc:
            for future in sent:  # their outcome no longer matters; asyncio need not warn
                future.add_done_callback(_retrieved)
            await self._abort()
            if isinstance(exc, TimeoutError):
                raise CommitStalled(f"batch not written within {WRITE_DEADLINE_S:.0f} s") from None
            raise
        await self.producer.commit_transaction()

    async def _abort(self) -> None:
        """Abort the open transaction; a producer that cannot even do that is given up."""
        manager = getattr(self.producer, "_txn_manager", None)
        if manager is not None and manager.is_fatal_error():
            return  # nothing to abort with: the caller's error leads to a new producer
        try:
            await asyncio.wait_for(self.producer.abort_transaction(), ABORT_DEADLINE_S)
        except Exception:
            raise CommitStalled("the producer could not abort the batch") from None

    async def _write(
        self,
        outputs: list[OutRecord],
        offsets: dict[TopicPartition, int],
        sent: list[asyncio.Future[Any]],
    ) -> None:
        for out in outputs:
            sent.append(
                await self.producer.send(
                    out.topic,
                    value=out.value,
                    key=out.key,
                    headers=out.headers,
                    timestamp_ms=out.timestamp_ms,
                )
            )
        # The offsets travel while the records are written (one round trip less per batch);
        # like the records they count only if the transaction commits.
        sent.append(
            asyncio.ensure_future(self.producer.send_offsets_to_transaction(offsets, self.group_id))
        )
        # aiokafka commits a transaction even when one of its records failed (say, too large
        # for its topic): nothing may commit before every output is written.
        for result in await asyncio.gather(*sent, return_exceptions=True):
            if isinstance(result, BaseException):
                raise result

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
        try:
            return self.stage.handle(incoming)
        except Exception as exc:  # a bug in one message's handling must not stop the stream
            log.error("handler-crash", stage=self.stage.name, error_type=type(exc).__name__,
                      source=_source(incoming))  # fmt: skip
            self.metrics.rejects.labels(self.stage.name, RejectReason.INTERNAL_ERROR.value).inc()
            detail = f"{self.stage.name} failed: {type(exc).__name__}"
            return [self._dead_letter(incoming, RejectReason.INTERNAL_ERROR, detail)]

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
        """After an aborted batch, read it again from its first offsets.

        A local seek, not ``seek_to_committed``: that needs the broker (often away right
        then) and does nothing for a partition without a committed offset yet, and either
        way the consumer would read on after the aborted records and a later commit would
        skip them for good.
        """
        assigned = self.consumer.assignment()
        for tp, offset in self._in_flight.items():
            if tp in assigned:  # a partition lost in a rebalance restarts at its commit
                self.consumer.seek(tp, offset)
        self._in_flight = {}

    async def _recover_unreadable(self) -> None:
        """Dead-letter a record the Kafka client cannot even parse, and read on after it.

        A partner can publish a record whose header name is not UTF-8: the broker accepts
        it, but every fetch of it raises, so without this the stage would stop for good (and
        again after each restart). aiokafka also drops what it had drained from other
        partitions in the failed call, so all partitions go back to their committed offsets
        and are then read one at a time up to their current end, which finds the record.
        aiokafka parses a record batch from its start, so records after the bad one in the
        same batch (same producer, same moment) are unreadable too: each gets its own DLQ
        record and nack, nothing is skipped silently.
        """
        rebalances = self.rebalances
        partitions = sorted(self.consumer.assignment())
        try:
            for tp in partitions:
                committed = await self.consumer.committed(tp)
                if committed is None:
                    await self.consumer.seek_to_beginning(tp)
                else:
                    self.consumer.seek(tp, committed)
            for tp in partitions:
                end = (await self.consumer.end_offsets([tp]))[tp]
                while (start := await self.consumer.position(tp)) < end:
                    try:
                        batch = await self.consumer.getmany(
                            tp, timeout_ms=1000, max_records=MAX_BATCH
                        )
                    except UNREADABLE:
                        if await self._skip_unreadable(tp, start, rebalances):
                            continue
                        break  # nothing read this time: the main loop comes back to it
                    if not batch:
                        break
                    await self._in_recovery(rebalances, functools.partial(self._process, batch))
        except _Rebalanced:
            log.info("recovery-restarted-after-rebalance", stage=self.stage.name)
            return  # still recovering: the next poll starts over from the commits
        self._recovering = False

    async def _in_recovery(self, rebalances: int, work: Callable[[], Awaitable[None]]) -> None:
        """``work`` under the batch lock, as the main loop handles a batch, unless a rebalance
        came since the recovery began (the partitions may not be ours, or not restored)."""
        async with self.batch_lock:
            if self.rebalances != rebalances:
                raise _Rebalanced
            await work()

    async def _skip_unreadable(self, tp: TopicPartition, start: int, rebalances: int) -> bool:
        """Read ``tp`` one record at a time from ``start``: process what reads, dead-letter
        the first record that does not (if it fails again: a CRC error may not).

        True when it got anywhere (processed or dead-lettered a record).
        """
        self.consumer.seek(tp, start)
        good: list[ConsumerRecord[bytes, bytes]] = []
        bad: int | None = None
        while len(good) < MAX_BATCH:
            try:
                batch = await self.consumer.getmany(tp, timeout_ms=1000, max_records=1)
            except UNREADABLE:
                bad = _failed_offset(self.consumer, tp)
                if bad is None:
                    bad = await self.consumer.position(tp)
                break
            if not batch:
                break
            good.extend(batch[tp])
        if good:
            await self._in_recovery(rebalances, functools.partial(self._process, {tp: good}))
        if bad is None:
            return bool(good)
        if not self._read_as_member():
            return False  # the main loop comes back to it once the consumer has joined again
        record = InRecord(topic=tp.topic, partition=tp.partition, offset=bad, value=None)
        self._in_flight = {tp: bad}
        if isinstance(self.stage, ReadsUnreadable):
            outputs = self.stage.unreadable(record)
        else:
            outputs = [self._dead_letter(record, RejectReason.MALFORMED, UNREADABLE_DETAIL)]
            self.metrics.rejects.labels(self.stage.name, RejectReason.MALFORMED.value).inc()
        log.warning("unreadable-record-skipped", stage=self.stage.name, source=_source(record))
        await self._in_recovery(
            rebalances, functools.partial(self._commit, outputs, {tp: bad + 1}, 1)
        )
        self.consumer.seek(tp, bad + 1)
        return True


class _Rebalanced(Exception):
    """A rebalance came while a stage recovered from an unreadable record."""


UNREADABLE = (UnicodeDecodeError, CorruptRecordException)
"""What aiokafka raises for a record it cannot parse (not a broker error: no retry helps)."""
UNREADABLE_DETAIL = (
    "the Kafka record could not be read: it, or one before it in its record batch, has a "
    "header name that is not valid UTF-8"
)


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _dlq_reason(out: OutRecord) -> str:
    """The reason code a DLQ record was written with (the hub's header is the last one: a
    dead-lettered record keeps the headers it came with); only known codes become labels."""
    reason = next((v for k, v in reversed(out.headers) if k == HEADER_DLQ_REASON), b"")
    known = {r.value for r in RejectReason}
    text = reason.decode(errors="replace")
    return text if text in known else "unknown"


def _source(record: InRecord) -> str:
    return f"{record.topic}:{record.partition}:{record.offset}"


def _failed_offset(consumer: Any, tp: TopicPartition) -> int | None:
    """Offset of the record aiokafka 0.14 failed to parse in ``tp``, if it still knows it."""
    result = getattr(consumer, "_fetcher", None)
    result = getattr(result, "_records", {}).get(tp)
    offset = getattr(getattr(result, "_partition_records", None), "next_fetch_offset", None)
    return offset if isinstance(offset, int) else None
