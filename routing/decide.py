"""``decide``: the router's one decision, a pure function of state, message and policy.

Every delivery it returns has a legal basis taken from the policy and an audit record;
every refusal has an audit record too. Nothing here does I/O or reads a clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Unpack

from routing.directory import Directory
from routing.policy import Policy
from routing.state import (
    REFERRALS_KEPT,
    ConsentRecord,
    Escalation,
    HouseholdState,
    ReferralRecord,
    Regie,
    SignalRecord,
    Transfer,
)
from schemas.audit import AuditAction, AuditDetails, AuditRecord, LegalBasis
from schemas.codes import MessageEvent, RejectReason
from schemas.envelope import RoutingEnvelope
from schemas.partners import PartnerKind


class DeliveryKind(StrEnum):
    FORWARD = "forward"
    ACK = "ack"
    NACK = "nack"
    NOTIFY = "notify"


class NoticeSubject(StrEnum):
    REGIE_CONFLICT = "regie-conflict"
    REGIE_TRANSFER_OFFERED = "regie-transfer-offered"
    REGIE_TRANSFERRED = "regie-transferred"
    REGIE_TRANSFER_DECLINED = "regie-transfer-declined"
    REGIE_ESCALATED = "regie-escalated"
    REGIE_RETURNED = "regie-returned"
    SIGNAL_MATCH = "signal-match"
    FAMILY_MATCH = "family-match"
    CARE_STARTED = "care-started"
    CARE_ENDED = "care-ended"
    ASSIGNMENT_GRANTED = "assignment-granted"
    ASSIGNMENT_REFUSED = "assignment-refused"
    HOUSEHOLD_MERGED = "household-merged"
    HOUSEHOLD_SPLIT = "household-split"


@dataclass(frozen=True)
class Notice:
    """What the hub tells a partner: a subject, the partners it should know of (who, how to
    reach: the shell adds names and contacts) and the recipient's own message it concerns."""

    subject: NoticeSubject
    about: tuple[str, ...] = ()
    regarding: str | None = None


@dataclass(slots=True)
class Delivery:
    """One record to send. Values, never changed once made; not frozen, because a frozen
    dataclass's ``__init__`` costs 3.5 times as much and the core makes two per message."""

    kind: DeliveryKind
    recipient_id: str
    basis: LegalBasis | None = None
    reject: RejectReason | None = None
    reason: str = ""
    delivered_to: tuple[str, ...] = ()
    duplicate: bool = False
    notice: Notice | None = None
    recipient_kind: PartnerKind | None = None


@dataclass(slots=True)
class Decision:
    new_state: HouseholdState
    deliveries: tuple[Delivery, ...]
    audit: tuple[AuditRecord, ...]


