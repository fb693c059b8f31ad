"""The machinery every native-JSON adapter shares, and the message types several kinds send.

An adapter is a ``JsonAdapter`` with a list of ``Inbound`` message types (native model,
native -> FHIR, FHIR -> native) and a table of what its partners receive per event. The
machinery parses with privacy-safe errors, rejects a sender that names itself by an
identifier the hub did not register for it (``sender-mismatch``), validates each Bundle once,
and encodes acks, nacks and hub notices the same way for every kind.

``encode`` gives what a partner *receives* (``signaal-ontvangen`` for a signal, say);
``to_native`` is the inverse of ``decode`` (the round trip native -> FHIR -> native).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar, get_args

from pydantic import BaseModel

from adapters.base import (
    AdapterError,
    DecodeContext,
    Decoded,
    model_json,
    parse_json_model,
    plain_datetime,
    plain_texts,
)
from adapters.notices import encode_hub_message
from schemas import fhir
from schemas import fhir_social as fs
from schemas.bsn import is_valid_bsn
from schemas.codes import (
    AGB_SYSTEM,
    CARE_CATEGORY_SYSTEM,
    CONCERN_CATEGORY_SYSTEM,
    CONSENT_PURPOSE_SYSTEM,
    ORGANISATION_CODE_SYSTEM,
    ConcernCategory,
    MessageEvent,
    RejectReason,
)
from schemas.envelope import ConsentFacts, RoutingFacts
from schemas.native import (
    Child,
    ChildSeen,
    CodeMessage,
    CodeParty,
    ConsentGiven,
    ConsentRevoked,
    HouseholdChange,
    NativeMessage,
    OrganisationReferral,
    Party,
    Referral,
    ReferralNotice,
    RegieClaim,
    Signal,
    SignalReceived,
    TransferOfferReceived,
    children,
)
from schemas.partners import Partner, PartnerKind

M = TypeVar("M", bound=NativeMessage)
P = TypeVar("P", bound=Party)
Bundle = Mapping[str, Any]
Outbound = Callable[[Bundle], BaseModel | bytes]
"""Builds the native message a partner receives from a canonical Bundle (or its bytes, for
one that writes them as ``adapters.base.model_json`` does)."""


@dataclass(frozen=True)
class Inbound(Generic[M]):
    """One native message type a partner kind sends, and its translation both ways."""

    model: type[M]
    event: MessageEvent
    to_fhir: Callable[[M, DecodeContext], Decoded]
    """Native -> Decoded (Bundle + routing facts); the machinery validates the Bundle."""
    from_fhir: Callable[[Bundle], M]
    """The inverse: the native message a Bundle made by ``to_fhir`` came from."""

    @property
    def type_name(self) -> str:
        (name,) = get_args(self.model.model_fields["type"].annotation)
        return str(name)


class JsonAdapter:
    """An ``adapters.base.Adapter`` for a partner kind that speaks native JSON."""

    def __init__(
        self,
        name: str,
        inbound: Sequence[Inbound[Any]],
        outbound: Mapping[MessageEvent, Outbound],
    ) -> None:
        self.name = name
        self.inbound = {i.type_name: i for i in inbound}
        self.outbound = dict(outbound)
        self._models = {type_name: i.model for type_name, i in self.inbound.items()}
        self._by_event = {i.event.value: i for i in inbound}
        if not len(self._by_event) == len(self.inbound) == len(inbound):
            raise ValueError(f"{name}: one inbound message type per type and per event")

    def decode(self, payload: bytes, ctx: DecodeContext) -> Decoded:
        message = parse_json_model(payload, self._models)
        path, party = message.sender_identity()
        if not ctx.sender.goes_by(party.identifier):
            raise AdapterError(
                RejectReason.SENDER_MISMATCH,
                f"{path} is not the identifier registered for the sending partner",
                message.message_id,
            )
        # No validate_bundle here: these builders are proven valid for every message the
        # native models accept (tests/adapters/test_fhir_builders.py); see adapters.registry.
        return self.inbound[message.type].to_fhir(message, ctx)

    def encode(self, bundle: Bundle) -> bytes:
        hub_message = encode_hub_message(bundle)
        if hub_message is not None:
            return hub_message
        event = fhir.event_of(bundle)
        outbound = self.outbound.get(MessageEvent(event)) if event in _EVENTS else None
        if outbound is None:
            raise AdapterError(RejectReason.UNSUPPORTED_TYPE, f"{self.name} cannot receive {event}")
        return _encoded(outbound, bundle, self.name, event)

    def to_native(self, bundle: Bundle) -> NativeMessage:
        """The native message a decoded Bundle came from: the inverse of ``decode``."""
        event = fhir.event_of(bundle)
        inbound = self._by_event.get(event)
        if inbound is None:
            raise AdapterError(RejectReason.UNSUPPORTED_TYPE, f"{self.name} does not send {event}")
        message: NativeMessage = inbound.from_fhir(bundle)
        return message

    def encode_native(self, bundle: Bundle) -> bytes:
        """``to_native`` as the partner's bytes: for round-trip checks native -> FHIR -> native."""
        return self.to_native(bundle).model_dump_json().encode()


