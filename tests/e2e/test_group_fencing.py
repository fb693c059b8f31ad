"""Generation-fenced offset commits and stable offset reads on a real broker (KIP-447).

The last test is the case they exist for: an instance stalls past its session timeout in
the middle of a batch, another instance takes the partition and delivers the batch, and
the stalled one wakes up and tries to commit the same batch.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import NewTopic

from hub.kafka.connection import KafkaConnection, committed_reader, read_to_end
from hub.kafka.group_fencing import (
    Membership,
    OffsetsFenced,
    fence_offset_commits,
    membership_of,
    read_stable_offsets,
)
from hub.stages.loop import StageLoop
from hub.stages.records import InRecord, OutRecord
from observability.metrics import HubMetrics

pytestmark = pytest.mark.kafka


async def _topics(kafka: KafkaConnection, *names: str) -> None:
    admin = kafka.admin()
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1) for name in names])
    finally:
        await admin.close()


async def _committed_values(kafka: KafkaConnection, topic: str) -> list[bytes]:
    async with committed_reader(kafka) as reader:
        tp = TopicPartition(topic, 0)
        reader.assign([tp])
        return [r.value or b"" async for batch in read_to_end(reader, [tp]) for r in batch]


@asynccontextmanager
async def _member(
    kafka: KafkaConnection, group: str, topic: str
) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = kafka.consumer(
        group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    read_stable_offsets(consumer)
    consumer.subscribe([topic])
    try:
        async with asyncio.timeout(30):
            while not consumer.assignment():
                await consumer.getmany(timeout_ms=200)
        yield consumer
    finally:
        await consumer.stop()


@asynccontextmanager
async def _producer(
    kafka: KafkaConnection, name: str, membership: list[Membership | None]
) -> AsyncIterator[AIOKafkaProducer]:
    producer = fence_offset_commits(
        kafka.producer(transactional_id=name, enable_idempotence=True, acks="all"),
        lambda: membership[0],
    )
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def test_offsets_of_a_past_generation_or_a_gone_member_fail_their_transaction(
    bootstrap: str,
) -> None:
    kafka = KafkaConnection(bootstrap)
    name = "fence-" + uuid.uuid4().hex[:8]
    source, out = f"{name}.in", f"{name}.out"
    await _topics(kafka, source, out)
    tp = TopicPartition(source, 0)
    async with _member(kafka, f"{name}.g", source) as consumer:
        current = membership_of(consumer)
        assert current is not None and current.generation >= 0
        membership: list[Membership | None] = [current]
        async with _producer(kafka, f"{name}.tx", membership) as producer:
            await producer.begin_transaction()
            await producer.send(out, b"current member")
            await producer.send_offsets_to_transaction({tp: 1}, f"{name}.g")
            await producer.commit_transaction()
            assert await consumer.committed(tp) == 1

            stale = [
                Membership(current.generation - 1, current.member_id),
                Membership(current.generation, "a-member-the-group-never-had"),
            ]
            for offset, member in enumerate(stale, start=2):
                membership[0] = member
                await producer.begin_transaction()
                await producer.send(out, b"stale member")
                with pytest.raises(OffsetsFenced, match="refused the batch's offsets"):
                    await producer.send_offsets_to_transaction({tp: offset}, f"{name}.g")
                await producer.abort_transaction()

            assert await consumer.committed(tp) == 1
    assert await _committed_values(kafka, out) == [b"current member"]


async def test_a_new_member_waits_for_an_open_transaction_that_moves_its_offsets(
    bootstrap: str,
) -> None:
    """Without ``require_stable`` the new member reads offset 1 and redoes what the open
    transaction commits a moment later."""
    kafka = KafkaConnection(bootstrap)
    name = "stable-" + uuid.uuid4().hex[:8]
    source, out, group = f"{name}.in", f"{name}.out", f"{name}.g"
    await _topics(kafka, source, out)
    tp = TopicPartition(source, 0)
    async with _member(kafka, group, source) as old_owner:
        membership: list[Membership | None] = [membership_of(old_owner)]
        async with _producer(kafka, f"{name}.tx", membership) as producer:
            await producer.begin_transaction()
            await producer.send_offsets_to_transaction({tp: 1}, group)
            await producer.commit_transaction()

            await producer.begin_transaction()
            await producer.send(out, b"batch 1..5")
            await producer.send_offsets_to_transaction({tp: 5}, group)
            new_owner = kafka.consumer(group_id=group, enable_auto_commit=False)
            await new_owner.start()
            read_stable_offsets(new_owner)
            try:
                read = asyncio.ensure_future(new_owner.committed(tp))
                await asyncio.sleep(2)
                assert not read.done(), "read an offset an open transaction is moving"
                await producer.commit_transaction()
                assert await asyncio.wait_for(read, 20) == 5
            finally:
                await new_owner.stop()


@dataclass
class Copy:
    """A stage that copies each record; the first one it sees can stall the event loop (as a
    long GC pause, a swapped-out process or a CPU-starved host would)."""

    stall_s: float = 0.0
    name: str = "copy"
    stalled: threading.Event = field(default_factory=threading.Event)
    committed: int = 0
    aborted: int = 0

    def handle(self, record: InRecord) -> list[OutRecord]:
        if self.stall_s and not self.stalled.is_set():
            self.stalled.set()
            time.sleep(self.stall_s)  # blocks heartbeats too: the group loses this member
        return [OutRecord(record.topic.replace(".in", ".out"), record.value or b"")]

    def batch_committed(self) -> None:
        self.committed += 1

    def batch_aborted(self) -> None:
        self.aborted += 1


class Instance:
    """One hub instance's stage loop on its own thread and event loop."""

    def __init__(self, kafka: KafkaConnection, name: str, stage: Copy, instance: str) -> None:
        self.stage = stage
        self._ready = threading.Event()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._run(kafka, name, instance),)
        )
        self._thread.start()
        assert self._ready.wait(10)

    async def _run(self, kafka: KafkaConnection, name: str, instance: str) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        stage_loop = StageLoop(
            self.stage, kafka=kafka, group_id=f"{name}.g", transactional_id=f"{name}.{instance}",
            dlq_topic=f"{name}.dlq", metrics=HubMetrics(), topics=(f"{name}.in",),
        )  # fmt: skip
        self._stage_loop = stage_loop
        self._ready.set()
        await stage_loop.run(self._stop)

    def assignment(self) -> set[TopicPartition]:
        return set(self._stage_loop.consumer.assignment())

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


