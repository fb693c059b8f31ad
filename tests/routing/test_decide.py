"""``decide``: the router's pure decision over state, envelope and policy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from routing.decide import Decision, DeliveryKind, decide
from routing.directory import Directory
from routing.policy import Policy
from routing.state import RECENT_MESSAGES_KEPT, HouseholdState
from schemas.audit import AuditAction, LegalBasis
from schemas.codes import MessageEvent, RejectReason
from schemas.envelope import RoutingEnvelope
from schemas.partners import PartnerKind
from tests.conftest import default_policy

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
POLICY = default_policy()
GP = "huisarts-wijert"
PROVIDER = "aanbieder-noorderlicht"


def _envelope(
    partner_message_id: str = "HIS-1",
    sender_id: str = GP,
    sender_kind: PartnerKind = PartnerKind.HUISARTS,
    recipient_id: str | None = PROVIDER,
    recipient_kind: PartnerKind | None = PartnerKind.AANBIEDER,
    event: MessageEvent = MessageEvent.REFERRAL,
) -> RoutingEnvelope:
    return RoutingEnvelope(
        message_id=str(uuid.uuid4()),
        event=event,
        sender_id=sender_id,
        sender_kind=sender_kind,
        partner_message_id=partner_message_id,
        household="h" * 32,
        child="c" * 32,
        recipient_id=recipient_id,
        recipient_kind=recipient_kind,
        received_at=NOW,
    )


def _kinds(decision: Decision) -> list[DeliveryKind]:
    return [d.kind for d in decision.deliveries]


def test_referral_is_forwarded_and_acknowledged() -> None:
    message = _envelope()
    decision = decide(HouseholdState(), message, POLICY, NOW)
    forward, ack = decision.deliveries
    assert forward.kind is DeliveryKind.FORWARD
    assert forward.recipient_id == PROVIDER
    assert forward.basis is LegalBasis.STATUTORY
    assert ack.kind is DeliveryKind.ACK
    assert ack.recipient_id == GP
    assert ack.delivered_to == (PROVIDER,)
    delivered, acknowledged = decision.audit
    assert delivered.action is AuditAction.DELIVERED
    assert delivered.recipient_id == PROVIDER
    assert delivered.basis is LegalBasis.STATUTORY
    assert acknowledged.action is AuditAction.ACKNOWLEDGED
    assert acknowledged.recipient_id == GP
    for record in decision.audit:
        assert record.message_id == message.message_id
        assert record.household == message.household
        assert record.sender_id == GP
        assert record.at == NOW
    assert decision.new_state.seen(f"{GP}/HIS-1")


def test_flow_without_policy_entry_is_refused() -> None:
    message = _envelope(
        sender_id=PROVIDER,
        sender_kind=PartnerKind.AANBIEDER,
        recipient_id=GP,
        recipient_kind=PartnerKind.HUISARTS,
    )
    decision = decide(HouseholdState(), message, POLICY, NOW)
    [nack] = decision.deliveries
    assert nack.kind is DeliveryKind.NACK
    assert nack.recipient_id == PROVIDER
    assert nack.reject is RejectReason.NO_LEGAL_BASIS
    assert nack.basis is None
    [refused] = decision.audit
    assert refused.action is AuditAction.REFUSED
    assert refused.reason_code is RejectReason.NO_LEGAL_BASIS
    assert refused.recipient_id == GP


def test_consent_flow_without_a_consent_is_not_delivered() -> None:
    policy = Policy.model_validate(
        {
            "flows": [
                {
                    "event": "referral",
                    "sender": "school",
                    "recipient": "aanbieder",
                    "bases": ["consent", "safety"],
                    "purpose": "verwijzing",
                    "why": "toestemming ouders",
                }
            ]
        }
    )
    message = _envelope(sender_id="school-a", sender_kind=PartnerKind.SCHOOL)
    decision = decide(HouseholdState(), message, policy, NOW)
    assert _kinds(decision) == [DeliveryKind.NACK]
    assert decision.deliveries[0].reject is RejectReason.NO_LEGAL_BASIS


def test_missing_recipient_is_refused() -> None:
    decision = decide(
        HouseholdState(), _envelope(recipient_id=None, recipient_kind=None), POLICY, NOW
    )
    [nack] = decision.deliveries
    assert nack.kind is DeliveryKind.NACK
    assert nack.recipient_id == GP
    assert nack.reject is RejectReason.UNKNOWN_RECIPIENT
    [refused] = decision.audit
    assert refused.action is AuditAction.REFUSED
    assert refused.recipient_id is None


def test_resent_message_is_acknowledged_not_forwarded_again() -> None:
    first = decide(HouseholdState(), _envelope("HIS-1"), POLICY, NOW)
    again = decide(first.new_state, _envelope("HIS-1"), POLICY, NOW)
    assert _kinds(again) == [DeliveryKind.ACK]
    assert again.deliveries[0].recipient_id == GP
    assert [a.action for a in again.audit] == [AuditAction.DUPLICATE]
    assert again.new_state == first.new_state


def test_same_partner_message_id_from_another_sender_is_not_a_duplicate() -> None:
    first = decide(HouseholdState(), _envelope("HIS-1"), POLICY, NOW)
    other = decide(first.new_state, _envelope("HIS-1", sender_id="huisarts-hoogkerk"), POLICY, NOW)
    assert _kinds(other) == [DeliveryKind.FORWARD, DeliveryKind.ACK]


def test_refused_message_resent_is_never_acknowledged() -> None:
    """A nack'd message sent again must not get an ack ("accepted and delivered")."""
    refused = _envelope(
        sender_id=PROVIDER,
        sender_kind=PartnerKind.AANBIEDER,
        recipient_id=GP,
        recipient_kind=PartnerKind.HUISARTS,
    )
    first = decide(HouseholdState(), refused, POLICY, NOW)
    assert _kinds(first) == [DeliveryKind.NACK]
    again = decide(first.new_state, refused, POLICY, NOW)
    assert DeliveryKind.ACK not in _kinds(again)
    assert DeliveryKind.FORWARD not in _kinds(again)


