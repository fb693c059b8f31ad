"""Canonical FHIR R4 for the social-domain messages: signals, consent, regie and plans.

Builders make plain dicts like ``schemas.fhir`` does (the adapter validates each Bundle once);
readers get values back out of a Bundle and return ``None`` for anything the router may
have removed (minimisation), so encoders never trip over a missing element.

Mapping: signal -> Flag (code = concern category) · consent -> Consent (status active, or
inactive for a revocation) · regie claim / transfer / close / escalation / de-escalation ->
Task (code from ``REGIE_TASK_SYSTEM``, ``for`` = the household Group of Patients) · plan
update -> CarePlan (subject = the Group, author = the regisseur). Each Bundle starts with a
MessageHeader whose ``focus`` is that resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from schemas.codes import (
    BSN_SYSTEM,
    CONCERN_CATEGORY_SYSTEM,
    CONSENT_PURPOSE_SYSTEM,
    ESCALATION_REASON_SYSTEM,
    EVENT_SYSTEM,
    MessageEvent,
    partner_endpoint,
    partner_message_id_system,
)
from schemas.envelope import ConsentParty
from schemas.fhir import FhirDict, _bundle, _sub_id, _urn, identified, partner_id_of, resource

REGIE_TASK_SYSTEM = "urn:ketenhub:codesystem:regie-task"
"""Task codes for regie: the regie events' codes of ``EVENT_SYSTEM``, as a Task CodeSystem."""
PARTNER_ID_SYSTEM = "urn:ketenhub:naming:partner-id"
"""A partner's id in the hub's registry, for references to partners that have no AGB."""
CONSENT_ID_SYSTEM = "urn:ketenhub:naming:consent-id"
CASUS_ID_SYSTEM = "urn:ketenhub:naming:veiligheidshuis-casus"
RECIPIENT_KIND_URL = "urn:ketenhub:extension:consent-recipient-kind"
"""On Consent.provision: a partner kind every partner of which the consent lets receive."""
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
LOINC_SYSTEM = "http://loinc.org"
PATIENT_CONSENT_LOINC = "59284-0"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ROLE_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
RELATIONSHIP_OF_PARTY = {ConsentParty.PARENT: "PRN", ConsentParty.GUARDIAN: "GUARD"}
PARTY_OF_RELATIONSHIP = {v: k for k, v in RELATIONSHIP_OF_PARTY.items()}

REGIE_TASK_STATUS = {
    MessageEvent.REGIE_CLAIM: "requested",
    MessageEvent.REGIE_TRANSFER_OFFER: "requested",
    MessageEvent.REGIE_TRANSFER_ACCEPT: "accepted",
    MessageEvent.REGIE_TRANSFER_DECLINE: "rejected",
    MessageEvent.REGIE_CLOSE: "completed",
    MessageEvent.ESCALATION: "in-progress",
    MessageEvent.DEESCALATION: "completed",
    MessageEvent.HOUSEHOLD_CHANGE: "completed",
}
"""The Task status each regie event carries; the router decides whether it takes effect."""

Person = tuple[str, date]
"""A child as the builders take it: (BSN, birth date)."""


class Identifier(NamedTuple):
    """How an organisation is identified: its system (AGB, BRIN, organisation code) and value."""

    system: str
    value: str

    def reference(self) -> FhirDict:
        return identified(self.system, self.value)


def partner_reference(partner_id: str) -> FhirDict:
    """A reference to a partner by its hub id (transfer target, consent recipient)."""
    return identified(PARTNER_ID_SYSTEM, partner_id)


class _Message:
    """Collects the entries of one message Bundle, with stable per-message resource ids."""

    def __init__(self, hub_message_id: str) -> None:
        self.hub_message_id = hub_message_id
        self.entries: list[tuple[str, FhirDict]] = []

    def add(self, part: str, resource_type: str, body: FhirDict) -> str:
        resource_id = _sub_id(self.hub_message_id, part)
        self.entries.append(
            (resource_id, {"resourceType": resource_type, "id": resource_id, **body})
        )
        return resource_id

    def patient(self, part: str, person: Person) -> str:
        bsn, birth_date = person
        return self.add(
            part,
            "Patient",
            {
                "identifier": [{"system": BSN_SYSTEM, "value": bsn}],
                "birthDate": birth_date.isoformat(),
            },
        )

    def household(self, children: Sequence[Person]) -> str:
        """Patients and the Group of them; the first member is the child the message is about."""
        members = [self.patient(f"pt{i}", child) for i, child in enumerate(children)]
        return self.add(
            "gr",
            "Group",
            {
                "type": "person",
                "actual": True,
                "quantity": len(members),
                "member": [{"entity": {"reference": _urn(m)}} for m in members],
            },
        )

    def bundle(
        self,
        *,
        event: MessageEvent,
        sender_id: str,
        sender: Identifier,
        focus: str,
        at: datetime,
        destination_id: str | None = None,
    ) -> FhirDict:
        header: FhirDict = {
            "resourceType": "MessageHeader",
            "id": _sub_id(self.hub_message_id, "mh"),
            "eventCoding": {"system": EVENT_SYSTEM, "code": event.value},
            "source": {"endpoint": partner_endpoint(sender_id)},
            "sender": sender.reference(),
            "focus": [{"reference": _urn(focus)}],
        }
        if destination_id is not None:
            header["destination"] = [{"endpoint": partner_endpoint(destination_id)}]
        # The focus right after the header, then what it refers to, as in a referral Bundle.
        entries = sorted(self.entries, key=lambda entry: entry[0] != focus)
        return _bundle(self.hub_message_id, at, [(header["id"], header), *entries])


