"""The JSON acks, nacks and hub notices every partner kind receives, whatever its own format."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

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


def encode_response(
    *,
    in_response_to: str,
    partner_message_id: str | None,
    at: datetime,
    delivered_to: tuple[str, ...] = (),
    reject: RejectReason | None = None,
    reason: str = "",
    duplicate: bool = False,
    source: str | None = None,
) -> bytes:
    """``encode_hub_message(fhir.response_bundle(...))`` of the same values, byte for byte,
    without the Bundle in between (and its three derived ids) nor the models.

    The route stage answers every message with an ack or nack: for a built-in adapter it
    needs only these bytes. A property test holds the two paths equal for every built-in
    adapter; ``source`` other than ``topic:partition:offset`` takes the model path.
    """
    ref = _outbox_ref(source) if source is not None else None
    if source is not None and ref is None:
        return _encode_ack(
            fhir.response_bundle(
                hub_message_id=_UNUSED_ID, in_response_to=in_response_to,
                partner_message_id=partner_message_id, recipient_id="-", at=at,
                delivered_to=delivered_to, reject=reject, reason=reason,
                duplicate=duplicate, source=source,
            )
        )  # fmt: skip
    if reject is None:
        notice: dict[str, Any] = {
            "type": "ack",
            "in_response_to": partner_message_id if partner_message_id is not None else "",
            "hub_message_id": in_response_to,
            "delivered_to": delivered_to,
            "duplicate": duplicate,
            "at": at,
            "source": ref,
        }
    else:
        notice = {
            "type": "nack",
            "in_response_to": partner_message_id,
            "hub_message_id": in_response_to,
            "reason_code": reject.value,
            "reason": reason,
            "at": at,
            "source": ref,
        }
    return orjson.dumps(notice, option=orjson.OPT_UTC_Z)


_UNUSED_ID = "00000000-0000-0000-0000-000000000000"
"""The Bundle's own ids, which an ack or nack does not carry."""


def _outbox_ref(source: str) -> dict[str, Any] | None:
    """``OutboxRef.parse(source).model_dump()`` for the usual case; None for the rest."""
    topic, _, rest = source.partition(":")
    partition, _, offset = rest.partition(":")
    if not (partition.isdigit() and offset.isdigit() and partition.isascii() and offset.isascii()):
        return None
    if ":" in offset or not topic or len(partition) > 9 or len(offset) > 18:
        return None  # orjson writes 64-bit integers only
    return {"topic": topic, "partition": int(partition), "offset": int(offset)}


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
