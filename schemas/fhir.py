"""Canonical FHIR R4 message Bundles, built and read as plain dicts.

The hub builds Bundles as dicts and validates them once with fhir.resources (R4B models, which
match R4 for these resources) at the boundary where they are made; everything downstream reads
the dict. That keeps full FHIR validity without paying for model objects twice per message.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final

import fhir_core.types
import orjson
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from schemas.codes import (
    AGB_SYSTEM,
    BSN_SYSTEM,
    CARE_CATEGORY_SYSTEM,
    EVENT_SYSTEM,
    REJECT_SYSTEM,
    MessageEvent,
    RejectReason,
    Urgency,
    partner_endpoint,
    partner_message_id_system,
)
from schemas.fhir_validation import FhirValidator
from schemas.ids import derived_id

FhirDict = dict[str, Any]

PRIORITY_OF_URGENCY = {Urgency.ROUTINE: "routine", Urgency.URGENT: "urgent", Urgency.CRISIS: "stat"}
URGENCY_OF_PRIORITY = {v: k for k, v in PRIORITY_OF_URGENCY.items()}
HUB_ENDPOINT = "urn:ketenhub:hub"
PARTNER_MESSAGE_ID_URL = "urn:ketenhub:extension:partner-message-id"
DELIVERED_TO_URL = "urn:ketenhub:extension:delivered-to"
DUPLICATE_URL = "urn:ketenhub:extension:duplicate"
SOURCE_URL = "urn:ketenhub:extension:source"
"""On an ack or nack: the outbox record it answers, as ``topic:partition:offset``."""
ABOUT_PARTNER_URL = "urn:ketenhub:extension:about-partner"
NOTICE_SYSTEM = "urn:ketenhub:codesystem:notice-subject"


_FHIR_TYPES = vars(fhir_core.types)
_import_string: Callable[[Any], Any] | None = _FHIR_TYPES.get("import_string")


@functools.cache
def _model_class(dotted_path: str) -> Any:
    assert _import_string is not None
    return _import_string(dotted_path)


def _cached_import_string(value: Any) -> Any:
    assert _import_string is not None
    return _model_class(value) if isinstance(value, str) else _import_string(value)


# fhir.resources finds the model class of every resource in a Bundle by its dotted name, and
# pydantic resolves that name through importlib each time: 10-20 % of a Bundle's validation.
# The classes never change, so each name is resolved once. Validation itself is untouched.
if _import_string is not None:  # another fhir.resources release may not have this seam
    _FHIR_TYPES["import_string"] = _cached_import_string


class FhirInvalidError(ValueError):
    """A Bundle the hub built or received is not valid FHIR; the text names paths, not values."""


_BUNDLES: Final = FhirValidator(Bundle)
"""The one Bundle validator, whose plans per Bundle shape are a cache like the one above.

Shared by every caller so each shape is planned once per process; it never changes a result.
"""


def validate_bundle(bundle: Mapping[str, Any]) -> None:
    """Validate the whole Bundle, every resource inside it included, against FHIR R4."""
    try:
        _BUNDLES.validate(bundle)
    except ValidationError as exc:
        paths = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
        raise FhirInvalidError("invalid FHIR at " + ", ".join(paths[:5])) from None
    # fhir.resources does not enforce this rule of FHIR's string type; a NUL byte in a
    # referral's text would reach the provider's system (and break many databases there).
    if not _may_hold_control_characters(bundle):
        return
    bad = sorted(_control_character_paths(bundle, ""))
    if bad:
        raise FhirInvalidError("control characters in FHIR strings at " + ", ".join(bad[:5]))


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Characters FHIR strings must not hold: below U+0020 except tab, line feed, carriage return."""
_ESCAPED_CONTROL = re.compile(rb"(?<!\\)(?:\\\\)*\\(?:b|f|u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]))")
"""Those characters as JSON escapes in orjson's output (an escaped backslash is no escape)."""


def _may_hold_control_characters(bundle: Mapping[str, Any]) -> bool:
    """A quick scan of the serialised Bundle: walking every string costs ten times more.

    True when the slow walk must decide (a hit may be in a key, which the walk ignores).
    """
    try:
        raw = orjson.dumps(bundle)
    except TypeError:  # not plain JSON data: let the walk look
        return True
    if b"\\u00" not in raw and b"\\b" not in raw and b"\\f" not in raw:
        return False  # the usual case, found at memchr speed; the pattern is slower
    return _ESCAPED_CONTROL.search(raw) is not None