def _message_identifier(sender_id: str, partner_message_id: str) -> FhirDict:
    return {"system": partner_message_id_system(sender_id), "value": partner_message_id}


def _coding(system: str, code: str) -> FhirDict:
    return {"system": system, "code": code}


def signal_bundle(
    *,
    hub_message_id: str,
    sender_id: str,
    sender: Identifier,
    partner_message_id: str,
    sent_at: datetime,
    child: Person,
    concern_category: str,
    author_role: FhirDict | None = None,
) -> FhirDict:
    """MessageHeader + Flag + Patient (+ the signaller's PractitionerRole, if given).

    The Flag records *that* the sender is concerned (active from ``sent_at``); its code is the
    concern category, which minimisation may replace or drop for some recipients.
    """
    msg = _Message(hub_message_id)
    patient = msg.patient("pt", child)
    author = sender.reference()
    if author_role is not None:
        author = {"reference": _urn(msg.add("pr", "PractitionerRole", author_role))}
    flag = msg.add(
        "fl",
        "Flag",
        {
            "identifier": [_message_identifier(sender_id, partner_message_id)],
            "status": "active",
            "code": {"coding": [_coding(CONCERN_CATEGORY_SYSTEM, concern_category)]},
            "subject": {"reference": _urn(patient)},
            "period": {"start": sent_at.isoformat()},
            "author": author,
        },
    )
    return msg.bundle(
        event=MessageEvent.SIGNAL, sender_id=sender_id, sender=sender, focus=flag, at=sent_at
    )


def _consent_base(
    msg: _Message,
    *,
    sender_id: str,
    sender: Identifier,
    partner_message_id: str,
    sent_at: datetime,
    consent_id: str,
    child: Person,
    parties: Sequence[ConsentParty],
    status: str,
) -> FhirDict:
    """The Consent elements common to giving and revoking; ``parties`` become performers."""
    patient = msg.patient("pt", child)
    performers = []
    for i, party in enumerate(parties):
        if party is ConsentParty.CHILD:
            performers.append({"reference": _urn(patient)})
            continue
        related = msg.add(
            f"rp{i}",
            "RelatedPerson",
            {
                "patient": {"reference": _urn(patient)},
                "relationship": [
                    {"coding": [_coding(ROLE_CODE_SYSTEM, RELATIONSHIP_OF_PARTY[party])]}
                ],
            },
        )
        performers.append({"reference": _urn(related)})
    return {
        "identifier": [
            _message_identifier(sender_id, partner_message_id),
            {"system": CONSENT_ID_SYSTEM, "value": consent_id},
        ],
        "status": status,
        "scope": {"coding": [_coding(CONSENT_SCOPE_SYSTEM, "patient-privacy")]},
        "category": [{"coding": [_coding(LOINC_SYSTEM, PATIENT_CONSENT_LOINC)]}],
        "patient": {"reference": _urn(patient)},
        "dateTime": sent_at.isoformat(),
        "performer": performers,
        "organization": [sender.reference()],
        "policyRule": {"coding": [_coding(ACT_CODE_SYSTEM, "OPTIN")]},
    }