def test_state_keeps_at_most_the_recent_keys() -> None:
    state = HouseholdState()
    for n in range(RECENT_MESSAGES_KEPT + 10):
        state = decide(state, _envelope(f"HIS-{n}"), POLICY, NOW).new_state
        assert len(state.recent) <= RECENT_MESSAGES_KEPT
    assert len(state.recent) == RECENT_MESSAGES_KEPT
    assert not state.seen(f"{GP}/HIS-0")
    assert state.seen(f"{GP}/HIS-{RECENT_MESSAGES_KEPT + 9}")
    assert state.recent[-1] == f"{GP}/HIS-{RECENT_MESSAGES_KEPT + 9}"


def test_decide_does_not_mutate_the_state() -> None:
    state = HouseholdState()
    decide(state, _envelope(), POLICY, NOW)
    assert state.recent == ()


def test_audit_records_carry_the_area_the_regisseur_kind_and_direct_access() -> None:
    """What the indicators count by (codes only): docs/indicators.md."""
    directory = Directory(
        kinds={GP: PartnerKind.HUISARTS, PROVIDER: PartnerKind.AANBIEDER, "wij-a": PartnerKind.WIJ},
        direct_access=frozenset({PROVIDER}),
    )
    state = HouseholdState(area="zuid")
    delivered, acknowledged = decide(state, _envelope(), POLICY, NOW, directory).audit
    assert (delivered.area, delivered.direct_access) == ("zuid", True)
    assert acknowledged.regisseur_kind is None
    claim = _envelope("WIJ-1", "wij-a", PartnerKind.WIJ, None, None, event=MessageEvent.REGIE_CLAIM)
    [ack] = decide(state, claim, POLICY, NOW, directory).audit
    assert (ack.action, ack.regisseur_kind, ack.area) == (
        AuditAction.ACKNOWLEDGED,
        PartnerKind.WIJ,
        "zuid",
    )
    plain = decide(state, _envelope(), POLICY, NOW, Directory(kinds=directory.kinds))
    assert plain.audit[0].direct_access is None