def _control_character_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if _CONTROL.search(value):
            yield path or "(bundle)"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _control_character_paths(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _control_character_paths(item, f"{path}.{index}")


def _urn(resource_id: str) -> str:
    return f"urn:uuid:{resource_id}"


def _sub_id(hub_message_id: str, part: str) -> str:
    """A stable UUID per resource of a message, so fullUrls are real ``urn:uuid``s."""
    return derived_id(hub_message_id, part)


def _agb(value: str) -> FhirDict:
    return identified(AGB_SYSTEM, value)


def identified(system: str, value: str) -> FhirDict:
    """A logical Reference by identifier, e.g. to an organisation by its AGB code."""
    return {"identifier": {"system": system, "value": value}}


def referral_bundle(
    *,
    hub_message_id: str,
    sender_id: str,
    partner_message_id: str,
    sent_at: datetime,
    referrer_agb: str,
    recipient_id: str,
    recipient_agb: str,
    bsn: str,
    birth_date: str,
    urgency: Urgency,
    care_category: str,
    reason: str,
    referrer_system: str = AGB_SYSTEM,
) -> FhirDict:
    """MessageHeader + ServiceRequest + Patient for a referral to youth care.

    ``referrer_agb`` is the referrer's identifier in ``referrer_system``: an AGB code for a GP,
    an organisation code for an OJG or a WIJ team.
    """
    header_id, request_id, patient_id = (_sub_id(hub_message_id, n) for n in ("mh", "sr", "pt"))
    header = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "eventCoding": {"system": EVENT_SYSTEM, "code": MessageEvent.REFERRAL.value},
        "source": {"endpoint": partner_endpoint(sender_id)},
        "sender": identified(referrer_system, referrer_agb),
        "destination": [
            {"endpoint": partner_endpoint(recipient_id), "receiver": _agb(recipient_agb)}
        ],
        "focus": [{"reference": _urn(request_id)}],
    }
    request = {
        "resourceType": "ServiceRequest",
        "id": request_id,
        "identifier": [
            {"system": partner_message_id_system(sender_id), "value": partner_message_id}
        ],
        "status": "active",
        "intent": "order",
        "category": [{"coding": [{"system": CARE_CATEGORY_SYSTEM, "code": care_category}]}],
        "priority": PRIORITY_OF_URGENCY[urgency],
        "subject": {"reference": _urn(patient_id)},
        "authoredOn": sent_at.isoformat(),
        "requester": identified(referrer_system, referrer_agb),
        "performer": [_agb(recipient_agb)],
        "reasonCode": [{"text": reason}],
    }
    patient = {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [{"system": BSN_SYSTEM, "value": bsn}],
        "birthDate": birth_date,
    }
    return _bundle(
        hub_message_id, sent_at, [(header_id, header), (request_id, request), (patient_id, patient)]
    )


def response_bundle(
    *,
    hub_message_id: str,
    in_response_to: str,
    partner_message_id: str | None,
    recipient_id: str,
    at: datetime,
    delivered_to: tuple[str, ...] = (),
    reject: RejectReason | None = None,
    reason: str = "",
    duplicate: bool = False,
    source: str | None = None,
) -> FhirDict:
    """An acknowledgement (``reject`` None) or a nack with an OperationOutcome.

    ``in_response_to`` is the hub's id of the original message; the partner's own id, the
    outbox record answered (``source``, ``topic:partition:offset``: the one reference a
    partner has for bytes the hub could not read) and the recipients reached travel as
    extensions on the OperationOutcome.
    """
    header_id, outcome_id = _sub_id(hub_message_id, "mh"), _sub_id(hub_message_id, "oo")
    header: FhirDict = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "eventCoding": {"system": EVENT_SYSTEM, "code": MessageEvent.ACKNOWLEDGEMENT.value},
        "source": {"endpoint": HUB_ENDPOINT},
        "destination": [{"endpoint": partner_endpoint(recipient_id)}],
        "response": {
            "identifier": in_response_to,
            "code": "ok" if reject is None else "fatal-error",
        },
        "focus": [{"reference": _urn(outcome_id)}],
    }
    issue: FhirDict
    if reject is None:
        issue = {
            "severity": "information",
            "code": "informational",
            "diagnostics": "accepted and delivered",
        }
    else:
        issue = {
            "severity": "error",
            "code": "invalid" if reject is not RejectReason.NO_LEGAL_BASIS else "forbidden",
            "details": {
                "coding": [{"system": REJECT_SYSTEM, "code": reject.value}],
                "text": reason,
            },
        }
    outcome: FhirDict = {"resourceType": "OperationOutcome", "id": outcome_id, "issue": [issue]}
    if partner_message_id is not None:
        outcome["extension"] = [{"url": PARTNER_MESSAGE_ID_URL, "valueString": partner_message_id}]
    if delivered_to:
        outcome["extension"] = [
            *outcome.get("extension", []),
            *({"url": DELIVERED_TO_URL, "valueString": d} for d in delivered_to),
        ]
    if duplicate:
        outcome["extension"] = [
            *outcome.get("extension", []),
            {"url": DUPLICATE_URL, "valueBoolean": True},
        ]
    if source is not None:
        outcome["extension"] = [
            *outcome.get("extension", []),
            {"url": SOURCE_URL, "valueString": source},
        ]
    return _bundle(hub_message_id, at, [(header_id, header), (outcome_id, outcome)])


