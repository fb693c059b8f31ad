"""Youth-care providers (aanbieder): receive referrals and acknowledgements as JSON.

Their own messages to the hub are iJw XML (JW315 request for assignment, JW305/JW307 start
and end of care); until that adapter lands, anything they send is rejected as unsupported.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from adapters.base import AdapterError, DecodeContext, Decoded
from adapters.notices import encode_notice
from schemas import fhir
from schemas.aanbieder import ReferralReceived, ReferredClient
from schemas.codes import AGB_SYSTEM, BSN_SYSTEM, MessageEvent, RejectReason


class AanbiederAdapter:
    name = "aanbieder"

    def decode(self, payload: bytes, ctx: DecodeContext) -> Decoded:
        raise AdapterError(
            RejectReason.UNSUPPORTED_TYPE,
            "the hub does not accept iJw messages from providers yet",
        )

    def encode(self, bundle: Mapping[str, Any]) -> bytes:
        event = fhir.event_of(bundle)
        if event == MessageEvent.ACKNOWLEDGEMENT:
            return encode_notice(bundle)
        if event == MessageEvent.REFERRAL:
            return _encode_referral(bundle).model_dump_json().encode()
        raise AdapterError(RejectReason.UNSUPPORTED_TYPE, f"aanbieder cannot receive {event}")


def _encode_referral(bundle: Mapping[str, Any]) -> ReferralReceived:
    header = fhir.resource(bundle, "MessageHeader")
    request = fhir.resource(bundle, "ServiceRequest")
    patient = fhir.resource(bundle, "Patient")
    bsn = next(i["value"] for i in patient["identifier"] if i["system"] == BSN_SYSTEM)
    requester = request["requester"]["identifier"]
    if requester["system"] != AGB_SYSTEM:
        raise AdapterError(RejectReason.SCHEMA_INVALID, "requester is not identified by AGB")
    return ReferralReceived(
        hub_message_id=bundle["id"],
        referral_id=request["identifier"][0]["value"],
        referrer_agb=requester["value"],
        referrer_partner=fhir.partner_id_of(header["source"]["endpoint"]),
        referred_at=datetime.fromisoformat(bundle["timestamp"]),
        client=ReferredClient(bsn=bsn, birth_date=date.fromisoformat(patient["birthDate"])),
        urgency=fhir.URGENCY_OF_PRIORITY[request["priority"]],
        care_category=request["category"][0]["coding"][0]["code"],
        reason=request["reasonCode"][0]["text"],
    )
