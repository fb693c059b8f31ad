"""The published audit format: Logboek Dataverwerkingen fields, derived ids, no personal data."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Unpack

import pytest
from pydantic import ValidationError

from hub.stages.ingest import IngestStage
from hub.stages.records import InRecord
from hub.stages.route import RouteStage
from hub.tools.bench_inprocess import bench_context
from hub.tools.bench_mix import BenchMix
from observability import audit
from observability.audit import LogboekRecord, StatusCode
from observability.metrics import HubMetrics
from routing.directory import Directory
from routing.state import HouseholdState
from schemas.audit import AuditAction, AuditDetails, AuditRecord, LegalBasis
from schemas.codes import MessageEvent, RejectReason
from schemas.envelope import RoutingEnvelope
from schemas.partners import PartnerKind
from tests.conftest import GP, PROVIDER, default_registry

AT = datetime(2026, 11, 23, 8, 15, 0, 123456, tzinfo=UTC)
MESSAGE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "ketenhub-test"))


def _envelope() -> RoutingEnvelope:
    return RoutingEnvelope(
        message_id=MESSAGE_ID,
        event=MessageEvent.REFERRAL,
        sender_id=GP,
        sender_kind=PartnerKind.HUISARTS,
        partner_message_id="HIS-1",
        household="h" * 32,
        child="c" * 32,
        recipient_id=PROVIDER,
        recipient_kind=PartnerKind.AANBIEDER,
        received_at=AT,
    )


class _Details(AuditDetails, total=False):
    area: str | None


def _record(action: AuditAction, recipient: str | None, **extra: Unpack[_Details]) -> AuditRecord:
    return AuditRecord(
        message_id=MESSAGE_ID,
        at=AT,
        action=action,
        event=MessageEvent.REFERRAL,
        sender_id=GP,
        recipient_id=recipient,
        household="h" * 32,
        **extra,
    )


def _published(*records: AuditRecord) -> list[LogboekRecord]:
    directory = Directory.from_registry(default_registry())
    return audit.from_route(
        records,
        _envelope(),
        ended=AT + timedelta(milliseconds=5),
        kind_of=directory.kind,
        instance_id="hub-1",
    )


def test_trace_id_is_the_hub_message_id_and_span_ids_are_deterministic() -> None:
    assert audit.trace_id(MESSAGE_ID) == uuid.UUID(MESSAGE_ID).hex
    assert audit.trace_id(MESSAGE_ID.upper()) == uuid.UUID(MESSAGE_ID).hex
    assert len(audit.trace_id("not-a-uuid")) == 32
    assert audit.span_id(MESSAGE_ID, "route", "0") == audit.span_id(MESSAGE_ID, "route", "0")
    assert audit.span_id(MESSAGE_ID, "route", "0") != audit.span_id(MESSAGE_ID, "route", "1")
    assert len(audit.ingest_span_id(MESSAGE_ID)) == 16


def test_a_delivery_becomes_a_logboek_record_with_the_standard_fields() -> None:
    delivered, ack = _published(
        _record(AuditAction.DELIVERED, PROVIDER, basis=LegalBasis.STATUTORY),
        _record(AuditAction.ACKNOWLEDGED, GP),
    )
    raw = json.loads(delivered.to_json())
    assert set(raw) == {
        "trace_id",
        "span_id",
        "parent_span_id",
        "name",
        "start_time",
        "end_time",
        "status_code",
        "resource",
        "attributes",
    }
    assert raw["trace_id"] == uuid.UUID(MESSAGE_ID).hex
    assert raw["parent_span_id"] == audit.ingest_span_id(MESSAGE_ID)
    assert raw["name"] == "ketenhub.route.delivered"
    assert raw["status_code"] == "STATUS_CODE_OK"
    assert raw["start_time"].startswith("2026-11-23T08:15:00.123")
    assert raw["resource"]["attributes"]["service.instance.id"] == "hub-1"
    attributes = raw["attributes"]
    assert (
        attributes["dpl.core.processing_activity_id"]
        == "urn:ketenhub:verwerkingsactiviteit:referral"
    )
    assert attributes["dpl.core.data_subject_id"] == "c" * 32
    assert attributes["dpl.core.data_subject_id_type"] == audit.DATA_SUBJECT_ID_TYPE
    assert attributes["ketenhub.sender"] == GP
    assert attributes["ketenhub.on_behalf_of"] == GP
    assert attributes["ketenhub.recipient"] == PROVIDER
    assert attributes["ketenhub.recipient_kind"] == "aanbieder"
    assert attributes["ketenhub.legal_basis"] == "statutory"
    assert attributes["ketenhub.partner_message_id"] == "HIS-1"
    assert delivered.span_id != ack.span_id
    assert ack.trace_id == delivered.trace_id
    assert LogboekRecord.model_validate_json(delivered.to_json()) == delivered


def test_a_refusal_is_unset_and_an_internal_error_is_error() -> None:
    refused, crashed = _published(
        _record(AuditAction.REFUSED, PROVIDER, reason_code=RejectReason.NO_LEGAL_BASIS),
        _record(AuditAction.REFUSED, None, reason_code=RejectReason.INTERNAL_ERROR),
    )
    assert refused.status_code is StatusCode.UNSET
    assert refused.attributes.reason_code is RejectReason.NO_LEGAL_BASIS
    assert refused.attributes.legal_basis is None
    assert crashed.status_code is StatusCode.ERROR
    assert crashed.attributes.recipient_kind is None


def test_records_in_the_earlier_shape_are_still_read() -> None:
    old = _record(AuditAction.DELIVERED, PROVIDER, basis=LegalBasis.STATUTORY)
    parsed = audit.parse(old.to_json())
    assert parsed is not None
    assert parsed.trace_id == uuid.UUID(MESSAGE_ID).hex
    assert parsed.attributes.data_subject_id is None
    assert parsed.attributes.recipient_id == PROVIDER
    assert audit.parse(b"{not json") is None
    assert audit.parse(b'{"trace_id": "x"}') is None
    assert audit.parse(None) is None


def test_a_validation_error_never_shows_the_input() -> None:
    bad = json.loads(_published(_record(AuditAction.ACKNOWLEDGED, GP))[0].to_json())
    bad["attributes"]["ketenhub.action"] = "999990019"
    assert audit.parse(json.dumps(bad).encode()) is None
    with pytest.raises(ValidationError) as raised:
        LogboekRecord.model_validate(bad)
    assert "999990019" not in str(raised.value)


def test_a_payload_disclosure_names_operator_and_dead_letter_and_nothing_else() -> None:
    at = datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=UTC)
    message_id = str(uuid.uuid4())
    record = audit.payload_disclosure(
        dlq_ref="2:41", message_id=message_id, partner_id="huisarts-hoogkerk",
        operator="ops@wij", at=at, instance_id="hub-1",
    )  # fmt: skip
    stored = json.loads(record.to_json())
    assert stored["name"] == "ketenhub.dlq.disclosed"
    assert stored["trace_id"] == message_id.replace("-", "")
    assert stored["start_time"] == stored["end_time"] == "2026-11-23T12:00:00.123000Z"
    assert stored["attributes"] == {
        "dpl.core.processing_activity_id": "urn:ketenhub:verwerkingsactiviteit:dlq-inspection",
        "dpl.core.data_subject_id": None,
        "dpl.core.data_subject_id_type": "urn:ketenhub:pseudonym:child",
        "ketenhub.action": "disclosed",
        "ketenhub.event": None,
        "ketenhub.message_id": message_id,
        "ketenhub.partner_message_id": None,
        "ketenhub.household": None,
        "ketenhub.sender": "huisarts-hoogkerk",
        "ketenhub.sender_kind": None,
        "ketenhub.on_behalf_of": "ketenhub",
        "ketenhub.recipient": None,
        "ketenhub.recipient_kind": None,
        "ketenhub.legal_basis": None,
        "ketenhub.reason_code": None,
        "ketenhub.notice": None,
        "ketenhub.operator": "ops@wij",
        "ketenhub.dlq_ref": "2:41",
        "ketenhub.area": None,
        "ketenhub.regisseur_kind": None,
        "ketenhub.direct_access": None,
        "ketenhub.referrer_type": None,
        "ketenhub.other_household": None,
        "ketenhub.regie_kept": None,
        "ketenhub.regie_set_aside": None,
    }
    assert audit.parse(record.to_json()) == record


def test_a_dead_letter_without_a_message_id_is_traced_by_its_reference() -> None:
    record = audit.payload_disclosure(
        dlq_ref="0:7", message_id=None, partner_id="?", operator="ops",
        at=datetime.now(UTC), instance_id="hub-1",
    )  # fmt: skip
    assert record.attributes.message_id == "dlq:0:7"
    assert len(record.trace_id) == 32


@pytest.mark.parametrize("operator", ["", "Jan de Vries", "x" * 65, "a\nb", "999990019 viewed"])
def test_an_operator_is_an_account_name_never_free_text(operator: str) -> None:
    with pytest.raises(ValidationError):
        audit.payload_disclosure(
            dlq_ref="0:7", message_id=None, partner_id="?", operator=operator,
            at=datetime.now(UTC), instance_id="hub-1",
        )  # fmt: skip


def test_headers_a_partner_set_do_not_reach_the_disclosure_record() -> None:
    record = audit.payload_disclosure(
        dlq_ref="0:9", message_id="999990019 Jan de Vries", partner_id="Jan de Vries",
        operator="ops", at=datetime.now(UTC), instance_id="hub-1",
    )  # fmt: skip
    assert record.attributes.message_id == "dlq:0:9"
    assert record.attributes.sender_id == "?"
    assert "999990019" not in record.to_json().decode()


@pytest.mark.parametrize(
    "record",
    [
        _record(AuditAction.DELIVERED, PROVIDER, basis=LegalBasis.STATUTORY, direct_access=True),
        _record(AuditAction.REFUSED, None, reason_code=RejectReason.NO_LEGAL_BASIS, area="zuid"),
        _record(AuditAction.ACKNOWLEDGED, GP, regisseur_kind=PartnerKind.WIJ, area="zuid"),
        _record(
            AuditAction.MERGED,
            None,
            other_household="o" * 32,
            regie_kept="wij-zuid",
            regie_set_aside="ojg-wijert",
        ),
    ],
    ids=lambda r: r.action.value,
)
def test_the_route_stage_fast_records_are_the_models_byte_for_byte(record: AuditRecord) -> None:
    """The route stage writes ``route_records_json`` (no models, for speed): every attribute
    the model has must be there, with the same value (the merge's regie fields were once lost)."""
    directory = Directory.from_registry(default_registry())
    args = dict(ended=AT + timedelta(milliseconds=5), kind_of=directory.kind, instance_id="hub-1")
    fast = audit.route_records_json([record], _envelope(), **args)  # type: ignore[arg-type]
    slow = [r.to_json() for r in audit.from_route([record], _envelope(), **args)]  # type: ignore[arg-type]
    assert [json.loads(f) for f in fast] == [json.loads(s) for s in slow]


def test_the_fast_records_are_the_models_byte_for_byte_over_the_bench_mix() -> None:
    """Every decision of 400 bench-mix messages, with the stage's end time before and after
    the decision's: ``route_records_json`` writes exactly the bytes the models do."""
    ctx = bench_context()
    ingest, route = IngestStage(ctx, HubMetrics()), RouteStage(ctx, HubMetrics())
    compared = 0
    for offset, message in enumerate(BenchMix(ctx.registry).messages(400)):
        topic = ctx.names.partner_out(message.sender.id)
        for out in ingest.handle(InRecord(topic, 0, offset, message.payload, None, [], 1)):
            if out.topic != ctx.names.canonical:
                continue
            record = InRecord(out.topic, 0, offset, out.value, out.key, out.headers, 1)
            envelope = RoutingEnvelope.from_headers(out.headers)
            now = datetime.now(UTC)
            before = route.states.get(envelope.household, HouseholdState())
            decision, _ = route.moves.decide(record, envelope, before, now)
            ended = now + timedelta(microseconds=offset * 997 % 5000 - 1000)
            args = dict(ended=ended, kind_of=route.directory.kind, instance_id="hub-1")
            fast = audit.route_records_json(decision.audit, envelope, **args)  # type: ignore[arg-type]
            slow = [r.to_json() for r in audit.from_route(decision.audit, envelope, **args)]  # type: ignore[arg-type]
            assert fast == slow
            compared += len(fast)
            route.handle(record)
    assert compared > 400
