"""Generation-fenced offset commits on a real broker (KIP-447), through librdkafka.

The last test is the case they exist for: an instance stalls past its poll interval in the
middle of a batch, another instance takes the partition and delivers the batch, and the
stalled one wakes up and tries to commit the same batch. Run without the fence (offsets sent
with the group id only, as aiokafka sends them) the same scenario delivers the batch twice.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from hub.kafka.connection import KafkaConnection
from hub.stages.loop import StageLoop
from hub.stages.records import InRecord, OutRecord
from observability.metrics import HubMetrics

pytestmark = pytest.mark.kafka


def _topics(kafka: KafkaConnection, **partitions: int) -> None:
    admin = AdminClient(kafka.rdkafka_config())
    futures = admin.create_topics([NewTopic(name, count, 1) for name, count in partitions.items()])
    for future in futures.values():
        future.result(30)


def _committed_values(kafka: KafkaConnection, topic: str) -> list[bytes]:
    """Every committed record of ``topic`` (one partition or more), in no particular order."""
    reader = Consumer(
        kafka.rdkafka_config(**{
            "group.id": f"reader-{uuid.uuid4().hex[:8]}", "isolation.level": "read_committed",
            "auto.offset.reset": "earliest", "enable.auto.commit": False,
        })
    )  # fmt: skip
    try:
        metadata = reader.list_topics(topic, 10).topics[topic]
        partitions = [TopicPartition(topic, p, 0) for p in metadata.partitions]
        ends = {tp.partition: reader.get_watermark_offsets(tp, 10)[1] for tp in partitions}
        reader.assign(partitions)
        values: list[bytes] = []
        positions = dict.fromkeys(ends, 0)
        deadline = time.monotonic() + 30
        while any(positions[p] < ends[p] for p in ends) and time.monotonic() < deadline:
            for message in reader.consume(100, 0.5):
                if message.error() is None:
                    values.append(message.value() or b"")
            positions = {tp.partition: tp.offset for tp in reader.position(partitions)}
        return values
    finally:
        reader.close()


def _member(kafka: KafkaConnection, group: str, topic: str) -> Consumer:
    consumer = Consumer(
        kafka.rdkafka_config(**{
            "group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        })
    )  # fmt: skip
    consumer.subscribe([topic])
    deadline = time.monotonic() + 30
    while not consumer.assignment():
        assert time.monotonic() < deadline, "never joined the group"
        consumer.poll(0.2)
    return consumer


def _transactional(kafka: KafkaConnection, name: str) -> Producer:
    producer = Producer(kafka.rdkafka_config(**{"transactional.id": name}))
    producer.init_transactions(30)
    return producer


def _commit_with(producer: Producer, out: str, value: bytes, offset: TopicPartition,
                 metadata: Any) -> None:  # fmt: skip
    producer.begin_transaction()
    producer.produce(out, value)
    try:
        producer.send_offsets_to_transaction([offset], metadata, 30)
        producer.commit_transaction(30)
    except KafkaException:
        producer.abort_transaction(30)
        raise


def test_offsets_of_a_member_the_group_no_longer_has_fail_their_transaction(
    bootstrap: str,
) -> None:
    """And the control: the same stale commit without a member and generation (what aiokafka
    sends) goes through, so it is the group metadata that fences."""
    kafka = KafkaConnection(bootstrap)
    name = "fence-" + uuid.uuid4().hex[:8]
    source, out, group = f"{name}.in", f"{name}.out", f"{name}.g"
    _topics(kafka, **{source: 1, out: 1})
    tp = TopicPartition(source, 0)
    producer = _transactional(kafka, f"{name}.tx")
    first = _member(kafka, group, source)
    stale = first.consumer_group_metadata()
    _commit_with(producer, out, b"current member", TopicPartition(source, 0, 1), stale)
    assert first.committed([tp], 10)[0].offset == 1
    first.close()  # leaves the group: a successor joins in a new generation
    successor = _member(kafka, group, source)
    try:
        with pytest.raises(KafkaException):
            _commit_with(producer, out, b"stale member", TopicPartition(source, 0, 2), stale)
        assert successor.committed([tp], 10)[0].offset == 1

        unfenced = Consumer(kafka.rdkafka_config(**{"group.id": group})).consumer_group_metadata()
        _commit_with(producer, out, b"no member at all", TopicPartition(source, 0, 3), unfenced)
        assert successor.committed([tp], 10)[0].offset == 3
    finally:
        successor.close()
    assert sorted(_committed_values(kafka, out)) == [b"current member", b"no member at all"]


def test_a_new_member_waits_for_an_open_transaction_that_moves_its_offsets(
    bootstrap: str,
) -> None:
    """A read_committed consumer asks for stable offsets: without that a new owner reads
    offset 1 and redoes what the open transaction commits a moment later."""
    kafka = KafkaConnection(bootstrap)
    name = "stable-" + uuid.uuid4().hex[:8]
    source, out, group = f"{name}.in", f"{name}.out", f"{name}.g"
    _topics(kafka, **{source: 1, out: 1})
    tp = TopicPartition(source, 0)
    producer = _transactional(kafka, f"{name}.tx")
    owner = _member(kafka, group, source)
    try:
        metadata = owner.consumer_group_metadata()
        _commit_with(producer, out, b"batch 0", TopicPartition(source, 0, 1), metadata)
        producer.begin_transaction()
        producer.produce(out, b"batch 1..5")
        producer.send_offsets_to_transaction([TopicPartition(source, 0, 5)], metadata, 30)
        reader = Consumer(kafka.rdkafka_config(**{
            "group.id": group, "isolation.level": "read_committed",
        }))  # fmt: skip
        answer: list[int] = []
        read = threading.Thread(target=lambda: answer.append(reader.committed([tp], 30)[0].offset))
        read.start()
        time.sleep(2)
        assert not answer, "read an offset an open transaction is moving"
        producer.commit_transaction(30)
        read.join(30)
        assert answer == [5]
        reader.close()
    finally:
        owner.close()


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
            time.sleep(self.stall_s)  # past the poll interval: the group lets this member go
        return [OutRecord(record.topic.replace(".in", ".out"), record.value or b"")]

    def batch_committed(self) -> None:
        self.committed += 1

    def batch_aborted(self) -> None:
        self.aborted += 1


class UnfencedLoop(StageLoop):
    """The stage loop with the fence taken out: offsets carry the group id only."""

    def _group_metadata(self) -> Any:
        return Consumer(
            {"bootstrap.servers": "unused", "group.id": self.group_id}
        ).consumer_group_metadata()


POLL_INTERVAL_MS = 10_000


class Instance:
    """One hub instance's stage loop on its own thread and event loop."""

    def __init__(self, kafka: KafkaConnection, name: str, stage: Copy, instance: str,
                 loop_class: type[StageLoop] = StageLoop) -> None:  # fmt: skip
        self.stage = stage
        self._ready = threading.Event()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._run(kafka, name, instance, loop_class),)
        )
        self._thread.start()
        assert self._ready.wait(10)

    async def _run(self, kafka: KafkaConnection, name: str, instance: str,
                   loop_class: type[StageLoop]) -> None:  # fmt: skip
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        stage_loop = loop_class(
            self.stage, kafka=kafka, group_id=f"{name}.g", transactional_id=f"{name}.{instance}",
            dlq_topic=f"{name}.dlq", metrics=HubMetrics(), topics=(f"{name}.in",),
            max_poll_interval_ms=POLL_INTERVAL_MS,
        )  # fmt: skip
        self._stage_loop = stage_loop
        self._ready.set()
        await stage_loop.run(self._stop)

    def assignment(self) -> int:
        return len(self._stage_loop.consumer.assignment())

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