@dataclass
class _Builder:
    """Collects one decision; local mutation only, the function stays pure."""

    state: HouseholdState
    message: RoutingEnvelope
    policy: Policy
    now: datetime
    directory: Directory
    deliveries: list[Delivery] = field(default_factory=list)
    audit: list[AuditRecord] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)

    def record(
        self, action: AuditAction, recipient_id: str | None = None, **extra: Unpack[AuditDetails]
    ) -> None:
        self.audit.append(
            AuditRecord(
                message_id=self.message.message_id,
                at=self.now,
                action=action,
                event=self.message.event,
                sender_id=self.message.sender_id,
                recipient_id=recipient_id,
                household=self.message.household,
                area=self.state.area,
                **extra,
            )
        )

    def basis(self, recipient_id: str, kind: PartnerKind) -> LegalBasis | None:
        """The first basis of the flow's policy entry that holds right now, if any."""
        m = self.message
        flow = self.policy.flow(m.event, m.sender_kind, kind)
        if flow is None:
            return None
        for basis in flow.bases:
            if basis is LegalBasis.STATUTORY:
                return basis
            if basis is LegalBasis.SAFETY and self._safety_applies(kind):
                return basis
            if (
                basis is LegalBasis.CONSENT
                and flow.purpose
                and self._consented(recipient_id, kind, flow.purpose)
            ):
                return basis
        return None

    def _safety_applies(self, recipient_kind: PartnerKind) -> bool:
        escalated = self.state.escalation is not None
        involves_vh = PartnerKind.VEILIGHEIDSHUIS in (self.message.sender_kind, recipient_kind)
        return escalated and involves_vh

    def _consented(self, recipient_id: str, kind: PartnerKind, purpose: str) -> bool:
        age = self.message.facts.child_age
        return any(
            c.in_force(self.now)
            and c.covers(self.message.child, recipient_id, kind, purpose)
            and self.policy.signatories_sufficient(age, c.given_by)
            for c in self.state.consents
        )

    def forward(self, recipient_id: str, kind: PartnerKind) -> bool:
        """Deliver the message to a recipient if a basis holds; audit either way."""
        basis = self.basis(recipient_id, kind)
        if basis is None:
            self.record(AuditAction.REFUSED, recipient_id, reason_code=RejectReason.NO_LEGAL_BASIS)
            return False
        self.deliveries.append(
            Delivery(DeliveryKind.FORWARD, recipient_id, basis=basis, recipient_kind=kind)
        )
        direct = recipient_id in self.directory.direct_access or None
        self.record(AuditAction.DELIVERED, recipient_id, basis=basis, direct_access=direct)
        self.delivered_to.append(recipient_id)
        return True

    def notify(
        self,
        recipient_id: str,
        subject: NoticeSubject,
        about: tuple[str, ...] = (),
        regarding: str | None = None,
    ) -> None:
        kind = self.directory.kind(recipient_id)
        rule = self.policy.notice(subject.value)
        basis = None
        if rule is not None and kind is not None:
            basis = next(
                (
                    b
                    for b in rule.bases
                    if b is LegalBasis.STATUTORY
                    or (b is LegalBasis.SAFETY and self.state.escalation is not None)
                ),
                None,
            )
        if basis is None:
            self.record(
                AuditAction.REFUSED,
                recipient_id,
                reason_code=RejectReason.NO_LEGAL_BASIS,
                notice=subject.value,
            )
            return
        self.deliveries.append(
            Delivery(
                DeliveryKind.NOTIFY,
                recipient_id,
                basis=basis,
                notice=Notice(subject, about, regarding),
                recipient_kind=kind,
            )
        )
        self.record(AuditAction.NOTIFIED, recipient_id, basis=basis, notice=subject.value)

    def accept(self, update: Mapping[str, Any] | None = None) -> Decision:
        """Acknowledge to the sender and remember the message, so a resend is not redone;
        the new state is this one with ``update`` applied (one copy for both)."""
        self.deliveries.append(
            Delivery(
                DeliveryKind.ACK, self.message.sender_id, delivered_to=tuple(self.delivered_to)
            )
        )
        new_state = self.state.remember(_key(self.message), update)
        regie = new_state.regie
        self.record(
            AuditAction.ACKNOWLEDGED,
            self.message.sender_id,
            regisseur_kind=regie.kind if regie is not None else None,
        )
        return Decision(new_state, tuple(self.deliveries), tuple(self.audit))

    def refuse(self, reject: RejectReason, reason: str) -> Decision:
        """Refuse the whole message: only a nack, and the state stays as it was."""
        m = self.message
        self.record(AuditAction.REFUSED, m.recipient_id, reason_code=reject)
        nack = Delivery(DeliveryKind.NACK, m.sender_id, reject=reject, reason=reason)
        return Decision(self.state, (nack,), tuple(self.audit))


def _key(message: RoutingEnvelope) -> str:
    return f"{message.sender_id}/{message.partner_message_id}"


def decide(
    state: HouseholdState,
    message: RoutingEnvelope,
    policy: Policy,
    now: datetime,
    directory: Directory | None = None,
) -> Decision:
    """Decide what happens to one message about one household."""
    if state.seen(_key(message)):
        return _duplicate(state, message, policy, now)
    state = _expire_signals(state, now)
    if state.area is None and message.facts.area:
        state = state.evolve({"area": message.facts.area})
    b = _Builder(state, message, policy, now, directory or Directory())
    return _HANDLERS.get(message.event, _forward_to_recipient)(b)


