"""Youth-care providers (aanbieder): iJw XML with the RIGG, referrals and notices as JSON.

They send iJw 3.2 XML (JW315 request for assignment, JW317 request for change, JW305 and JW307
start and end of care, JW323 declaratie, and the retours JW302 and JW320 on what the RIGG sent)
and receive JW301 assignments, JW319 answers, JW325 declaratie answers and the retours JW316,
JW306, JW308 and JW318, plus referrals and acknowledgements as JSON. See ``adapters.ijw``
and ``schemas/ijw``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from adapters import ijw
from adapters.base import (
    AdapterError,
    DecodeContext,
    Decoded,
    model_json,
    plain_datetime,
    plain_texts,
)
from adapters.notices import encode_hub_message
from schemas import fhir
from schemas.aanbieder import ReferralReceived
from schemas.bsn import is_valid_bsn
from schemas.codes import AGB_SYSTEM, BSN_SYSTEM, CareCategory, MessageEvent, RejectReason
from schemas.ijw import FROM_MUNICIPALITY, FROM_PROVIDER

SENDS = FROM_PROVIDER
"""The iJw messages a provider sends to the hub."""
RECEIVES = FROM_MUNICIPALITY
"""The iJw messages a provider receives from the hub."""
_RECEIVED_EVENTS = frozenset(b.event for b in RECEIVES)


class AanbiederAdapter:
    name = "aanbieder"

    def decode(self, payload: bytes, ctx: DecodeContext) -> Decoded:
        return ijw.decode(payload, ctx, SENDS)

    def encode(self, bundle: Mapping[str, Any]) -> bytes:
        hub_message = encode_hub_message(bundle)
        if hub_message is not None:
            return hub_message
        event = fhir.event_of(bundle)
        if event == MessageEvent.REFERRAL:
            return _encode_referral(bundle)
        if event in _RECEIVED_EVENTS:
            return ijw.encode(bundle, RECEIVES)
        raise AdapterError(RejectReason.UNSUPPORTED_TYPE, f"aanbieder cannot receive {event}")


def _encode_referral(bundle: Mapping[str, Any]) -> bytes:
    """The ``ReferralReceived`` of a referral Bundle (see ``adapters.base.model_json``)."""
    header = fhir.resource(bundle, "MessageHeader")
    request = fhir.resource(bundle, "ServiceRequest")
    patient = fhir.resource(bundle, "Patient")
    bsn = next(i["value"] for i in patient["identifier"] if i["system"] == BSN_SYSTEM)
    requester = request["requester"]["identifier"]
    by_agb = requester["system"] == AGB_SYSTEM
    referred_at = datetime.fromisoformat(bundle["timestamp"])
    care_category = request["category"][0]["coding"][0]["code"]
    fields = {
        "type": "verwijzing-ontvangen",
        "hub_message_id": bundle["id"],
        "referral_id": request["identifier"][0]["value"],
        "referrer_agb": requester["value"] if by_agb else None,
        "referrer_code": None if by_agb else requester["value"],
        "referrer_partner": fhir.partner_id_of(header["source"]["endpoint"]),
        "referred_at": referred_at,
        "client": {"bsn": bsn, "birth_date": date.fromisoformat(patient["birthDate"])},
        "urgency": fhir.URGENCY_OF_PRIORITY[request["priority"]],
        "care_category": care_category,
        "reason": request["reasonCode"][0]["text"],
    }
    plain = (
        plain_texts(bundle["id"], fields["referral_id"], requester["value"], bsn)
        and plain_texts(fields["referrer_partner"], fields["reason"], care_category)
        and care_category in _CARE_CATEGORIES
        and is_valid_bsn(bsn)
        and plain_datetime(referred_at)
    )
    return model_json(ReferralReceived, fields, plain)


_CARE_CATEGORIES = frozenset(CareCategory)
