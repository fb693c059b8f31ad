"""Ingest: native bytes on a partner outbox -> canonical record, or DLQ + nack."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import orjson
import pytest

from hub.context import HubContext
from hub.stages.ingest import IngestStage, hub_message_id
from hub.stages.pseudonyms import Pseudonymiser
from hub.stages.records import (
    HEADER_DLQ_DETAIL,
    HEADER_DLQ_PARTNER,
    HEADER_DLQ_REASON,
    HEADER_DLQ_SOURCE,
    HEADER_KIND,
    HEADER_MESSAGE_ID,
    InRecord,
    OutRecord,
)
from observability.metrics import HubMetrics
from schemas import fhir
from schemas.envelope import RoutingEnvelope, header_value
from schemas.notices import Nack, OutboxRef
from tests.adapters.ijw_cases import EXAMPLES
from tests.conftest import GOLDEN_BIRTH_DATE, GOLDEN_BSN, GP, PROVIDER, without_memberships

INVALID_BSN = "999990018"


def _record(value: bytes | None, partner: str = GP, offset: int = 0) -> InRecord:
    return InRecord(topic=f"t.partner.{partner}.out", partition=0, offset=offset, value=value)


def _with(payload: bytes, **changes: Any) -> bytes:
    data = orjson.loads(payload)
    data.update(changes)
    return orjson.dumps(data)


def _invalid_bsn(payload: bytes) -> bytes:
    data = orjson.loads(payload)
    data["child"]["bsn"] = INVALID_BSN
    return orjson.dumps(data)


def _by_topic(records: list[OutRecord]) -> dict[str, OutRecord]:
    topics = [r.topic for r in records]
    assert len(set(topics)) == len(topics), topics
    return {r.topic: r for r in records}


def _count(metrics: HubMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_valid_referral_becomes_one_canonical_record(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    [record] = without_memberships_handle(
        IngestStage(hub_context, metrics), _record(golden_payload, offset=3)
    )
    assert record.topic == "t.canonical"
    household = hub_context.pseudonyms.household_of(GOLDEN_BSN)
    assert record.key == household.encode()
    assert GOLDEN_BSN.encode() not in (record.key or b"")
    for name, value in record.headers:
        assert GOLDEN_BSN.encode() not in value, name
        assert GOLDEN_BIRTH_DATE.encode() not in value, name
    bundle = orjson.loads(record.value)
    fhir.validate_bundle(bundle)
    message_id = hub_message_id(f"t.partner.{GP}.out", 0, 3)
    assert bundle["id"] == message_id
    envelope = RoutingEnvelope.from_headers(record.headers)
    assert envelope.message_id == message_id
    assert envelope.household == household
    assert envelope.sender_id == GP
    assert envelope.recipient_id == PROVIDER
    assert envelope.source == f"t.partner.{GP}.out:0:3"
    assert (
        _count(metrics, "ketenhub_messages_in_total", stage="ingest", partner=GP, event="referral")
        == 1
    )


def test_household_key_depends_on_the_pseudonym_key(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    other = replace(hub_context, pseudonyms=Pseudonymiser(b"another-key"))
    [a] = without_memberships_handle(IngestStage(hub_context, metrics), _record(golden_payload))
    [b] = without_memberships_handle(IngestStage(other, HubMetrics()), _record(golden_payload))
    assert a.key != b.key


def _assert_rejected(
    records: list[OutRecord], payload: bytes | None, reason: str, partner: str = GP
) -> Nack:
    by_topic = _by_topic(records)
    assert set(by_topic) == {"t.dlq", f"t.partner.{partner}.in"}
    dlq, nack_record = by_topic["t.dlq"], by_topic[f"t.partner.{partner}.in"]
    assert dlq.value == (payload or b"")
    assert dlq.key == partner.encode()
    assert header_value(dlq.headers, HEADER_DLQ_REASON) == reason
    assert header_value(dlq.headers, HEADER_DLQ_PARTNER) == partner
    assert header_value(dlq.headers, HEADER_DLQ_SOURCE) == f"t.partner.{partner}.out:0:0"
    assert header_value(nack_record.headers, HEADER_KIND) == "nack"
    message_id = header_value(dlq.headers, HEADER_MESSAGE_ID)
    assert message_id == header_value(nack_record.headers, HEADER_MESSAGE_ID)
    nack = Nack.model_validate_json(nack_record.value)
    assert nack.reason_code.value == reason
    assert nack.hub_message_id == message_id
    assert nack.reason == header_value(dlq.headers, HEADER_DLQ_DETAIL)
    # Every nack names the outbox record it answers, readable or not (what `send` prints).
    assert nack.source == OutboxRef(topic=f"t.partner.{partner}.out", partition=0, offset=0)
    return nack


def test_garbage_becomes_dlq_and_nack(hub_context: HubContext, metrics: HubMetrics) -> None:
    payload = b"\x00\x17MSH|^~\\&|HIS|not json"
    records = without_memberships_handle(IngestStage(hub_context, metrics), _record(payload))
    nack = _assert_rejected(records, payload, "malformed")
    assert nack.in_response_to is None
    assert _count(metrics, "ketenhub_rejects_total", stage="ingest", reason="malformed") == 1
    unknown = {"stage": "ingest", "partner": GP, "event": "unknown"}
    assert _count(metrics, "ketenhub_messages_out_total", kind="nack", **unknown) == 1
    assert _count(metrics, "ketenhub_messages_in_total", **unknown) == 1


def test_invalid_bsn_never_leaks_into_nack_or_dlq_headers(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    payload = _invalid_bsn(golden_payload)
    records = without_memberships_handle(IngestStage(hub_context, metrics), _record(payload))
    nack = _assert_rejected(records, payload, "invalid-bsn")
    assert nack.in_response_to == "HIS-WIJERT-2026-000123"
    by_topic = _by_topic(records)
    nack_bytes = by_topic[f"t.partner.{GP}.in"].value
    for secret in (INVALID_BSN, GOLDEN_BIRTH_DATE):
        assert secret.encode() not in nack_bytes
        for record in records:
            for name, value in record.headers:
                assert secret.encode() not in value, name
            assert secret.encode() not in (record.key or b"")
    # The DLQ keeps the original bytes for replay, BSN included, by design.
    assert INVALID_BSN.encode() in by_topic["t.dlq"].value


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"type": "ontslag"}, "unsupported-type"),
        ({"urgency": "spoed"}, "schema-invalid"),
        ({"addressed_to_agb": "99999999"}, "unknown-recipient"),
        ({"referrer": {"agb": "01000002"}}, "sender-mismatch"),
    ],
)
def test_rejections_carry_their_reason_code(
    hub_context: HubContext,
    metrics: HubMetrics,
    golden_payload: bytes,
    changes: dict[str, Any],
    reason: str,
) -> None:
    payload = _with(golden_payload, **changes)
    records = without_memberships_handle(IngestStage(hub_context, metrics), _record(payload))
    _assert_rejected(records, payload, reason)


def test_a_birth_date_more_than_130_years_back_is_refused_at_ingest(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    """Route validates the envelope's age (0..130); ingest must refuse such a message with a
    nack the sender can read, not pass it on for route to drop as an internal error."""
    data = orjson.loads(golden_payload)
    data["child"]["birth_date"] = "1850-01-01"
    payload = orjson.dumps(data)
    records = without_memberships_handle(IngestStage(hub_context, metrics), _record(payload))
    nack = _assert_rejected(records, payload, "schema-invalid")
    assert nack.reason == "the child's birth date lies more than 130 years back"
    assert nack.in_response_to == "HIS-WIJERT-2026-000123"


def test_provider_json_is_not_ijw_xml(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    records = without_memberships_handle(
        IngestStage(hub_context, metrics), _record(golden_payload, partner=PROVIDER)
    )
    _assert_rejected(records, golden_payload, "malformed", partner=PROVIDER)


def test_provider_jw315_becomes_a_canonical_record_for_the_rigg(
    hub_context: HubContext, metrics: HubMetrics
) -> None:
    payload = (EXAMPLES / "aanbieder-jw315.xml").read_bytes()
    [record] = without_memberships_handle(
        IngestStage(hub_context, metrics), _record(payload, partner=PROVIDER)
    )
    assert record.topic == "t.canonical"
    assert record.key == hub_context.pseudonyms.household_of(GOLDEN_BSN).encode()
    for name, value in record.headers:
        assert GOLDEN_BSN.encode() not in value, name
    envelope = RoutingEnvelope.from_headers(record.headers)
    assert envelope.event.value == "assignment-request"
    assert envelope.partner_message_id == "JW315:NL2026000042"
    assert envelope.recipient_id == "rigg-groningen"
    assert envelope.facts.referrer_agb == "01000001"
    fhir.validate_bundle(orjson.loads(record.value))


def test_ijw_entity_declarations_are_unsafe(hub_context: HubContext, metrics: HubMetrics) -> None:
    payload = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    records = without_memberships_handle(
        IngestStage(hub_context, metrics), _record(payload, partner=PROVIDER)
    )
    _assert_rejected(records, payload, "xml-unsafe", partner=PROVIDER)


def test_empty_value_is_malformed(hub_context: HubContext, metrics: HubMetrics) -> None:
    records = without_memberships_handle(IngestStage(hub_context, metrics), _record(None))
    _assert_rejected(records, None, "malformed")


@pytest.mark.parametrize(
    ("topic", "partner"),
    [("t.partner.onbekend.out", "onbekend"), ("other.partner.huisarts-wijert.out", "?")],
)
def test_unknown_partner_topic_goes_to_dlq_only(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes, topic: str, partner: str
) -> None:
    [dlq] = without_memberships_handle(
        IngestStage(hub_context, metrics), InRecord(topic, 2, 5, golden_payload)
    )
    assert dlq.topic == "t.dlq"
    assert dlq.value == golden_payload
    assert header_value(dlq.headers, HEADER_DLQ_REASON) == "unknown-partner"
    assert header_value(dlq.headers, HEADER_DLQ_PARTNER) == partner
    assert header_value(dlq.headers, HEADER_DLQ_SOURCE) == f"{topic}:2:5"
    for _, value in dlq.headers:
        assert GOLDEN_BSN.encode() not in value
    assert _count(metrics, "ketenhub_rejects_total", stage="ingest", reason="unknown-partner") == 1


def test_oversized_payload_is_too_large(hub_context: HubContext, metrics: HubMetrics) -> None:
    limit = hub_context.settings.max_payload_bytes
    payload = b"{" + b" " * limit
    assert len(payload) == limit + 1
    records = without_memberships_handle(IngestStage(hub_context, metrics), _record(payload))
    _assert_rejected(records, payload, "payload-too-large")


def test_payload_of_exactly_the_limit_is_not_too_large(
    hub_context: HubContext, metrics: HubMetrics
) -> None:
    payload = b" " * hub_context.settings.max_payload_bytes
    records = without_memberships_handle(IngestStage(hub_context, metrics), _record(payload))
    _assert_rejected(records, payload, "malformed")


def test_hub_message_id_is_deterministic(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    stage = IngestStage(hub_context, metrics)
    ids = {
        RoutingEnvelope.from_headers(
            without_memberships(stage.handle(_record(golden_payload, offset=9)))[0].headers
        ).message_id
        for _ in range(2)
    }
    assert len(ids) == 1
    assert ids == {hub_message_id(f"t.partner.{GP}.out", 0, 9)}
    assert hub_message_id("t.partner.x.out", 0, 9) != hub_message_id("t.partner.x.out", 0, 10)
    assert hub_message_id("t.partner.x.out", 0, 9) != hub_message_id("t.partner.x.out", 1, 9)
    assert hub_message_id("t.partner.x.out", 0, 9) != hub_message_id("t.partner.y.out", 0, 9)


def test_rejected_message_ids_are_deterministic_too(
    hub_context: HubContext, metrics: HubMetrics
) -> None:
    stage = IngestStage(hub_context, metrics)
    first, second = (stage.handle(_record(b"nope", offset=4)) for _ in range(2))
    assert [header_value(r.headers, HEADER_MESSAGE_ID) for r in first] == [
        header_value(r.headers, HEADER_MESSAGE_ID) for r in second
    ]
    assert orjson.loads(first[1].value)["hub_message_id"] == hub_message_id(
        f"t.partner.{GP}.out", 0, 4
    )


def test_pattern_matches_partner_outboxes_only(
    hub_context: HubContext, metrics: HubMetrics
) -> None:
    pattern = re.compile(IngestStage(hub_context, metrics).pattern)
    assert pattern.match(f"t.partner.{GP}.out")
    assert not pattern.match(f"t.partner.{GP}.in")
    assert not pattern.match("t.canonical")
    assert not pattern.match(f"txpartner.{GP}.out")


def without_memberships_handle(stage: IngestStage, record: InRecord) -> list[OutRecord]:
    return without_memberships(stage.handle(record))