async def test_a_stalled_instance_cannot_commit_a_batch_its_successor_delivered(
    bootstrap: str,
) -> None:
    """Also not later: aiokafka "aborts" a fenced transaction without telling the broker,
    so the stalled instance's next commit committed the batch after all; the stage takes a
    new producer epoch instead, which aborts it."""
    kafka = KafkaConnection(bootstrap)
    name = "zombie-" + uuid.uuid4().hex[:8]
    await _topics(kafka, f"{name}.out", f"{name}.dlq")
    admin = kafka.admin()
    await admin.start()
    await admin.create_topics([NewTopic(f"{name}.in", 2, 1)])
    await admin.close()
    producer = kafka.producer()
    await producer.start()
    try:
        await producer.send_and_wait(f"{name}.in", b"referral 1", partition=0)
        stalled = Copy(stall_s=16)  # past the consumer's 10 s session timeout
        a = Instance(kafka, name, stalled, "a")
        b = None
        try:
            assert await asyncio.to_thread(stalled.stalled.wait, 30)
            b = Instance(kafka, name, successor := Copy(), "b")
            async with asyncio.timeout(60):
                while not (successor.committed and stalled.aborted):
                    await asyncio.sleep(0.2)
            # The stalled instance joins again and gets a partition of its own:
            async with asyncio.timeout(60):
                while len(a.assignment()) != 1:
                    await asyncio.sleep(0.2)
            for partition in (0, 1):
                await producer.send_and_wait(
                    f"{name}.in", b"referral %d" % (partition + 2), partition=partition
                )
            async with asyncio.timeout(60):
                while stalled.committed < 1 or successor.committed < 2:
                    await asyncio.sleep(0.2)
            await asyncio.sleep(2)
            delivered = await _committed_values(kafka, f"{name}.out")
            assert sorted(delivered) == [b"referral 1", b"referral 2", b"referral 3"]
        finally:
            for instance in (a, b):
                if instance:
                    instance.stop()
    finally:
        await producer.stop()