def _duplicate(
    state: HouseholdState, message: RoutingEnvelope, policy: Policy, now: datetime
) -> Decision:
    """A resent message that was accepted before: acknowledge again, deliver nothing new.

    Only accepted messages are remembered, so a refused message sent again is judged anew.
    """
    b = _Builder(state, message, policy, now, Directory())
    b.record(AuditAction.DUPLICATE, message.sender_id)
    ack = Delivery(DeliveryKind.ACK, message.sender_id, duplicate=True)
    return Decision(state, (ack,), tuple(b.audit))


def _expire_signals(state: HouseholdState, now: datetime) -> HouseholdState:
    """Signals past their visible period are deleted, as the Verwijsindex does."""
    today = now.date()
    kept = tuple(s for s in state.signals if s.visible_until >= today)
    return state if len(kept) == len(state.signals) else state.evolve({"signals": kept})


def _recipient(b: _Builder) -> tuple[str, PartnerKind] | None:
    m = b.message
    if m.recipient_id is None or m.recipient_kind is None:
        return None
    return m.recipient_id, m.recipient_kind


def _forward_to_recipient(b: _Builder) -> Decision:
    """Addressed messages (referrals, iJw): the addressee must have a basis, or nothing goes."""
    target = _recipient(b)
    if target is None:
        return b.refuse(RejectReason.UNKNOWN_RECIPIENT, "the message names no known recipient")
    if not b.forward(*target):
        return _no_basis(b, target[1])
    return b.accept()


def _no_basis(b: _Builder, recipient_kind: PartnerKind) -> Decision:
    m = b.message
    b.audit.clear()
    return b.refuse(
        RejectReason.NO_LEGAL_BASIS,
        f"no legal basis for {m.event} from {m.sender_kind} to {recipient_kind}",
    )


def _copy_to_regisseur(b: _Builder) -> None:
    """Every referral or signal about a household is also shown to its regisseur."""
    regie = b.state.regie
    if regie is not None and regie.partner_id not in (b.message.sender_id, *b.delivered_to):
        b.forward(regie.partner_id, regie.kind)


def _referral(b: _Builder) -> Decision:
    target = _recipient(b)
    if target is None:
        return b.refuse(RejectReason.UNKNOWN_RECIPIENT, "the referral names no known recipient")
    if not b.forward(*target):
        return _no_basis(b, target[1])
    _copy_to_regisseur(b)
    m = b.message
    record = ReferralRecord(
        child=m.child,
        referrer_id=m.sender_id,
        referrer_kind=m.sender_kind,
        provider_id=target[0],
        partner_message_id=m.partner_message_id,
    )
    referrals = (*b.state.referrals, record)[-REFERRALS_KEPT:]
    return b.accept({"referrals": referrals})


def _care_event(b: _Builder) -> Decision:
    """Start/stop of care goes to its addressee; the referrer and the regisseur hear of it."""
    subject = (
        NoticeSubject.CARE_STARTED
        if b.message.event is MessageEvent.CARE_START
        else NoticeSubject.CARE_ENDED
    )
    provider = b.message.sender_id
    return _forward_and_tell_the_chain(b, subject, provider, same_child=True)


def _assignment(b: _Builder) -> Decision:
    """A JW301 goes to the provider; the referrer and the regisseur hear it was granted."""
    provider = b.message.recipient_id or ""
    return _forward_and_tell_the_chain(
        b, NoticeSubject.ASSIGNMENT_GRANTED, provider, same_child=True
    )


def _request_answer(b: _Builder) -> Decision:
    """A JW319 goes to the provider; when it refuses the request (WJ760 1), the referrer and
    the regisseur hear so. It names no child, so every referral of the household to that
    provider counts."""
    provider = b.message.recipient_id or ""
    if b.message.facts.verzoek_antwoord != REQUEST_REFUSED:
        return _forward_to_recipient(b)
    return _forward_and_tell_the_chain(
        b, NoticeSubject.ASSIGNMENT_REFUSED, provider, same_child=False
    )


