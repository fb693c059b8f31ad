"""The ceiling workers' pure parts: what they subscribe to, what they write, how they connect."""

from __future__ import annotations

import re

from pydantic import SecretStr

from hub.kafka.connection import KafkaConnection
from hub.stages.loop import BATCH_BYTES, LINGER_MS
from hub.tools.bench_kafka import (
    SHADOW_HEADER,
    client_config,
    outbox_pattern,
    producer_config,
    shadow_record,
)
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


def test_the_workers_use_the_stage_producers_settings_and_the_hubs_login() -> None:
    kafka = KafkaConnection("127.0.0.1:9092", "SASL_PLAINTEXT", "SCRAM-SHA-512", "hub",
                            SecretStr("s3cret"))  # fmt: skip
    config = client_config(kafka)
    assert config["security.protocol"] == "sasl_plaintext"
    assert (config["sasl.username"], config["sasl.password"]) == ("hub", "s3cret")
    producer = producer_config(kafka, **{"transactional.id": "t"})
    assert (producer["linger.ms"], producer["batch.size"]) == (LINGER_MS, BATCH_BYTES)
    assert producer["transactional.id"] == "t" and producer["acks"] == "all"
    assert "sasl.username" not in client_config(KafkaConnection("127.0.0.1:9092"))
