"""Metrics of routing decisions, pre-created children and DLQ counting."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Unpack

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from hub.stages.loop import _dlq_reason
from hub.stages.records import HEADER_DLQ_REASON, OutRecord
from observability.metrics import LATENCY_BUCKETS, HubMetrics, _Counter, _Histogram
from routing.decide import Decision, Delivery, DeliveryKind, Notice, NoticeSubject
from routing.directory import Directory
from routing.state import HouseholdState
from schemas.audit import AuditAction, AuditDetails, AuditRecord, LegalBasis
from schemas.codes import MessageEvent, RejectReason
from schemas.envelope import RoutingEnvelope
from schemas.partners import PartnerKind
from tests.conftest import GP, default_policy, default_registry

SCHOOL = "school-montessori"
OJG = "ojg-wijert"


def _envelope(event: MessageEvent, sender: str, kind: PartnerKind) -> RoutingEnvelope:
    return RoutingEnvelope(
        message_id=str(uuid.uuid4()),
        event=event,
        sender_id=sender,
        sender_kind=kind,
        partner_message_id="M-1",
        household="h" * 32,
        child="c" * 32,
        received_at=datetime.now(UTC),
    )


def _audit(
    envelope: RoutingEnvelope,
    action: AuditAction,
    recipient: str | None,
    **extra: Unpack[AuditDetails],
) -> AuditRecord:
    return AuditRecord(
        message_id=envelope.message_id,
        at=datetime.now(UTC),
        action=action,
        event=envelope.event,
        sender_id=envelope.sender_id,
        recipient_id=recipient,
        household=envelope.household,
        **extra,
    )


def _value(metrics: HubMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_a_signal_match_counts_once_per_pair_not_per_notice() -> None:
    metrics = HubMetrics()
    kinds = Directory.from_registry(default_registry()).kind
    envelope = _envelope(MessageEvent.SIGNAL, GP, PartnerKind.HUISARTS)
    notices = [
        Delivery(
            DeliveryKind.NOTIFY,
            recipient,
            basis=LegalBasis.STATUTORY,
            notice=Notice(NoticeSubject.SIGNAL_MATCH, about=(GP,)),
        )
        for recipient in (GP, SCHOOL, OJG)
    ]
    decision = Decision(
        HouseholdState(),
        (*notices, Delivery(DeliveryKind.ACK, GP)),
        tuple(
            _audit(
                envelope,
                AuditAction.NOTIFIED,
                d.recipient_id,
                basis=LegalBasis.STATUTORY,
                notice="signal-match",
            )
            for d in notices
        ),
    )
    metrics.observe_decision(envelope, decision, kinds)
    assert _value(metrics, "ketenhub_signal_matches_total", match="child") == 1
    assert _value(metrics, "ketenhub_signal_matches_total", match="family") == 0
    deliveries = "ketenhub_deliveries_total"
    assert (
        _value(metrics, deliveries, event="signal", recipient_kind="school", basis="statutory") == 1
    )


def test_refusals_and_regie_conflicts_are_counted_by_flow() -> None:
    metrics = HubMetrics()
    kinds = Directory.from_registry(default_registry()).kind
    envelope = _envelope(MessageEvent.REGIE_CLAIM, OJG, PartnerKind.OJG)
    decision = Decision(
        HouseholdState(),
        (Delivery(DeliveryKind.NACK, OJG, reject=RejectReason.REGIE_CONFLICT),),
        (_audit(envelope, AuditAction.REFUSED, None, reason_code=RejectReason.REGIE_CONFLICT),),
    )
    metrics.observe_decision(envelope, decision, kinds)
    assert _value(metrics, "ketenhub_regie_conflicts_total", event="regie-claim") == 1
    assert (
        _value(
            metrics,
            "ketenhub_deliveries_refused_total",
            event="regie-claim",
            sender_kind="ojg",
            recipient_kind="none",
            reason="regie-conflict",
        )
        == 1
    )


def test_precreated_children_export_zeros_for_every_flow() -> None:
    metrics = HubMetrics()
    registry = default_registry()
    partners = [(p.id, p.kind) for p in registry.partners]
    metrics.precreate(["ingest", "route"], [p for p, _ in partners])
    metrics.precreate_flows(["ingest", "route"], partners, default_policy().flows)
    get = metrics.registry.get_sample_value
    assert (
        get("ketenhub_messages_in_total", {"stage": "ingest", "partner": GP, "event": "referral"})
        == 0.0
    )
    assert (
        get("ketenhub_messages_in_total", {"stage": "ingest", "partner": GP, "event": "unknown"})
        == 0.0
    )
    assert (
        get(
            "ketenhub_deliveries_total",
            {"event": "referral", "recipient_kind": "aanbieder", "basis": "statutory"},
        )
        == 0.0
    )
    assert get("ketenhub_dead_letters_total", {"stage": "ingest", "reason": "malformed"}) == 0.0
    assert get("ketenhub_end_to_end_latency_seconds_count", {"kind": "forward"}) == 0.0
    assert get("ketenhub_signal_matches_total", {"match": "family"}) == 0.0


def test_a_latency_is_never_negative() -> None:
    metrics = HubMetrics()
    metrics.delivered("forward", published_ms=2_000_000, now=1_000.0)
    assert _value(metrics, "ketenhub_end_to_end_latency_seconds_sum", kind="forward") == 0.0
    assert _value(metrics, "ketenhub_end_to_end_latency_seconds_count", kind="forward") == 1


def test_a_forged_dlq_reason_header_never_becomes_a_label() -> None:
    forged = OutRecord("t.dlq", b"", headers=[(HEADER_DLQ_REASON, b"999990019")])
    assert _dlq_reason(forged) == "unknown"
    kept = OutRecord(
        "t.dlq", b"", headers=[(HEADER_DLQ_REASON, b"x"), (HEADER_DLQ_REASON, b"invalid-bsn")]
    )
    assert _dlq_reason(kept) == "invalid-bsn"


def test_router_households_is_read_at_scrape_time() -> None:
    metrics = HubMetrics()
    states = {"a": HouseholdState()}
    metrics.router_households.set_function(lambda: len(states))
    states["b"] = HouseholdState()
    assert metrics.registry.get_sample_value("ketenhub_router_households") == 2


def test_the_shortcut_counters_and_histograms_export_what_the_library_would() -> None:
    """``inc`` and ``observe`` of a labelled child skip the library's path; the exposition
    must be the library's own, bounds (a value on a bound is in that bucket) included."""
    amounts = [0.0, 0.001, 0.0011, 0.05, 0.3, 5.0, 7.5, 1e9, 2.5, 0.0025]

    def exposition(counter_type: type[Counter], histogram_type: type[Histogram]) -> bytes:
        registry = CollectorRegistry()
        counter = counter_type("c", "c", ["stage"], registry=registry)
        histogram = histogram_type("h", "h", ["kind"], buckets=LATENCY_BUCKETS, registry=registry)
        for amount in amounts:
            counter.labels("route").inc()
            counter.labels("ingest").inc(2.5)
            histogram.labels("forward").observe(amount)
        histogram.labels("ack").observe(float("nan"))
        return b"\n".join(
            line for line in generate_latest(registry).splitlines() if b"_created" not in line
        )

    assert exposition(_Counter, _Histogram) == exposition(Counter, Histogram)
