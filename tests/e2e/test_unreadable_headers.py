"""Records whose header name is not UTF-8, read with librdkafka on a real broker.

confluent-kafka 2.16's ``Message.headers()`` half-fails on them (see ``hub.kafka.messages``),
and a plain call stops raising once CPython has specialised the call site: many such records
among good ones are needed to show that every one of them is still caught, the good ones
read whole, and the process survives collecting them.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import uuid

import pytest
from confluent_kafka import Consumer, Message, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from hub.kafka.connection import KafkaConnection
from hub.kafka.messages import in_record
from tests.e2e.test_hostile_input_e2e import BAD_HEADER_PRODUCER

pytestmark = pytest.mark.kafka
COUNT = 60


def test_every_record_with_a_broken_header_name_is_caught_and_the_good_ones_read_whole(
    bootstrap: str,
) -> None:
    kafka = KafkaConnection(bootstrap)
    topic = "headers-" + uuid.uuid4().hex[:8]
    admin = AdminClient(kafka.rdkafka_config())
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    for _ in range(COUNT // 3):  # each run: a broken record, then two good ones via librdkafka
        subprocess.run([sys.executable, "-c", BAD_HEADER_PRODUCER, bootstrap, topic],
                       capture_output=True, check=True, timeout=60)  # fmt: skip
        producer = Producer(kafka.rdkafka_config())
        for n in range(2):
            producer.produce(topic, b"good %d" % n, headers=[("kh-kind", b"referral")])
        producer.flush(30)
    consumer = Consumer(kafka.rdkafka_config(**{
        "group.id": topic, "auto.offset.reset": "earliest", "enable.auto.commit": False,
    }))  # fmt: skip
    consumer.subscribe([topic])
    try:
        messages: list[Message] = []
        while len(messages) < COUNT:
            messages += [m for m in consumer.consume(COUNT, 1.0) if m.error() is None]
        results = [in_record(m) for m in messages]
        gc.collect()
    finally:
        consumer.close()
    unreadable = [record for record, readable in results if not readable]
    good = [record for record, readable in results if readable]
    assert [r.offset for r in unreadable] == list(range(0, COUNT, 3))
    assert all(r.value is None and r.headers == [] for r in unreadable)
    assert [r.value for r in good] == [b"good 0", b"good 1"] * (COUNT // 3)
    assert all(r.headers == [("kh-kind", b"referral")] for r in good)
    del messages, results
    gc.collect()
