"""The ceiling workers' pure parts: what they subscribe to, what they write, how they connect."""

from __future__ import annotations

import re

from pydantic import SecretStr

from hub.kafka.connection import KafkaConnection
from hub.stages.loop import BATCH_BYTES, LINGER_MS, RETRY_BACKOFF_MS, producer_settings
from hub.tools.bench_kafka import SHADOW_HEADER, outbox_pattern, shadow_record
from hub.tools.bench_plan import Output


def test_the_shadow_reads_every_partner_outbox_of_its_own_topics_only() -> None:
    pattern = re.compile(outbox_pattern("bench-1a2b-shadow"))
    assert pattern.match("bench-1a2b-shadow.partner.wij-zuid.out")
    assert pattern.match("bench-1a2b-shadow.partner.huisarts-wijert.out")
    assert not pattern.match("bench-1a2b-shadow.partner.wij-zuid.in")
    assert not pattern.match("bench-1a2b.partner.wij-zuid.out"), "the pipeline's, not its own"
    assert not pattern.match("bench-1a2b-shadowX.partner.wij-zuid.out")


def test_a_shadow_record_has_the_pipelines_sizes() -> None:
    output = Output(role="audit", records=10, value_bytes=812, header_bytes=49)
    value, headers = shadow_record(output)
    assert len(value) == 812
    [(name, header)] = headers
    assert name == SHADOW_HEADER and len(name) + len(header) == 49


def test_the_stage_producers_settings_carry_the_hubs_login_and_its_batching() -> None:
    kafka = KafkaConnection("127.0.0.1:9092", "SASL_PLAINTEXT", "SCRAM-SHA-512", "hub",
                            SecretStr("s3cret"))  # fmt: skip
    producer = producer_settings(kafka, "p", "t")
    assert producer["security.protocol"] == "SASL_PLAINTEXT"
    assert (producer["sasl.username"], producer["sasl.password"]) == ("hub", "s3cret")
    assert (producer["linger.ms"], producer["batch.size"]) == (LINGER_MS, BATCH_BYTES)
    assert producer["retry.backoff.ms"] == RETRY_BACKOFF_MS
    assert producer["transactional.id"] == "t" and producer["acks"] == "all"
    plain = producer_settings(KafkaConnection("127.0.0.1:9092"), "p")
    assert "sasl.username" not in plain and "transactional.id" not in plain