REQUEST_REFUSED = "1"
"""iJw WJ760 1: verzoek afgewezen."""


def _forward_and_tell_the_chain(
    b: _Builder, subject: NoticeSubject, provider: str, *, same_child: bool
) -> Decision:
    """Forward to the addressee; then the referrers of this child (or household) to this
    provider and the household's regisseur get a minimal notice: what happened and which
    provider, never the message's content."""
    decision = _forward_to_recipient(b)
    if any(d.kind is DeliveryKind.NACK for d in decision.deliveries):
        return decision
    b.deliveries = [d for d in b.deliveries if d.kind is not DeliveryKind.ACK]
    b.audit = [a for a in b.audit if a.action is not AuditAction.ACKNOWLEDGED]
    told = {b.message.sender_id, *b.delivered_to}
    for r in b.state.referrals:
        matches = r.provider_id == provider and (not same_child or r.child == b.message.child)
        if matches and r.referrer_id not in told:
            b.notify(r.referrer_id, subject, about=(provider,), regarding=r.partner_message_id)
            told.add(r.referrer_id)
    regie = b.state.regie
    if regie is not None and regie.partner_id not in told:
        b.notify(regie.partner_id, subject, about=(provider,))
    return b.accept()


def _signal(b: _Builder) -> Decision:
    m, rules = b.message, b.policy.signals
    age = m.facts.child_age
    if age is None or age > rules.max_age:
        return b.refuse(
            RejectReason.OUT_OF_SCOPE,
            f"signals are for young people aged 0 to {rules.max_age}",
        )
    today = b.now.date()
    record = SignalRecord(
        child=m.child,
        signaller_id=m.sender_id,
        signaller_kind=m.sender_kind,
        partner_message_id=m.partner_message_id,
        at=today,
        active_until=today + timedelta(days=rules.active_days),
        visible_until=today + timedelta(days=rules.visible_days),
    )
    others = [
        s for s in b.state.signals if s.signaller_id != m.sender_id and s.active_until >= today
    ]
    kept = [s for s in b.state.signals if (s.child, s.signaller_id) != (m.child, m.sender_id)]
    regie = b.state.regie
    if regie is not None:
        _copy_to_regisseur(b)
    else:
        wij = b.directory.wij_by_area.get(b.state.area or "")
        if wij is not None and wij != m.sender_id:
            b.forward(wij, PartnerKind.WIJ)
    matched = list(b.state.matched)
    for other in others:
        match(b, record, other, matched)
    return b.accept({"signals": (*kept, record), "matched": tuple(matched)})


def match(b: _Builder, new: SignalRecord, other: SignalRecord, matched: list[str]) -> None:
    """Two partners signalled the same child, or two children of one household: both
    signallers and the regisseur learn of each other, once per pair (``matched`` grows)."""
    family = other.child != new.child
    pair = "|".join(sorted((new.signaller_id, other.signaller_id))) + ("|f" if family else "|c")
    if pair in matched:
        return
    matched.append(pair)
    subject = NoticeSubject.FAMILY_MATCH if family else NoticeSubject.SIGNAL_MATCH
    b.notify(
        new.signaller_id, subject, about=(other.signaller_id,), regarding=new.partner_message_id
    )
    b.notify(
        other.signaller_id, subject, about=(new.signaller_id,), regarding=other.partner_message_id
    )
    regie = b.state.regie
    if regie is not None and regie.partner_id not in (new.signaller_id, other.signaller_id):
        b.notify(regie.partner_id, subject, about=(new.signaller_id, other.signaller_id))


def _consent_given(b: _Builder) -> Decision:
    m = b.message
    facts = m.facts.consent
    if facts is None:
        return b.refuse(RejectReason.SCHEMA_INVALID, "consent details are missing")
    if not b.policy.signatories_sufficient(m.facts.child_age, facts.given_by):
        return b.refuse(
            RejectReason.CONSENT_INCOMPLETE,
            "the parties who signed are not the ones the age rules require for this child",
        )
    record = ConsentRecord(
        consent_id=facts.consent_id,
        child=m.child,
        given_by=facts.given_by,
        purposes=facts.purposes,
        recipients=facts.recipients,
        recipient_kinds=facts.recipient_kinds,
        valid_from=facts.valid_from,
        valid_until=facts.valid_until,
        recorded_by=m.sender_id,
    )
    kept = tuple(c for c in b.state.consents if c.consent_id != facts.consent_id)
    b.record(AuditAction.RECORDED, None)
    return b.accept({"consents": (*kept, record)})


