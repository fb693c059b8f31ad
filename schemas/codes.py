"""Identifier systems, the hub's message-event CodeSystem and its reject reason codes."""

from __future__ import annotations

from enum import StrEnum

BSN_SYSTEM = "http://fhir.nl/fhir/NamingSystem/bsn"
AGB_SYSTEM = "http://fhir.nl/fhir/NamingSystem/agb-z"
EVENT_SYSTEM = "urn:ketenhub:codesystem:message-event"
CARE_CATEGORY_SYSTEM = "urn:ketenhub:codesystem:jeugdhulp-categorie"
REJECT_SYSTEM = "urn:ketenhub:codesystem:reject-reason"


def partner_endpoint(partner_id: str) -> str:
    """The MessageHeader endpoint URI that names a partner inside the hub."""
    return f"urn:ketenhub:partner:{partner_id}"


def partner_message_id_system(partner_id: str) -> str:
    """Identifier system for the message ids a partner assigns itself."""
    return f"urn:ketenhub:partner:{partner_id}:message-id"


class MessageEvent(StrEnum):
    """Codes of the hub's message-event CodeSystem (``EVENT_SYSTEM``)."""

    REFERRAL = "referral"
    """A referral to (youth) care: FHIR ServiceRequest."""
    SIGNAL = "signal"
    """A concern signal (zorgsignaal, Verwijsindex-style): FHIR Flag; records only *that* a
    professional is involved, never the content."""
    CONSENT_GIVEN = "consent-given"
    CONSENT_REVOKED = "consent-revoked"
    REGIE_CLAIM = "regie-claim"
    REGIE_TRANSFER_OFFER = "regie-transfer-offer"
    REGIE_TRANSFER_ACCEPT = "regie-transfer-accept"
    REGIE_TRANSFER_DECLINE = "regie-transfer-decline"
    REGIE_CLOSE = "regie-close"
    ESCALATION = "escalation"
    """Veiligheidshuis opschalen: takes regie of a household."""
    DEESCALATION = "de-escalation"
    """Veiligheidshuis afschalen: hands regie back."""
    PLAN_UPDATE = "plan-update"
    HOUSEHOLD_CHANGE = "household-change"
    """Huishouden-wijziging (WIJ team or Veiligheidshuis): children now together, who left."""
    ASSIGNMENT_REQUEST = "assignment-request"
    """iJw JW315: a provider asks for an assignment (verzoek om toewijzing)."""
    ASSIGNMENT_REQUEST_ANSWER = "assignment-request-answer"
    """iJw JW316: the retourbericht on a JW315 (its WJ001 retourcodes)."""
    ASSIGNMENT = "assignment"
    """iJw JW301: the assignment (toewijzing)."""
    ASSIGNMENT_RECEIPT = "assignment-receipt"
    """iJw JW302: the provider's return message (retourbericht) for a JW301."""
    CARE_START = "care-start"
    """iJw JW305: start of care."""
    CARE_END = "care-end"
    """iJw JW307: end of care."""
    CARE_START_RECEIPT = "care-start-receipt"
    """iJw JW306: the retourbericht on a JW305."""
    CARE_END_RECEIPT = "care-end-receipt"
    """iJw JW308: the retourbericht on a JW307."""
    ASSIGNMENT_CHANGE_REQUEST = "assignment-change-request"
    """iJw JW317: a provider asks to change an assignment (verzoek om wijziging)."""
    ASSIGNMENT_CHANGE_REQUEST_RECEIPT = "assignment-change-request-receipt"
    """iJw JW318: the retourbericht on a JW317."""
    REQUEST_ANSWER = "request-answer"
    """iJw JW319: the municipality's yes or no on a JW315 or JW317 (antwoordbericht)."""
    REQUEST_ANSWER_RECEIPT = "request-answer-receipt"
    """iJw JW320: the retourbericht on a JW319."""
    CLAIM = "claim"
    """iJw JW323: a provider's declaratie (FHIR Claim)."""
    CLAIM_RESPONSE = "claim-response"
    """iJw JW325: the municipality's declaratie-antwoord (FHIR ClaimResponse)."""
    ACKNOWLEDGEMENT = "acknowledgement"
    """The hub's ack or nack to a sender: MessageHeader.response + OperationOutcome."""
    NOTIFICATION = "notification"
    """A hub notice: who the regisseur is, a regie conflict, a signal match."""


