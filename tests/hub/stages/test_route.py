"""Route: canonical record -> forward, notices, audit and state records."""

from __future__ import annotations

import time
import uuid

import orjson

from hub.context import HubContext
from hub.stages.ingest import IngestStage
from hub.stages.records import HEADER_KIND, HEADER_MESSAGE_ID, HEADER_SENT_AT, InRecord, OutRecord
from hub.stages.route import RouteStage
from hub.stages.state_store import restore_record
from observability.audit import LogboekRecord
from observability.metrics import HubMetrics
from routing.state import HouseholdState
from schemas.aanbieder import ReferralReceived
from schemas.audit import AuditAction, LegalBasis
from schemas.envelope import RoutingEnvelope, header_value
from schemas.notices import Ack, Nack, OutboxRef
from tests.conftest import GOLDEN_BIRTH_DATE, GOLDEN_BSN, GP, PROVIDER, without_memberships

GP_IN = f"t.partner.{GP}.in"
PROVIDER_IN = f"t.partner.{PROVIDER}.in"


def _canonical(
    ctx: HubContext, payload: bytes, offset: int = 0, timestamp_ms: int = 1_700_000_000_000
) -> InRecord:
    [out] = without_memberships_handle(
        IngestStage(ctx, HubMetrics()), InRecord(f"t.partner.{GP}.out", 0, offset, payload)
    )
    assert out.topic == ctx.names.canonical
    return InRecord(
        topic=out.topic,
        partition=0,
        offset=offset,
        value=out.value,
        key=out.key,
        headers=out.headers,
        timestamp_ms=timestamp_ms,
    )


def _on(records: list[OutRecord], topic: str) -> list[OutRecord]:
    return [r for r in records if r.topic == topic]


