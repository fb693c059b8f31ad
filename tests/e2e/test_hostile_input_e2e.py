"""A sample of the hostile-input suite on a real broker, plus what only a broker can carry:
a Kafka record whose header name is not UTF-8 (aiokafka cannot even parse it).

Every input must yield exactly one DLQ record with its reason code and, when a partner owns
the topic, one nack with the same code; the hub keeps running and still delivers a valid
referral sent after all of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic

from hub.kafka.connection import KafkaConnection
from hub.kafka.topics import TopicNames
from hub.ops.topic_reader import InboxMessage, read_inbox
from hub.stages.records import HEADER_DLQ_REASON, HEADER_DLQ_SOURCE, HEADER_MESSAGE_ID
from schemas.envelope import header_value
from tests.e2e.conftest import HubEnv
from tests.e2e.test_referral_flow import GP, notices_until, referral, stop_hub, wait_for_stages
from tests.hub.stages.test_hostile_input import HOSTILE, RIGG, Hostile

pytestmark = pytest.mark.kafka

SAMPLE = (
    "hl7-garbage", "invalid-utf8", "truncated-half", "json-array", "json-null", "empty-payload",
    "tombstone", "nested-arrays-100k", "lone-high-surrogate-in-id", "one-byte-over-the-limit",
    "urgency-as-list", "child.bsn-as-null", "bsn-check-digit-off-by-one",
    "bsn-arabic-indic-digits", "claims-another-gps-agb", "addressed-to-unknown-agb",
    "reason-nul", "message-id-rtl-override", "extra-field-named-by-a-bsn",
    "unknown-partner-topic", "xml-billion-laughs", "xml-xxe-local-file", "xml-external-dtd",
)  # fmt: skip
CASES = [c for c in HOSTILE if c.id in SAMPLE]

BAD_HEADER_PRODUCER = textwrap.dedent(
    """
    import asyncio, os, sys
    os.environ["AIOKAFKA_NO_EXTENSIONS"] = "1"  # the pure-Python record builder, patchable
    from aiokafka import AIOKafkaProducer

    class NotUtf8(str):
        def encode(self, *args, **kwargs):
            return b"\\xff\\xfe-header"

    async def main():
        producer = AIOKafkaProducer(bootstrap_servers=sys.argv[1])
        await producer.start()
        try:
            sent = await producer.send_and_wait(
                sys.argv[2], value=b"{}", headers=[(NotUtf8("x"), b"v")]
            )
            print(sent.partition, sent.offset)
        finally:
            await producer.stop()

    asyncio.run(main())
    """
)


def _topic_for(env: HubEnv, case: Hostile) -> str:
    """The unit suite's topic (prefix ``t``) under this hub's prefix."""
    return case.source_topic.replace("t.", f"{env.prefix}.", 1)


async def _publish(kafka: KafkaConnection, records: list[tuple[str, bytes | None]]) -> list[str]:
    """Publish as a (careless or hostile) partner would; returns topic:partition:offset each."""
    producer = kafka.producer(acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = [
            # A null value needs a key (a tombstone), as on a compacted topic.
            await producer.send_and_wait(topic, value=value, key=None if value else b"k")
            for topic, value in records
        ]
    finally:
        await producer.stop()
    return [f"{s.topic}:{s.partition}:{s.offset}" for s in sent]


async def _create_topic(kafka: KafkaConnection, topic: str) -> None:
    admin = kafka.admin()
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()


@pytest.fixture
def running_hub(hub_env: HubEnv, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = tmp_path / "hub.log"
    hub = hub_env.start_hub(log)
    wait_for_stages(hub, log)
    yield hub
    if hub.poll() is None:
        assert stop_hub(hub) == 0


async def test_hostile_inputs_each_get_a_dlq_record_and_a_nack_and_the_hub_keeps_going(
    hub_env: HubEnv, running_hub: subprocess.Popen[bytes]
) -> None:
    assert len(CASES) == len(SAMPLE)
    names = TopicNames(hub_env.prefix)
    topics = [_topic_for(hub_env, case) for case in CASES]
    await _create_topic(hub_env.kafka, names.partner_out("onbekend"))
    sources = await _publish(
        hub_env.kafka, [(t, c.payload) for t, c in zip(topics, CASES, strict=True)]
    )
    poison = subprocess.run(
        [sys.executable, "-c", BAD_HEADER_PRODUCER, hub_env.bootstrap, names.partner_out(GP)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    partition, offset = poison.stdout.split()
    poison_source = f"{names.partner_out(GP)}:{partition}:{offset}"
    valid_id = "HIS-AFTER-THE-STORM"
    [after] = await _publish(hub_env.kafka, [(names.partner_out(GP), referral(valid_id))])

    expected = len(CASES) + 1

    def enough(messages: list[InboxMessage]) -> bool:
        return len(messages) >= expected

    dlq = await read_inbox(hub_env.kafka, names.dlq, until=enough, max_wait_s=90)
    assert len(dlq) == expected, [header_value(list(m.headers), HEADER_DLQ_SOURCE) for m in dlq]
    by_source = {header_value(list(m.headers), HEADER_DLQ_SOURCE): m for m in dlq}
    assert after not in by_source

    nacked = [c for c in CASES if c.nacked]
    gp_nacks = sum(c.partner == GP for c in nacked) + 1  # + the unreadable record
    gp_inbox = await notices_until(hub_env, ["nack"] * gp_nacks + ["ack"])
    rigg_inbox = await notices_until(hub_env, ["nack"] * sum(c.partner == RIGG for c in nacked),
                                     partner=RIGG)  # fmt: skip
    nacks = {
        json.loads(m.value)["hub_message_id"]: json.loads(m.value)
        for m in gp_inbox + rigg_inbox
        if m.kind == "nack"
    }
    for case, source in zip(CASES, sources, strict=True):
        letter = by_source[source]
        headers = list(letter.headers)
        assert header_value(headers, HEADER_DLQ_REASON) == case.reason.value, case.id
        assert letter.value == (case.payload or b""), case.id
        if case.nacked:
            nack = nacks[header_value(headers, HEADER_MESSAGE_ID)]
            assert nack["reason_code"] == case.reason.value, case.id
        for secret in case.secrets:
            assert secret.encode() not in repr(headers).encode(), case.id

    unreadable = list(by_source[poison_source].headers)
    assert header_value(unreadable, HEADER_DLQ_REASON) == "malformed"
    assert nacks[header_value(unreadable, HEADER_MESSAGE_ID)]["reason_code"] == "malformed"

    [ack] = [json.loads(m.value) for m in gp_inbox if m.kind == "ack"]
    assert ack["in_response_to"] == valid_id
    assert running_hub.poll() is None, "the hub is still running"
