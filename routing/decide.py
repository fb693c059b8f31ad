"""``decide``: the router's one decision, a pure function of state, message and policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from routing.policy import Policy
from routing.state import HouseholdState
from schemas.audit import AuditAction, AuditRecord, LegalBasis
from schemas.codes import RejectReason
from schemas.envelope import RoutingEnvelope

DELIVERABLE_BASES = frozenset({LegalBasis.STATUTORY})
"""Bases the router can honour today; consent and safety need the consent/regie state."""


class DeliveryKind(StrEnum):
    FORWARD = "forward"
    ACK = "ack"
    NACK = "nack"


@dataclass(frozen=True)
class Delivery:
    kind: DeliveryKind
    recipient_id: str
    basis: LegalBasis | None = None
    reject: RejectReason | None = None
    reason: str = ""
    delivered_to: tuple[str, ...] = ()
    duplicate: bool = False


@dataclass(frozen=True)
class Decision:
    new_state: HouseholdState
    deliveries: tuple[Delivery, ...]
    audit: tuple[AuditRecord, ...]


def decide(
    state: HouseholdState, message: RoutingEnvelope, policy: Policy, now: datetime
) -> Decision:
    key = f"{message.sender_id}/{message.partner_message_id}"
    if state.seen(key):
        return _duplicate(state, message, now)
    if message.recipient_id is None or message.recipient_kind is None:
        return _refuse(state, message, now, RejectReason.UNKNOWN_RECIPIENT, "no recipient")
    flow = policy.flow(message.event, message.sender_kind, message.recipient_kind)
    basis = next((b for b in flow.bases if b in DELIVERABLE_BASES), None) if flow else None
    if basis is None:
        return _refuse(
            state,
            message,
            now,
            RejectReason.NO_LEGAL_BASIS,
            f"no legal basis for {message.event} from {message.sender_kind} "
            f"to {message.recipient_kind}",
        )
    recipients = (message.recipient_id,)
    return Decision(
        new_state=state.remember(key),
        deliveries=(
            Delivery(DeliveryKind.FORWARD, message.recipient_id, basis=basis),
            Delivery(DeliveryKind.ACK, message.sender_id, delivered_to=recipients),
        ),
        audit=(
            _audit(message, now, AuditAction.DELIVERED, message.recipient_id, basis=basis),
            _audit(message, now, AuditAction.ACKNOWLEDGED, message.sender_id),
        ),
    )


def _duplicate(state: HouseholdState, message: RoutingEnvelope, now: datetime) -> Decision:
    """A resent message that was delivered before: acknowledge again, deliver nothing new.

    Only delivered messages are remembered, so a refused message sent again is judged anew.
    """
    return Decision(
        new_state=state,
        deliveries=(Delivery(DeliveryKind.ACK, message.sender_id, duplicate=True),),
        audit=(_audit(message, now, AuditAction.DUPLICATE, message.sender_id),),
    )


def _refuse(
    state: HouseholdState,
    message: RoutingEnvelope,
    now: datetime,
    reject: RejectReason,
    reason: str,
) -> Decision:
    return Decision(
        new_state=state,
        deliveries=(Delivery(DeliveryKind.NACK, message.sender_id, reject=reject, reason=reason),),
        audit=(
            _audit(message, now, AuditAction.REFUSED, message.recipient_id, reason_code=reject),
        ),
    )


def _audit(
    message: RoutingEnvelope,
    now: datetime,
    action: AuditAction,
    recipient_id: str | None,
    basis: LegalBasis | None = None,
    reason_code: RejectReason | None = None,
) -> AuditRecord:
    return AuditRecord(
        message_id=message.message_id,
        at=now,
        action=action,
        event=message.event,
        sender_id=message.sender_id,
        recipient_id=recipient_id,
        household=message.household,
        basis=basis,
        reason_code=reason_code,
    )