def _count(metrics: HubMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_referral_is_forwarded_acknowledged_audited_and_remembered(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    record = _canonical(hub_context, golden_payload)
    envelope = RoutingEnvelope.from_headers(record.headers)
    stage = RouteStage(hub_context, metrics)
    out = stage.handle(record)

    assert {r.topic for r in out} == {PROVIDER_IN, GP_IN, "t.audit", "t.state"}
    assert all(r.key == envelope.household.encode() for r in out)

    [forward] = _on(out, PROVIDER_IN)
    assert header_value(forward.headers, HEADER_KIND) == "forward"
    assert header_value(forward.headers, HEADER_MESSAGE_ID) == envelope.message_id
    assert header_value(forward.headers, HEADER_SENT_AT) == "1700000000000"
    received = ReferralReceived.model_validate_json(forward.value)
    assert received.hub_message_id == envelope.message_id
    assert received.client.bsn == GOLDEN_BSN
    assert received.referrer_partner == GP

    [ack_record] = _on(out, GP_IN)
    assert header_value(ack_record.headers, HEADER_KIND) == "ack"
    ack = Ack.model_validate_json(ack_record.value)
    assert ack.in_response_to == "HIS-WIJERT-2026-000123"
    assert ack.hub_message_id == envelope.message_id
    assert ack.delivered_to == (PROVIDER,)
    assert ack.source == OutboxRef(topic=f"t.partner.{GP}.out", partition=0, offset=0)

    entries = [LogboekRecord.model_validate_json(r.value) for r in _on(out, "t.audit")]
    audit = [e.attributes for e in entries]
    assert [(a.action, a.recipient_id) for a in audit] == [
        (AuditAction.DELIVERED, PROVIDER),
        (AuditAction.ACKNOWLEDGED, GP),
    ]
    assert audit[0].legal_basis is LegalBasis.STATUTORY
    assert all(a.household == envelope.household for a in audit)
    assert all(a.data_subject_id == envelope.child for a in audit)
    assert {e.trace_id for e in entries} == {uuid.UUID(envelope.message_id).hex}
    assert all(
        header_value(r.headers, HEADER_MESSAGE_ID) == envelope.message_id
        for r in _on(out, "t.audit")
    )

    [state_record] = _on(out, "t.state")
    state = HouseholdState.model_validate_json(state_record.value)
    assert state.seen(f"{GP}/HIS-WIJERT-2026-000123")
    assert stage.states[envelope.household] == state


def test_only_the_forward_carries_personal_data(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    out = RouteStage(hub_context, metrics).handle(_canonical(hub_context, golden_payload))
    for record in out:
        for name, value in record.headers:
            assert GOLDEN_BSN.encode() not in value, name
        assert GOLDEN_BSN.encode() not in (record.key or b"")
        if record.topic != PROVIDER_IN:
            assert GOLDEN_BSN.encode() not in record.value, record.topic
            assert GOLDEN_BIRTH_DATE.encode() not in record.value, record.topic


def test_same_record_twice_is_forwarded_once(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    record = _canonical(hub_context, golden_payload)
    stage = RouteStage(hub_context, metrics)
    stage.handle(record)
    again = stage.handle(record)
    assert _on(again, PROVIDER_IN) == []
    assert _on(again, "t.state") == []
    [ack] = _on(again, GP_IN)
    assert header_value(ack.headers, HEADER_KIND) == "ack"
    [audit] = _on(again, "t.audit")
    assert LogboekRecord.model_validate_json(audit.value).attributes.action is AuditAction.DUPLICATE


def test_resend_with_a_new_offset_is_forwarded_once(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    stage = RouteStage(hub_context, metrics)
    first = stage.handle(_canonical(hub_context, golden_payload, offset=1))
    resent = stage.handle(_canonical(hub_context, golden_payload, offset=2))
    assert len(_on(first, PROVIDER_IN)) == 1
    assert _on(resent, PROVIDER_IN) == []
    assert len(_on(resent, GP_IN)) == 1


def test_metrics_move(hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes) -> None:
    stage = RouteStage(hub_context, metrics)
    record = _canonical(hub_context, golden_payload)
    stage.handle(record)
    stage.handle(record)
    referral = {"event": "referral"}
    assert _count(metrics, "ketenhub_messages_in_total", stage="route", partner=GP, **referral) == 2
    out = "ketenhub_messages_out_total"
    assert _count(metrics, out, stage="route", partner=PROVIDER, kind="forward", **referral) == 1
    assert _count(metrics, out, stage="route", partner=GP, kind="ack", **referral) == 2
    assert _count(metrics, out, stage="route", partner=GP, kind="nack", **referral) == 0
    deliveries = "ketenhub_deliveries_total"
    assert (
        _count(metrics, deliveries, recipient_kind="aanbieder", basis="statutory", **referral) == 1
    )


def test_end_to_end_latency_is_observed_when_the_batch_commits(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    stage = RouteStage(hub_context, metrics)
    published_ms = int(time.time() * 1000) - 2_000
    stage.handle(_canonical(hub_context, golden_payload, timestamp_ms=published_ms))
    count = "ketenhub_end_to_end_latency_seconds_count"
    assert _count(metrics, count, kind="forward") == 0, "nothing is delivered before the commit"
    stage.batch_aborted()
    stage.handle(_canonical(hub_context, golden_payload, timestamp_ms=published_ms))
    stage.batch_committed()
    assert _count(metrics, count, kind="forward") == 1, "the aborted attempt is not counted"
    assert _count(metrics, count, kind="ack") == 1
    latency = _count(metrics, "ketenhub_end_to_end_latency_seconds_sum", kind="forward")
    assert 2.0 <= latency < 60.0


def test_record_without_recipient_is_refused(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    record = _canonical(hub_context, golden_payload)
    headers = [(k, v) for k, v in record.headers if not k.startswith("kh-recipient")]
    out = RouteStage(hub_context, metrics).handle(
        InRecord(record.topic, 0, 0, record.value, record.key, headers)
    )
    assert _on(out, PROVIDER_IN) == []
    [nack_record] = _on(out, GP_IN)
    assert header_value(nack_record.headers, HEADER_KIND) == "nack"
    nack = Nack.model_validate_json(nack_record.value)
    assert nack.reason_code.value == "unknown-recipient"
    assert nack.in_response_to == "HIS-WIJERT-2026-000123"
    assert nack.source is not None and nack.source.topic == f"t.partner.{GP}.out"
    assert GOLDEN_BSN not in nack.reason
    [audit] = _on(out, "t.audit")
    assert LogboekRecord.model_validate_json(audit.value).attributes.action is AuditAction.REFUSED
    assert _count(metrics, "ketenhub_rejects_total", stage="route", reason="unknown-recipient") == 1


def test_restore_record_rebuilds_and_forgets_state() -> None:
    states: dict[str, HouseholdState] = {}
    state = HouseholdState(recent=("huisarts-wijert/HIS-1",))
    restore_record(states, b"h1", state.model_dump_json().encode())
    assert states == {"h1": state}
    restore_record(states, None, b"ignored")
    assert states == {"h1": state}
    restore_record(states, b"h1", None)
    assert states == {}


def test_restored_state_suppresses_a_second_forward(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    record = _canonical(hub_context, golden_payload)
    [state_record] = _on(RouteStage(hub_context, metrics).handle(record), "t.state")
    restarted = RouteStage(hub_context, HubMetrics())
    restore_record(restarted.states, state_record.key, state_record.value)
    assert _on(restarted.handle(record), PROVIDER_IN) == []


def test_forward_payload_equals_a_direct_encode(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    record = _canonical(hub_context, golden_payload)
    [forward] = _on(RouteStage(hub_context, metrics).handle(record), PROVIDER_IN)
    direct = hub_context.adapters.get("aanbieder").encode(orjson.loads(record.value or b""))
    assert forward.value == direct


def without_memberships_handle(stage: IngestStage, record: InRecord) -> list[OutRecord]:
    return without_memberships(stage.handle(record))