_EVENTS = frozenset(e.value for e in MessageEvent)


def _encoded(outbound: Outbound, bundle: Bundle, adapter: str, event: str) -> bytes:
    try:
        native = outbound(bundle)
        return native if isinstance(native, bytes) else native.model_dump_json().encode()
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        # ValueError includes pydantic's ValidationError; its text is not passed on.
        raise AdapterError(
            RejectReason.SCHEMA_INVALID,
            f"{adapter} cannot encode this {event} Bundle ({type(exc).__name__})",
        ) from None


# Checks every adapter needs.


def identity(party: Party) -> fs.Identifier:
    return fs.Identifier(party.system, party.identifier)


def addressed_provider(ctx: DecodeContext, agb: str, message_id: str) -> Partner:
    """The youth-care provider a referral is addressed to, by AGB code."""
    recipient = ctx.registry.by_agb(agb)
    if recipient is None or recipient.kind is not PartnerKind.AANBIEDER:
        raise AdapterError(
            RejectReason.UNKNOWN_RECIPIENT,
            "addressed_to_agb is not a youth-care provider known to the hub",
            message_id,
        )
    return recipient


def registered_partner(ctx: DecodeContext, partner_id: str, path: str, message_id: str) -> Partner:
    partner = ctx.registry.get(partner_id)
    if partner is None:
        raise AdapterError(
            RejectReason.UNKNOWN_RECIPIENT, f"{path} is not a partner known to the hub", message_id
        )
    return partner


def household_decoded(
    *,
    bundle: fhir.FhirDict,
    event: MessageEvent,
    message_id: str,
    household: Sequence[Child],
    facts: RoutingFacts | None = None,
) -> Decoded:
    """A household message: about its first child, the others as household members."""
    first, *others = household
    return Decoded(
        bundle=bundle,
        event=event,
        partner_message_id=message_id,
        child_bsn=first.bsn,
        child_birth_date=first.birth_date,
        household_member_bsns=tuple(c.bsn for c in others),
        facts=facts or RoutingFacts(),
    )


# Reading a Bundle back into native values (round trip: the Bundle came from decode).


def child_of(patient: Mapping[str, Any] | None) -> Child:
    bsn, birth_date = fs.person_of(patient)
    return Child.model_validate({"bsn": bsn, "birth_date": birth_date})


def household_native(bundle: Bundle) -> tuple[Child, ...]:
    return tuple(
        Child.model_validate({"bsn": bsn, "birth_date": birth})
        for bsn, birth in fs.household_of(bundle)
    )


def identifier_in(reference: Mapping[str, Any] | None, system: str) -> str:
    """The value of a reference by identifier in ``system``; anything else is an error."""
    identifier = fs.reference_identifier(reference)
    if identifier is None or identifier.system != system:
        raise AdapterError(RejectReason.SCHEMA_INVALID, f"reference is not by {system}")
    return identifier.value


def party_of(reference: Mapping[str, Any] | None, party: type[P]) -> P:
    return party.of(identifier_in(reference, party.system))