def _consent_revoked(b: _Builder) -> Decision:
    facts = b.message.facts.consent
    consent_id = facts.consent_id if facts else None
    match = next(
        (c for c in b.state.consents if c.consent_id == consent_id and c.child == b.message.child),
        None,
    )
    if match is None:
        return b.refuse(RejectReason.UNKNOWN_CONSENT, "no consent with this id for this child")
    revoked = match.evolve({"revoked_at": b.now})
    consents = tuple(revoked if c is match else c for c in b.state.consents)
    b.record(AuditAction.RECORDED, None)
    return b.accept({"consents": consents})


def _regie_claim(b: _Builder) -> Decision:
    m, regie = b.message, b.state.regie
    if regie is not None and regie.partner_id != m.sender_id:
        b.notify(
            regie.partner_id,
            NoticeSubject.REGIE_CONFLICT,
            about=(m.sender_id,),
            regarding=regie.partner_message_id,
        )
        refused = b.refuse(
            RejectReason.REGIE_CONFLICT,
            f"this household already has a regisseur: {regie.partner_id}",
        )
        return Decision(refused.new_state, (*refused.deliveries, *b.deliveries), refused.audit)
    if regie is None:
        regie = Regie(
            partner_id=m.sender_id,
            kind=m.sender_kind,
            since=b.now,
            partner_message_id=m.partner_message_id,
        )
    return b.accept({"regie": regie})


def _require_regisseur(b: _Builder) -> Decision | None:
    regie = b.state.regie
    if regie is None or regie.partner_id != b.message.sender_id:
        return b.refuse(RejectReason.NOT_REGISSEUR, "only the current regisseur may do this")
    return None


def _transfer_offer(b: _Builder) -> Decision:
    if (refused := _require_regisseur(b)) is not None:
        return refused
    if b.state.escalation is not None:
        return b.refuse(
            RejectReason.NOT_REGISSEUR, "an escalated household returns regie by de-escalation"
        )
    m = b.message
    target = m.facts.regie_target
    kind = b.directory.kind(target) if target else None
    if target is None or kind is None or target == m.sender_id:
        return b.refuse(RejectReason.UNKNOWN_RECIPIENT, "the transfer names no other known partner")
    offer = Transfer(
        offer_message_id=m.partner_message_id, from_id=m.sender_id, to_id=target, to_kind=kind
    )
    b.notify(target, NoticeSubject.REGIE_TRANSFER_OFFERED, about=(m.sender_id,))
    return b.accept({"transfer": offer})


def _pending_transfer_to_sender(b: _Builder) -> Transfer | None:
    t = b.state.transfer
    related = b.message.facts.related_partner_message_id
    if t is None or t.to_id != b.message.sender_id:
        return None
    return t if related in (None, t.offer_message_id) else None


def _transfer_accept(b: _Builder) -> Decision:
    t = _pending_transfer_to_sender(b)
    if t is None:
        return b.refuse(RejectReason.NO_PENDING_TRANSFER, "no open regie offer to this partner")
    m = b.message
    regie = Regie(
        partner_id=m.sender_id,
        kind=m.sender_kind,
        since=b.now,
        partner_message_id=m.partner_message_id,
    )
    b.notify(
        t.from_id,
        NoticeSubject.REGIE_TRANSFERRED,
        about=(m.sender_id,),
        regarding=t.offer_message_id,
    )
    return b.accept({"regie": regie, "transfer": None})