async def _until(done: Any, timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while not done():
            await asyncio.sleep(0.2)


@pytest.mark.parametrize("fenced", [True, False], ids=["fenced", "without-the-fence"])
async def test_a_stalled_instance_cannot_commit_a_batch_its_successor_delivered(
    bootstrap: str, fenced: bool
) -> None:
    kafka = KafkaConnection(bootstrap)
    name = "zombie-" + uuid.uuid4().hex[:8]
    _topics(kafka, **{f"{name}.in": 2, f"{name}.out": 1, f"{name}.dlq": 1})
    producer = Producer(kafka.rdkafka_config())
    producer.produce(f"{name}.in", b"referral 1", partition=0)
    producer.flush(30)
    stalled = Copy(stall_s=POLL_INTERVAL_MS / 1000 + 6)
    a = Instance(kafka, name, stalled, "a", StageLoop if fenced else UnfencedLoop)
    b = None
    try:
        assert await asyncio.to_thread(stalled.stalled.wait, 30)
        b = Instance(kafka, name, successor := Copy(), "b")
        if not fenced:
            await _until(lambda: successor.committed and stalled.committed)
            await asyncio.sleep(2)
            delivered = await asyncio.to_thread(_committed_values, kafka, f"{name}.out")
            assert delivered == [b"referral 1", b"referral 1"], "the zombie delivered it again"
            return
        await _until(lambda: successor.committed and stalled.aborted)
        # The stalled instance joins again and gets a partition of its own:
        await _until(lambda: a.assignment() == 1 and b.assignment() == 1)
        for partition in (0, 1):
            producer.produce(f"{name}.in", b"referral %d" % (partition + 2), partition=partition)
        producer.flush(30)
        await _until(lambda: stalled.committed >= 1 and successor.committed >= 2)
        await asyncio.sleep(2)
        delivered = await asyncio.to_thread(_committed_values, kafka, f"{name}.out")
        assert sorted(delivered) == [b"referral 1", b"referral 2", b"referral 3"]
    finally:
        for instance in (a, b):
            if instance:
                instance.stop()