def sender_party(bundle: Bundle, party: type[P]) -> P:
    return party_of(fhir.resource(bundle, "MessageHeader").get("sender"), party)


def _message_fields(bundle: Bundle, focus: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "message_id": fs.partner_message_id_of(bundle, focus),
        "sent_at": datetime.fromisoformat(bundle["timestamp"]),
    }


# Referral (huisarts by AGB, ojg and wij by organisation code) -> ServiceRequest.


def referral_inbound(model: type[Referral[P]], party: type[P]) -> Inbound[Referral[P]]:
    def to_fhir(m: Referral[P], ctx: DecodeContext) -> Decoded:
        recipient = addressed_provider(ctx, m.addressed_to_agb, m.message_id)
        bundle = fhir.referral_bundle(
            hub_message_id=ctx.hub_message_id,
            sender_id=ctx.sender.id,
            partner_message_id=m.message_id,
            sent_at=m.sent_at,
            referrer_agb=m.referrer.identifier,
            referrer_system=m.referrer.system,
            recipient_id=recipient.id,
            recipient_agb=m.addressed_to_agb,
            bsn=m.child.bsn,
            birth_date=m.child.birth_date.isoformat(),
            urgency=m.urgency,
            care_category=m.care_category.value,
            reason=m.reason,
        )
        return Decoded(
            bundle=bundle,
            event=MessageEvent.REFERRAL,
            partner_message_id=m.message_id,
            child_bsn=m.child.bsn,
            recipient=recipient,
            child_birth_date=m.child.birth_date,
        )

    def from_fhir(bundle: Bundle) -> Referral[P]:
        request = fhir.resource(bundle, "ServiceRequest")
        return model(
            type="verwijzing",
            message_id=request["identifier"][0]["value"],
            sent_at=datetime.fromisoformat(request["authoredOn"]),
            referrer=party_of(request["requester"], party),
            child=child_of(fhir.resource(bundle, "Patient")),
            urgency=fhir.URGENCY_OF_PRIORITY[request["priority"]],
            care_category=request["category"][0]["coding"][0]["code"],
            addressed_to_agb=identifier_in(request["performer"][0], AGB_SYSTEM),
            reason=request["reasonCode"][0]["text"],
        )

    return Inbound(model, MessageEvent.REFERRAL, to_fhir, from_fhir)


def referral_notice(bundle: Bundle) -> ReferralNotice:
    """A referral as a WIJ team, OJG or safety house receives it."""
    request = fhir.resource(bundle, "ServiceRequest")
    requester = fs.reference_identifier(request.get("requester"))
    performers = request.get("performer") or [{}]
    addressed = fs.reference_identifier(performers[0])
    bsn, birth_date = fs.person_of(fs.referenced(bundle, request.get("subject", {})))
    authored = request.get("authoredOn")
    reasons = request.get("reasonCode") or [{}]
    return ReferralNotice(
        hub_message_id=bundle["id"],
        referral_id=request["identifier"][0]["value"],
        referrer_partner=fs.source_partner(bundle),
        referrer_agb=_value_in(requester, AGB_SYSTEM),
        referrer_code=_value_in(requester, ORGANISATION_CODE_SYSTEM),
        referred_at=datetime.fromisoformat(authored) if authored else None,
        client=_child_seen(bsn, birth_date),
        urgency=fhir.URGENCY_OF_PRIORITY.get(request.get("priority", "")),
        care_category=fs.code_in((request.get("category") or [None])[0], CARE_CATEGORY_SYSTEM),
        addressed_to_agb=_value_in(addressed, AGB_SYSTEM),
        reason=reasons[0].get("text"),
    )


def _value_in(identifier: fs.Identifier | None, system: str) -> str | None:
    return identifier.value if identifier is not None and identifier.system == system else None


def _child_seen(bsn: str | None, birth_date: date | None) -> ChildSeen | None:
    if bsn is None and birth_date is None:
        return None
    return ChildSeen(bsn=bsn, birth_date=birth_date)


# Signal (huisarts by AGB, ojg by organisation code) -> Flag.