def _transfer_decline(b: _Builder) -> Decision:
    t = _pending_transfer_to_sender(b)
    if t is None:
        return b.refuse(RejectReason.NO_PENDING_TRANSFER, "no open regie offer to this partner")
    b.notify(
        t.from_id,
        NoticeSubject.REGIE_TRANSFER_DECLINED,
        about=(b.message.sender_id,),
        regarding=t.offer_message_id,
    )
    return b.accept({"transfer": None})


def _regie_close(b: _Builder) -> Decision:
    if (refused := _require_regisseur(b)) is not None:
        return refused
    if b.state.escalation is not None:
        return b.refuse(
            RejectReason.NOT_REGISSEUR, "an escalated household is closed by de-escalation"
        )
    return b.accept({"regie": None, "transfer": None})


def _escalation(b: _Builder) -> Decision:
    m, current = b.message, b.state.escalation
    if m.sender_kind is not PartnerKind.VEILIGHEIDSHUIS:
        return b.refuse(RejectReason.NO_LEGAL_BASIS, "only a Veiligheidshuis escalates")
    if current is not None:
        if current.by_id == m.sender_id:
            return b.accept()
        return b.refuse(RejectReason.REGIE_CONFLICT, f"already escalated by {current.by_id}")
    previous = b.state.regie
    b.state = b.state.evolve(
        {
            "escalation": Escalation(
                by_id=m.sender_id, casus_message_id=m.partner_message_id, previous=previous
            ),
            "regie": Regie(
                partner_id=m.sender_id,
                kind=m.sender_kind,
                since=b.now,
                partner_message_id=m.partner_message_id,
            ),
            "transfer": None,
        }
    )
    if previous is not None and previous.partner_id != m.sender_id:
        b.notify(
            previous.partner_id,
            NoticeSubject.REGIE_ESCALATED,
            about=(m.sender_id,),
            regarding=previous.partner_message_id,
        )
    return b.accept()


def _deescalation(b: _Builder) -> Decision:
    m, current = b.message, b.state.escalation
    if current is None or current.by_id != m.sender_id:
        return b.refuse(RejectReason.NOT_REGISSEUR, "this household is not escalated by you")
    previous = current.previous
    if previous is not None:
        b.notify(
            previous.partner_id,
            NoticeSubject.REGIE_RETURNED,
            about=(m.sender_id,),
            regarding=previous.partner_message_id,
        )
    return b.accept({"escalation": None, "regie": previous, "transfer": None})


def _household_change(b: _Builder) -> Decision:
    """The shell merged or split before it decides this; here only who may say so."""
    if b.message.sender_kind not in (PartnerKind.WIJ, PartnerKind.VEILIGHEIDSHUIS):
        return b.refuse(
            RejectReason.NO_LEGAL_BASIS,
            "only a WIJ team or a Veiligheidshuis reports who lives together",
        )
    return b.accept()


def _plan_update(b: _Builder) -> Decision:
    if (refused := _require_regisseur(b)) is not None:
        return refused
    return b.accept()


_HANDLERS: dict[MessageEvent, Callable[[_Builder], Decision]] = {
    MessageEvent.REFERRAL: _referral,
    MessageEvent.SIGNAL: _signal,
    MessageEvent.CONSENT_GIVEN: _consent_given,
    MessageEvent.CONSENT_REVOKED: _consent_revoked,
    MessageEvent.REGIE_CLAIM: _regie_claim,
    MessageEvent.REGIE_TRANSFER_OFFER: _transfer_offer,
    MessageEvent.REGIE_TRANSFER_ACCEPT: _transfer_accept,
    MessageEvent.REGIE_TRANSFER_DECLINE: _transfer_decline,
    MessageEvent.REGIE_CLOSE: _regie_close,
    MessageEvent.ESCALATION: _escalation,
    MessageEvent.DEESCALATION: _deescalation,
    MessageEvent.PLAN_UPDATE: _plan_update,
    MessageEvent.HOUSEHOLD_CHANGE: _household_change,
    MessageEvent.CARE_START: _care_event,
    MessageEvent.CARE_END: _care_event,
    MessageEvent.ASSIGNMENT: _assignment,
    MessageEvent.REQUEST_ANSWER: _request_answer,
}
