"""The benchmark's Kafka-ceiling workers, on confluent-kafka (librdkafka): no hub code at all.

- ``passthrough``: copy records 1:1 between two topics, at-least-once (offsets committed once
  a batch's records are acknowledged), no transaction, no handling;
- ``shadow``: the pipeline's two transactional hops with the pipeline's exact I/O (see
  ``hub.tools.bench_plan``) and no processing: consume a batch, write the plan's records,
  send the offsets to the transaction, commit. Two threads in one process, as the hub runs
  both stages in one.

Both use the stage loop's client settings (``consumer_settings``, ``producer_settings``), batch
size and linger, so that what differs from the pipeline is the hub's own work.
``python -m hub.tools.bench_kafka ...`` runs them.
"""

from __future__ import annotations

import argparse
import hashlib
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition

from hub.context import resolve_kafka
from hub.kafka.connection import KafkaConnection
from hub.kafka.messages import take
from hub.settings import Settings
from hub.stages.loop import MAX_BATCH, consumer_settings, producer_settings
from hub.tools.bench_plan import Hop, Output, ShadowPlan

POLL_S = 0.2
SHADOW_HEADER = "kh-shadow"


def gather(consumer: Consumer, linger_s: float, stop: threading.Event) -> list[Message]:
    """A batch as the stage loop gathers one: what is there, plus what comes within the linger."""
    batch = [m for m in take(consumer, MAX_BATCH, POLL_S) if _readable(m)]
    if not batch or linger_s <= 0:
        return batch
    deadline = time.monotonic() + linger_s
    while len(batch) < MAX_BATCH and not stop.is_set():
        if (left := deadline - time.monotonic()) <= 0:
            break
        batch += [m for m in take(consumer, MAX_BATCH - len(batch), left) if _readable(m)]
    return batch


def _readable(message: Message) -> bool:
    error = message.error()
    if error is None:
        return True
    if error.fatal():
        raise KafkaException(error)
    return False  # a transient consumer error (say, a rebalance's): librdkafka goes on


def next_offsets(batch: Sequence[Message]) -> list[TopicPartition]:
    """The offsets to commit after ``batch``: one past its last record per partition."""
    last: dict[tuple[str, int], int] = {}
    for message in batch:
        tp = (str(message.topic()), int(message.partition() or 0))
        last[tp] = max(last.get(tp, -1), int(message.offset() or 0))
    return [TopicPartition(topic, part, offset + 1) for (topic, part), offset in last.items()]


def passthrough(kafka: KafkaConnection, source: str, target: str, group: str,
                stop: threading.Event) -> None:  # fmt: skip
    """Copy ``source`` to ``target`` until ``stop``: at-least-once, no transaction."""
    consumer = Consumer(consumer_settings(kafka, group))
    producer = Producer(producer_settings(kafka, f"{group}-producer"))
    consumer.subscribe([source])
    try:
        while not stop.is_set():
            batch = gather(consumer, 0.0, stop)
            if not batch:
                continue
            for message in batch:
                _produce(producer, target, message.value(), message.key(), message.headers())
            if producer.flush(60) > 0:
                raise KafkaException("passthrough: records not acknowledged within 60 s")
            consumer.commit(offsets=next_offsets(batch), asynchronous=False)
    finally:
        consumer.close()
        producer.flush(10)


def _produce(producer: Producer, topic: str, value: Any, key: Any, headers: Any) -> None:
    while True:
        try:
            producer.produce(topic, value=value, key=key, headers=headers)
            return
        except BufferError:  # the local queue is full: let librdkafka send some first
            producer.poll(0.05)