def signal_decoded(
    *, bundle: fhir.FhirDict, message_id: str, child: Child, concern_category: str
) -> Decoded:
    return Decoded(
        bundle=bundle,
        event=MessageEvent.SIGNAL,
        partner_message_id=message_id,
        child_bsn=child.bsn,
        child_birth_date=child.birth_date,
        facts=RoutingFacts(concern_category=concern_category),
    )


def signal_inbound(model: type[Signal[P]], party: type[P]) -> Inbound[Signal[P]]:
    def to_fhir(m: Signal[P], ctx: DecodeContext) -> Decoded:
        bundle = fs.signal_bundle(
            hub_message_id=ctx.hub_message_id,
            sender_id=ctx.sender.id,
            sender=identity(m.sender),
            partner_message_id=m.message_id,
            sent_at=m.sent_at,
            child=(m.child.bsn, m.child.birth_date),
            concern_category=m.concern_category.value,
        )
        return signal_decoded(
            bundle=bundle,
            message_id=m.message_id,
            child=m.child,
            concern_category=m.concern_category.value,
        )

    def from_fhir(bundle: Bundle) -> Signal[P]:
        flag = fhir.resource(bundle, "Flag")
        return model(
            type="signaal",
            message_id=fs.partner_message_id_of(bundle, flag),
            sent_at=datetime.fromisoformat(flag["period"]["start"]),
            sender=sender_party(bundle, party),
            child=child_of(fs.referenced(bundle, flag["subject"])),
            concern_category=fs.code_in(flag["code"], CONCERN_CATEGORY_SYSTEM),
        )

    return Inbound(model, MessageEvent.SIGNAL, to_fhir, from_fhir)


def signal_received(bundle: Bundle) -> Annotated[bytes, SignalReceived]:
    """A signal as a partner receives it (``SignalReceived``); the concern category only if
    the router left it. Written as ``adapters.base.model_json`` does; the annotation names
    the model for the partner contracts (``hub.contracts.catalog``)."""
    flag = fhir.resource(bundle, "Flag")
    bsn, birth_date = fs.person_of(fs.referenced(bundle, flag.get("subject", {})))
    start = flag.get("period", {}).get("start")
    signalled_at = datetime.fromisoformat(start) if start else None
    category = fs.code_in(flag.get("code"), CONCERN_CATEGORY_SYSTEM)
    child = None if bsn is None and birth_date is None else {"bsn": bsn, "birth_date": birth_date}
    fields = {
        "type": "signaal-ontvangen",
        "hub_message_id": bundle["id"],
        "signal_id": fs.partner_message_id_of(bundle, flag) or flag["identifier"][0]["value"],
        "signaller": fs.source_partner(bundle),
        "signalled_at": signalled_at,
        "child": child,
        "concern_category": category,
    }
    plain = (
        plain_texts(fields["hub_message_id"], fields["signal_id"], fields["signaller"])
        and (signalled_at is None or plain_datetime(signalled_at))
        and (bsn is None or is_valid_bsn(bsn))
        and (category is None or category in _CONCERN_CATEGORIES)
    )
    return model_json(SignalReceived, fields, plain)


_CONCERN_CATEGORIES = frozenset(ConcernCategory)


# Consent given and revoked (ojg, wij) -> Consent.


def _consent_given_to_fhir(m: ConsentGiven, ctx: DecodeContext) -> Decoded:
    for i, partner_id in enumerate(m.recipients):
        registered_partner(ctx, partner_id, f"recipients.{i}", m.message_id)
    bundle = fs.consent_bundle(
        hub_message_id=ctx.hub_message_id,
        sender_id=ctx.sender.id,
        sender=identity(m.sender),
        partner_message_id=m.message_id,
        sent_at=m.sent_at,
        consent_id=m.consent_id,
        child=(m.child.bsn, m.child.birth_date),
        given_by=m.given_by,
        purposes=[p.value for p in m.purposes],
        recipients=m.recipients,
        recipient_kinds=[k.value for k in m.recipient_kinds],
        valid_from=m.valid_from,
        valid_until=m.valid_until,
    )
    facts = ConsentFacts(
        consent_id=m.consent_id,
        given_by=m.given_by,
        purposes=tuple(p.value for p in m.purposes),
        recipients=m.recipients,
        recipient_kinds=m.recipient_kinds,
        valid_from=m.valid_from,
        valid_until=m.valid_until,
    )
    return Decoded(
        bundle=bundle,
        event=MessageEvent.CONSENT_GIVEN,
        partner_message_id=m.message_id,
        child_bsn=m.child.bsn,
        child_birth_date=m.child.birth_date,
        facts=RoutingFacts(consent=facts),
    )