class CareCategory(StrEnum):
    """Requested youth-care category (a simplified subset of the iJw product categories)."""

    JEUGD_GGZ = "jeugd-ggz"
    JEUGDHULP_AMBULANT = "jeugdhulp-ambulant"
    JEUGDHULP_VERBLIJF = "jeugdhulp-verblijf"
    DYSLEXIE = "dyslexie"
    JEUGD_LVB = "jeugd-lvb"


class Urgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    CRISIS = "crisis"


class RejectReason(StrEnum):
    """Why a message was not accepted; sent to the partner in a nack and kept in the DLQ.

    The codes are stable API for partners: add new ones, never rename.
    """

    PAYLOAD_TOO_LARGE = "payload-too-large"
    MALFORMED = "malformed"
    UNSUPPORTED_TYPE = "unsupported-type"
    SCHEMA_INVALID = "schema-invalid"
    INVALID_BSN = "invalid-bsn"
    UNKNOWN_PARTNER = "unknown-partner"
    UNKNOWN_RECIPIENT = "unknown-recipient"
    SENDER_MISMATCH = "sender-mismatch"
    NO_LEGAL_BASIS = "no-legal-basis"
    INTERNAL_ERROR = "internal-error"
    OUT_OF_SCOPE = "out-of-scope"
    CONSENT_INCOMPLETE = "consent-incomplete"
    UNKNOWN_CONSENT = "unknown-consent"
    REGIE_CONFLICT = "regie-conflict"
    NOT_REGISSEUR = "not-regisseur"
    NO_PENDING_TRANSFER = "no-pending-transfer"
    XML_UNSAFE = "xml-unsafe"
    """XML with a DOCTYPE or ENTITY declaration (entity expansion, external entities)."""


CONCERN_CATEGORY_SYSTEM = "urn:ketenhub:codesystem:concern-category"
CONSENT_PURPOSE_SYSTEM = "urn:ketenhub:codesystem:consent-purpose"
ESCALATION_REASON_SYSTEM = "urn:ketenhub:codesystem:escalation-reason"


class ConcernCategory(StrEnum):
    """What a concern signal (zorgsignaal) is about, in the hub's concern CodeSystem.

    A category, never a diagnosis: it is what a school may say and what the router may drop.
    """

    VERZUIM = "verzuim"
    GEDRAG = "gedrag"
    THUISSITUATIE = "thuissituatie"
    ONTWIKKELING = "ontwikkeling"
    WELZIJN = "welzijn"
    OPVOEDING = "opvoeding"
    VEILIGHEID = "veiligheid"


class ConsentPurpose(StrEnum):
    """What a consent allows sharing for; the policy's ``purpose`` of a consent flow."""

    VERWIJZING = "verwijzing"
    REGIE = "regie"
    SIGNAAL_DELEN = "signaal-delen"
    ZORGCOORDINATIE = "zorgcoordinatie"


class EscalationReason(StrEnum):
    """Why the Veiligheidshuis takes a household up (opschalen)."""

    HUISELIJK_GEWELD = "huiselijk-geweld"
    KINDERMISHANDELING = "kindermishandeling"
    ZORGEN_VEILIGHEID = "zorgen-veiligheid"
    JEUGDCRIMINALITEIT = "jeugdcriminaliteit"


BRIN_SYSTEM = "urn:ketenhub:naming:brin"
"""A school's BRIN number (DUO); the hub's own URI, as no fhir.nl NamingSystem exists for it."""
ORGANISATION_CODE_SYSTEM = "urn:ketenhub:naming:organisation-code"
"""The organisation code the hub registers for partners without an AGB or BRIN (OJG, WIJ, ...)."""