class ShadowHop:
    """One transactional hop of the shadow: consume, write the plan's records, commit."""

    def __init__(self, kafka: KafkaConnection, hop: Hop, topic_of: Callable[[str], str],
                 group: str, transactional_id: str, linger_s: float) -> None:  # fmt: skip
        self.hop = hop
        self.linger_s = linger_s
        self.topics = {o.role: topic_of(o.role) for o in hop.outputs}
        self.payloads = {o.role: shadow_record(o) for o in hop.outputs}
        self.consumer = Consumer(consumer_settings(kafka, group))
        self.producer = Producer(producer_settings(kafka, f"{group}-producer", transactional_id))
        self.handled = 0

    def run(self, subscription: list[str], stop: threading.Event) -> None:
        self.producer.init_transactions(30)
        self.consumer.subscribe(subscription)
        try:
            while not stop.is_set():
                batch = gather(self.consumer, self.linger_s, stop)
                if batch:
                    self._transact(batch)
        finally:
            self.consumer.close()

    def _transact(self, batch: list[Message]) -> None:
        self.producer.begin_transaction()
        for message in batch:
            key = message.key() or _key(message)
            for output, count in self.hop.writes_for(self.handled):
                value, headers = self.payloads[output.role]
                for _ in range(count):
                    _produce(self.producer, self.topics[output.role], value, key, headers)
            self.handled += 1
        self.producer.send_offsets_to_transaction(
            next_offsets(batch), self.consumer.consumer_group_metadata(), 30
        )
        self.producer.commit_transaction(60)


def shadow_record(output: Output) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A value and a header of the pipeline's average sizes for this topic."""
    header = b"h" * max(output.header_bytes - len(SHADOW_HEADER), 0)
    return b"v" * output.value_bytes, [(SHADOW_HEADER, header)]


def _key(message: Message) -> bytes:
    """A stand-in for a household pseudonym (32 hex digits), one per input record."""
    ref = f"{message.topic()}/{message.partition()}/{message.offset()}".encode()
    return hashlib.blake2b(ref, digest_size=16).hexdigest().encode()


def outbox_pattern(prefix: str) -> str:
    """librdkafka's regex subscription to every partner outbox of the run's ``prefix``."""
    return "^" + prefix.replace(".", "\\.") + "\\.partner\\.[a-z0-9-]+\\.out$"


def shadow(kafka: KafkaConnection, plan: ShadowPlan, prefix: str, linger_s: float,
           stop: threading.Event) -> None:  # fmt: skip
    """Both hops on the shadow's topics (``prefix``) until ``stop``; a failing hop stops both."""

    def topic_of(role: str) -> str:
        return f"{prefix}.{role}"

    hops = [
        (ShadowHop(kafka, plan.ingest, topic_of, f"{prefix}-ingest", f"{prefix}-ingest-0",
                   linger_s), [outbox_pattern(prefix)]),
        (ShadowHop(kafka, plan.route, topic_of, f"{prefix}-route", f"{prefix}-route-0",
                   linger_s), [topic_of("canonical")]),
    ]  # fmt: skip
    failures: list[BaseException] = []

    def run(hop: ShadowHop, subscription: list[str]) -> None:
        try:
            hop.run(subscription, stop)
        except BaseException as exc:
            failures.append(exc)
            stop.set()

    threads = [threading.Thread(target=run, args=h, daemon=True) for h in hops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hub.tools.bench_kafka", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    copy = commands.add_parser("passthrough", help="copy records 1:1 between two topics")
    copy.add_argument("source")
    copy.add_argument("target")
    copy.add_argument("group")
    hops = commands.add_parser("shadow", help="the pipeline's I/O in two transactional hops")
    hops.add_argument("plan", type=Path, help="the plan as JSON (bench_plan.ShadowPlan)")
    hops.add_argument("prefix", help="topic prefix of the shadow's copy of the hub's topics")
    hops.add_argument("--linger-ms", type=int, default=Settings().batch_linger_ms)
    args = parser.parse_args(argv)
    kafka = resolve_kafka(Settings())
    stop = _stop_on_signals()
    if args.command == "passthrough":
        passthrough(kafka, args.source, args.target, args.group, stop)
    else:
        plan = ShadowPlan.model_validate_json(args.plan.read_text())
        shadow(kafka, plan, args.prefix, args.linger_ms / 1000, stop)


if __name__ == "__main__":
    main()