def _consent_given_from_fhir(bundle: Bundle) -> ConsentGiven:
    consent = fhir.resource(bundle, "Consent")
    provision = consent["provision"]
    period = provision["period"]
    return ConsentGiven(
        type="toestemming",
        **_message_fields(bundle, consent),
        sender=sender_party(bundle, CodeParty),
        consent_id=fs.identifier_value(consent, fs.CONSENT_ID_SYSTEM),
        child=child_of(fs.referenced(bundle, consent["patient"])),
        given_by=tuple(fs.consent_parties(bundle, consent)),
        purposes=tuple(
            p["code"] for p in provision["purpose"] if p["system"] == CONSENT_PURPOSE_SYSTEM
        ),
        recipients=tuple(
            identifier_in(actor["reference"], fs.PARTNER_ID_SYSTEM)
            for actor in provision.get("actor", [])
        ),
        recipient_kinds=tuple(
            e["valueCode"]
            for e in provision.get("extension", [])
            if e["url"] == fs.RECIPIENT_KIND_URL
        ),
        valid_from=date.fromisoformat(period["start"]),
        valid_until=date.fromisoformat(period["end"]) if "end" in period else None,
    )


CONSENT_GIVEN = Inbound(
    ConsentGiven, MessageEvent.CONSENT_GIVEN, _consent_given_to_fhir, _consent_given_from_fhir
)


def _consent_revoked_to_fhir(m: ConsentRevoked, ctx: DecodeContext) -> Decoded:
    bundle = fs.consent_revocation_bundle(
        hub_message_id=ctx.hub_message_id,
        sender_id=ctx.sender.id,
        sender=identity(m.sender),
        partner_message_id=m.message_id,
        sent_at=m.sent_at,
        consent_id=m.consent_id,
        child=(m.child.bsn, m.child.birth_date),
        revoked_by=m.revoked_by,
    )
    return Decoded(
        bundle=bundle,
        event=MessageEvent.CONSENT_REVOKED,
        partner_message_id=m.message_id,
        child_bsn=m.child.bsn,
        child_birth_date=m.child.birth_date,
        # For a revocation, given_by names who revoked it.
        facts=RoutingFacts(consent=ConsentFacts(consent_id=m.consent_id, given_by=m.revoked_by)),
    )


def _consent_revoked_from_fhir(bundle: Bundle) -> ConsentRevoked:
    consent = fhir.resource(bundle, "Consent")
    return ConsentRevoked(
        type="toestemming-ingetrokken",
        **_message_fields(bundle, consent),
        sender=sender_party(bundle, CodeParty),
        consent_id=fs.identifier_value(consent, fs.CONSENT_ID_SYSTEM),
        child=child_of(fs.referenced(bundle, consent["patient"])),
        revoked_by=tuple(fs.consent_parties(bundle, consent)),
    )


CONSENT_REVOKED = Inbound(
    ConsentRevoked,
    MessageEvent.CONSENT_REVOKED,
    _consent_revoked_to_fhir,
    _consent_revoked_from_fhir,
)


# Regie claim (ojg, wij) -> Task; the other regie messages build on the same helpers.


def regie_task(bundle: Bundle) -> tuple[fhir.FhirDict, dict[str, Any]]:
    """The Task of a regie Bundle and the native fields every regie message shares."""
    task = fhir.resource(bundle, "Task")
    return task, {
        "message_id": fs.partner_message_id_of(bundle, task),
        "sent_at": datetime.fromisoformat(task["authoredOn"]),
        "sender": sender_party(bundle, CodeParty),
        "household": household_native(bundle),
    }


