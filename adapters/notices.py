"""The JSON acks, nacks and hub notices every partner kind receives, whatever its own format."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from schemas import fhir
from schemas.codes import MessageEvent, RejectReason
from schemas.notices import AboutPartner, Ack, HubNotice, Nack, OutboxRef


def encode_hub_message(bundle: Mapping[str, Any]) -> bytes | None:
    """The JSON every partner kind receives for a hub ack, nack or notice; None for the rest.

    Every adapter's ``encode`` tries this first, so acks and notices look the same whatever
    a partner's own format is.
    """
    event = fhir.event_of(bundle)
    if event == MessageEvent.ACKNOWLEDGEMENT:
        return _encode_ack(bundle)
    if event == MessageEvent.NOTIFICATION:
        return _encode_notification(bundle)
    return None


def _encode_ack(bundle: Mapping[str, Any]) -> bytes:
    header = fhir.resource(bundle, "MessageHeader")
    outcome = fhir.resource(bundle, "OperationOutcome")
    partner_ids = fhir.extension_values(outcome, fhir.PARTNER_MESSAGE_ID_URL)
    at = datetime.fromisoformat(bundle["timestamp"])
    sources = fhir.extension_values(outcome, fhir.SOURCE_URL)
    source = OutboxRef.parse(sources[0]) if sources else None
    notice: Ack | Nack
    if header["response"]["code"] == "ok":
        notice = Ack(
            in_response_to=partner_ids[0] if partner_ids else "",
            hub_message_id=header["response"]["identifier"],
            delivered_to=tuple(fhir.extension_values(outcome, fhir.DELIVERED_TO_URL)),
            duplicate=any(e["url"] == fhir.DUPLICATE_URL for e in outcome.get("extension", [])),
            at=at,
            source=source,
        )
    else:
        details = outcome["issue"][0]["details"]
        notice = Nack(
            in_response_to=partner_ids[0] if partner_ids else None,
            hub_message_id=header["response"]["identifier"],
            reason_code=RejectReason(details["coding"][0]["code"]),
            reason=details["text"],
            at=at,
            source=source,
        )
    return notice.model_dump_json().encode()


def _encode_notification(bundle: Mapping[str, Any]) -> bytes:
    """The JSON ``hub-melding`` every partner kind receives for a hub notice Bundle."""
    comm = fhir.resource(bundle, "Communication")
    about = [
        AboutPartner(
            partner=a["partner"], name=a.get("name", a["partner"]), contact=a.get("contact")
        )
        for a in fhir.about_partners(comm)
    ]
    regarding = fhir.extension_values(comm, fhir.PARTNER_MESSAGE_ID_URL)
    notice = HubNotice(
        hub_message_id=bundle["id"],
        subject=comm["category"][0]["coding"][0]["code"],
        regarding=regarding[0] if regarding else None,
        about=tuple(about),
        at=datetime.fromisoformat(comm["sent"]),
    )
    return notice.model_dump_json().encode()