def consent_bundle(
    *,
    hub_message_id: str,
    sender_id: str,
    sender: Identifier,
    partner_message_id: str,
    sent_at: datetime,
    consent_id: str,
    child: Person,
    given_by: Sequence[ConsentParty],
    purposes: Sequence[str],
    recipients: Sequence[str],
    recipient_kinds: Sequence[str],
    valid_from: date,
    valid_until: date | None,
) -> FhirDict:
    """MessageHeader + Consent (active) + Patient + a RelatedPerson per parent or guardian.

    The provision permits sharing for ``purposes`` with ``recipients`` (actors in the role
    IRCP, information recipient, by partner id) and every partner of ``recipient_kinds``
    (extension ``RECIPIENT_KIND_URL``), within ``valid_from``..``valid_until``.
    """
    msg = _Message(hub_message_id)
    consent = _consent_base(
        msg,
        sender_id=sender_id,
        sender=sender,
        partner_message_id=partner_message_id,
        sent_at=sent_at,
        consent_id=consent_id,
        child=child,
        parties=given_by,
        status="active",
    )
    period = {"start": valid_from.isoformat()}
    if valid_until is not None:
        period["end"] = valid_until.isoformat()
    provision: FhirDict = {"type": "permit", "period": period}
    if recipient_kinds:
        provision["extension"] = [
            {"url": RECIPIENT_KIND_URL, "valueCode": kind} for kind in recipient_kinds
        ]
    if recipients:
        provision["actor"] = [
            {
                "role": {"coding": [_coding(PARTICIPATION_TYPE_SYSTEM, "IRCP")]},
                "reference": partner_reference(partner_id),
            }
            for partner_id in recipients
        ]
    provision["purpose"] = [_coding(CONSENT_PURPOSE_SYSTEM, p) for p in purposes]
    focus = msg.add("cs", "Consent", {**consent, "provision": provision})
    return msg.bundle(
        event=MessageEvent.CONSENT_GIVEN,
        sender_id=sender_id,
        sender=sender,
        focus=focus,
        at=sent_at,
    )


def consent_revocation_bundle(
    *,
    hub_message_id: str,
    sender_id: str,
    sender: Identifier,
    partner_message_id: str,
    sent_at: datetime,
    consent_id: str,
    child: Person,
    revoked_by: Sequence[ConsentParty],
) -> FhirDict:
    """MessageHeader + Consent (inactive, same consent id) + Patient; performers revoked it."""
    msg = _Message(hub_message_id)
    consent = _consent_base(
        msg,
        sender_id=sender_id,
        sender=sender,
        partner_message_id=partner_message_id,
        sent_at=sent_at,
        consent_id=consent_id,
        child=child,
        parties=revoked_by,
        status="inactive",
    )
    focus = msg.add("cs", "Consent", consent)
    return msg.bundle(
        event=MessageEvent.CONSENT_REVOKED,
        sender_id=sender_id,
        sender=sender,
        focus=focus,
        at=sent_at,
    )


def regie_bundle(
    *,
    hub_message_id: str,
    event: MessageEvent,
    sender_id: str,
    sender: Identifier,
    partner_message_id: str,
    sent_at: datetime,
    household: Sequence[Person],
    target_id: str | None = None,
    offer_message_id: str | None = None,
    casus_id: str | None = None,
    escalation_reason: str | None = None,
) -> FhirDict:
    """MessageHeader + Task + Group + Patients for a regie event.

    The Task's ``for`` is the household Group; ``requester`` is the sender; ``owner`` is who
    holds regie if the event takes effect: the sender, or ``target_id`` for a transfer offer
    (then also the MessageHeader destination). An answer to an offer is ``basedOn`` the
    offer's message id; a Veiligheidshuis casus id is a second Task identifier.
    """
    msg = _Message(hub_message_id)
    group = msg.household(household)
    identifiers = [_message_identifier(sender_id, partner_message_id)]
    if casus_id is not None:
        identifiers.append({"system": CASUS_ID_SYSTEM, "value": casus_id})
    task: FhirDict = {
        "identifier": identifiers,
        "status": REGIE_TASK_STATUS[event],
        "intent": "proposal" if event is MessageEvent.REGIE_TRANSFER_OFFER else "order",
        "code": {"coding": [_coding(REGIE_TASK_SYSTEM, event.value)]},
        "for": {"reference": _urn(group)},
        "authoredOn": sent_at.isoformat(),
        "requester": sender.reference(),
        "owner": sender.reference() if target_id is None else partner_reference(target_id),
    }
    if offer_message_id is not None:
        task["basedOn"] = [{"type": "Task", "identifier": {"value": offer_message_id}}]
    if escalation_reason is not None:
        task["reasonCode"] = {"coding": [_coding(ESCALATION_REASON_SYSTEM, escalation_reason)]}
    focus = msg.add("tk", "Task", task)
    return msg.bundle(
        event=event,
        sender_id=sender_id,
        sender=sender,
        focus=focus,
        at=sent_at,
        destination_id=target_id,
    )


def household_change_bundle(
    *,
    hub_message_id: str,
    sender_id: str,
    sender: Identifier,
    partner_message_id: str,
    sent_at: datetime,
    together: Sequence[Person],
    left: Sequence[Person],
) -> FhirDict:
    """A regie-style Task Bundle whose Group lists who lives together and, as ``inactive``
    members, the children who left."""
    bundle = regie_bundle(
        hub_message_id=hub_message_id, event=MessageEvent.HOUSEHOLD_CHANGE, sender_id=sender_id,
        sender=sender, partner_message_id=partner_message_id, sent_at=sent_at,
        household=[*together, *left],
    )  # fmt: skip
    group = resource(bundle, "Group")
    for member in group["member"][len(together) :]:
        member["inactive"] = True
    return bundle