def regie_decoded(
    m: CodeMessage,
    ctx: DecodeContext,
    event: MessageEvent,
    household: Sequence[Child],
    facts: RoutingFacts | None = None,
    **task: str | None,
) -> Decoded:
    """A regie message about ``household`` as a Task Bundle (``task``: what its event adds to
    the Task, see ``fs.regie_bundle``); ``regie_task`` reads one back."""
    bundle = fs.regie_bundle(
        hub_message_id=ctx.hub_message_id,
        event=event,
        sender_id=ctx.sender.id,
        sender=identity(m.sender),
        partner_message_id=m.message_id,
        sent_at=m.sent_at,
        household=children(household),
        **task,
    )
    return household_decoded(
        bundle=bundle, event=event, message_id=m.message_id, household=household, facts=facts
    )


def _claim_to_fhir(m: RegieClaim, ctx: DecodeContext) -> Decoded:
    return regie_decoded(m, ctx, MessageEvent.REGIE_CLAIM, m.household)


def _claim_from_fhir(bundle: Bundle) -> RegieClaim:
    _, fields = regie_task(bundle)
    return RegieClaim(type="regie-claim", **fields)


REGIE_CLAIM = Inbound(RegieClaim, MessageEvent.REGIE_CLAIM, _claim_to_fhir, _claim_from_fhir)


def _household_change_to_fhir(m: HouseholdChange, ctx: DecodeContext) -> Decoded:
    bundle = fs.household_change_bundle(
        hub_message_id=ctx.hub_message_id, sender_id=ctx.sender.id, sender=identity(m.sender),
        partner_message_id=m.message_id, sent_at=m.sent_at, together=children(m.together),
        left=children(m.left),
    )  # fmt: skip
    decoded = household_decoded(
        bundle=bundle, event=MessageEvent.HOUSEHOLD_CHANGE, message_id=m.message_id,
        household=m.together,
    )  # fmt: skip
    return replace(decoded, leaving_bsns=tuple(c.bsn for c in m.left))


def _household_change_from_fhir(bundle: Bundle) -> HouseholdChange:
    _, fields = regie_task(bundle)
    together, left = fs.household_change_of(bundle)
    fields.pop("household")
    return HouseholdChange(
        type="huishouden-wijziging",
        **fields,
        together=tuple(Child.model_validate({"bsn": b, "birth_date": d}) for b, d in together),
        left=tuple(Child.model_validate({"bsn": b, "birth_date": d}) for b, d in left),
    )


HOUSEHOLD_CHANGE = Inbound(
    HouseholdChange, MessageEvent.HOUSEHOLD_CHANGE, _household_change_to_fhir,
    _household_change_from_fhir,
)  # fmt: skip
"""Huishouden-wijziging, sent by WIJ teams and the Veiligheidshuis."""


def transfer_offer_received(bundle: Bundle) -> TransferOfferReceived:
    """A transfer offer as the offered partner receives it."""
    task = fhir.resource(bundle, "Task")
    authored = task.get("authoredOn")
    return TransferOfferReceived(
        hub_message_id=bundle["id"],
        offer_message_id=fs.partner_message_id_of(bundle, task) or task["identifier"][0]["value"],
        from_partner=fs.source_partner(bundle),
        offered_at=datetime.fromisoformat(authored) if authored else None,
        household=tuple(
            seen for bsn, birth in fs.household_of(bundle) if (seen := _child_seen(bsn, birth))
        ),
    )


ORGANISATION_REFERRAL = referral_inbound(OrganisationReferral, CodeParty)
"""A referral from an OJG or a WIJ team."""

SOCIAL_OUTBOUND: Mapping[MessageEvent, Outbound] = {
    MessageEvent.REFERRAL: referral_notice,
    MessageEvent.SIGNAL: signal_received,
    MessageEvent.REGIE_TRANSFER_OFFER: transfer_offer_received,
}
"""What an OJG or a WIJ team receives besides acks and notices."""