def notification_bundle(
    *,
    hub_message_id: str,
    recipient_id: str,
    at: datetime,
    subject: str,
    about: tuple[tuple[str, str, str | None], ...] = (),
    regarding: str | None = None,
) -> FhirDict:
    """A hub notice as MessageHeader + Communication.

    ``about`` lists (partner id, organisation name, organisation contact) of the partners the
    recipient should know of; ``regarding`` is the recipient's own message id it concerns.
    Nothing in it names or describes a person.
    """
    header_id, comm_id = _sub_id(hub_message_id, "mh"), _sub_id(hub_message_id, "cm")
    header: FhirDict = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "eventCoding": {"system": EVENT_SYSTEM, "code": MessageEvent.NOTIFICATION.value},
        "source": {"endpoint": HUB_ENDPOINT},
        "destination": [{"endpoint": partner_endpoint(recipient_id)}],
        "focus": [{"reference": _urn(comm_id)}],
    }
    extensions: list[FhirDict] = [
        {
            "url": ABOUT_PARTNER_URL,
            "extension": [
                {"url": "partner", "valueString": partner_id},
                {"url": "name", "valueString": name},
                *([{"url": "contact", "valueString": contact}] if contact else []),
            ],
        }
        for partner_id, name, contact in about
    ]
    if regarding is not None:
        extensions.append({"url": PARTNER_MESSAGE_ID_URL, "valueString": regarding})
    communication: FhirDict = {
        "resourceType": "Communication",
        "id": comm_id,
        "status": "completed",
        "category": [{"coding": [{"system": NOTICE_SYSTEM, "code": subject}]}],
        "sent": at.isoformat(),
        "payload": [
            {"contentString": f"{name} ({contact})" if contact else name}
            for _, name, contact in about
        ]
        or [{"contentString": subject}],
    }
    if extensions:
        communication["extension"] = extensions
    return _bundle(hub_message_id, at, [(header_id, header), (comm_id, communication)])


def _bundle(bundle_id: str, at: datetime, entries: list[tuple[str, FhirDict]]) -> FhirDict:
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "type": "message",
        "timestamp": at.isoformat(),
        "entry": [{"fullUrl": _urn(rid), "resource": res} for rid, res in entries],
    }


def resource(bundle: Mapping[str, Any], resource_type: str) -> FhirDict:
    """The first resource of that type in a Bundle; KeyError when absent."""
    for entry in bundle.get("entry", []):
        if entry["resource"]["resourceType"] == resource_type:
            return dict(entry["resource"])
    raise KeyError(resource_type)


def partner_id_of(endpoint: str) -> str:
    """Inverse of ``partner_endpoint``."""
    return endpoint.rsplit(":", 1)[-1]


def event_of(bundle: Mapping[str, Any]) -> str:
    return str(resource(bundle, "MessageHeader")["eventCoding"]["code"])


def about_partners(res: Mapping[str, Any]) -> list[dict[str, str]]:
    """The (partner, name, contact) sub-extensions of a notice's about-partner extensions."""
    return [
        {sub["url"]: str(sub["valueString"]) for sub in e.get("extension", [])}
        for e in res.get("extension", [])
        if e["url"] == ABOUT_PARTNER_URL
    ]


def extension_values(res: Mapping[str, Any], url: str) -> list[str]:
    return [str(e["valueString"]) for e in res.get("extension", []) if e["url"] == url]