def household_change_of(
    bundle: Mapping[str, Any],
) -> tuple[list[tuple[str | None, date | None]], list[tuple[str | None, date | None]]]:
    """(together, left) of a household change Bundle, in Group member order."""
    group = resource(bundle, "Group")
    together: list[tuple[str | None, date | None]] = []
    left: list[tuple[str | None, date | None]] = []
    for member in group.get("member", []):
        person = person_of(referenced(bundle, member["entity"]))
        (left if member.get("inactive") else together).append(person)
    return together, left


def plan_bundle(
    *,
    hub_message_id: str,
    sender_id: str,
    sender: Identifier,
    partner_message_id: str,
    sent_at: datetime,
    household: Sequence[Person],
    summary: str,
) -> FhirDict:
    """MessageHeader + CarePlan (subject = household Group, author = regisseur) + Patients."""
    msg = _Message(hub_message_id)
    group = msg.household(household)
    plan = msg.add(
        "cp",
        "CarePlan",
        {
            "identifier": [_message_identifier(sender_id, partner_message_id)],
            "status": "active",
            "intent": "plan",
            "subject": {"reference": _urn(group)},
            "created": sent_at.isoformat(),
            "author": sender.reference(),
            "description": summary,
        },
    )
    return msg.bundle(
        event=MessageEvent.PLAN_UPDATE, sender_id=sender_id, sender=sender, focus=plan, at=sent_at
    )


# Readers. They return None for what is absent, because minimisation may have removed it.


def optional_resource(bundle: Mapping[str, Any], resource_type: str) -> FhirDict | None:
    try:
        return resource(bundle, resource_type)
    except KeyError:
        return None


def referenced(bundle: Mapping[str, Any], reference: Mapping[str, Any]) -> FhirDict | None:
    """The Bundle entry a ``urn:uuid`` reference points at, if it is (still) there."""
    target = reference.get("reference")
    for entry in bundle.get("entry", []):
        if entry.get("fullUrl") == target:
            return dict(entry["resource"])
    return None


def source_partner(bundle: Mapping[str, Any]) -> str:
    """The sending partner's id, from the MessageHeader source endpoint."""
    return partner_id_of(resource(bundle, "MessageHeader")["source"]["endpoint"])


def sender_identifier(bundle: Mapping[str, Any]) -> Identifier | None:
    return reference_identifier(resource(bundle, "MessageHeader").get("sender"))


def reference_identifier(reference: Mapping[str, Any] | None) -> Identifier | None:
    identifier = (reference or {}).get("identifier")
    if not identifier or "system" not in identifier or "value" not in identifier:
        return None
    return Identifier(str(identifier["system"]), str(identifier["value"]))


def identifier_value(res: Mapping[str, Any], system: str) -> str | None:
    return next(
        (str(i["value"]) for i in res.get("identifier", []) if i.get("system") == system), None
    )


def partner_message_id_of(bundle: Mapping[str, Any], res: Mapping[str, Any]) -> str | None:
    """The sender's own message id, as identifier of the message's focus resource."""
    return identifier_value(res, partner_message_id_system(source_partner(bundle)))


def code_in(concept: Mapping[str, Any] | None, system: str) -> str | None:
    """The code of ``concept``'s first coding in ``system``."""
    codings = (concept or {}).get("coding", [])
    return next((str(c["code"]) for c in codings if c.get("system") == system), None)


def person_of(patient: Mapping[str, Any] | None) -> tuple[str | None, date | None]:
    """(BSN, birth date) of a Patient; either may be missing after minimisation."""
    if patient is None:
        return None, None
    birth = patient.get("birthDate")
    return (
        identifier_value(patient, BSN_SYSTEM),
        date.fromisoformat(birth) if birth else None,
    )


def household_of(bundle: Mapping[str, Any]) -> list[tuple[str | None, date | None]]:
    """The household's children in Group member order (the message's child first)."""
    group = optional_resource(bundle, "Group")
    if group is None:
        return []
    return [person_of(referenced(bundle, member["entity"])) for member in group.get("member", [])]


def consent_parties(bundle: Mapping[str, Any], consent: Mapping[str, Any]) -> list[ConsentParty]:
    """Who signed (or revoked): the Patient is the child, RelatedPersons parent or guardian."""
    parties = []
    for performer in consent.get("performer", []):
        res = referenced(bundle, performer) or {}
        if res.get("resourceType") == "Patient":
            parties.append(ConsentParty.CHILD)
            continue
        for relationship in res.get("relationship", []):
            code = code_in(relationship, ROLE_CODE_SYSTEM)
            if code in PARTY_OF_RELATIONSHIP:
                parties.append(PARTY_OF_RELATIONSHIP[code])
    return parties
