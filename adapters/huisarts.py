"""GP practices (huisarts): native JSON referrals in, acknowledgements and referrals out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from adapters.base import AdapterError, DecodeContext, Decoded, parse_json_model
from adapters.notices import encode_notice
from schemas import fhir
from schemas.codes import AGB_SYSTEM, BSN_SYSTEM, MessageEvent, RejectReason
from schemas.huisarts import Child, HuisartsReferral, Referrer
from schemas.partners import PartnerKind

_INBOUND = {"verwijzing": HuisartsReferral}


class HuisartsAdapter:
    name = "huisarts"

    def decode(self, payload: bytes, ctx: DecodeContext) -> Decoded:
        referral = parse_json_model(payload, _INBOUND)
        if ctx.sender.agb != referral.referrer.agb:
            raise AdapterError(
                RejectReason.SENDER_MISMATCH,
                "referrer.agb is not the AGB code registered for the sending partner",
                referral.message_id,
            )
        recipient = ctx.registry.by_agb(referral.addressed_to_agb)
        if recipient is None or recipient.kind is not PartnerKind.AANBIEDER:
            raise AdapterError(
                RejectReason.UNKNOWN_RECIPIENT,
                "addressed_to_agb is not a youth-care provider known to the hub",
                referral.message_id,
            )
        bundle = fhir.referral_bundle(
            hub_message_id=ctx.hub_message_id,
            sender_id=ctx.sender.id,
            partner_message_id=referral.message_id,
            sent_at=referral.sent_at,
            referrer_agb=referral.referrer.agb,
            recipient_id=recipient.id,
            recipient_agb=referral.addressed_to_agb,
            bsn=referral.child.bsn,
            birth_date=referral.child.birth_date.isoformat(),
            urgency=referral.urgency,
            care_category=referral.care_category.value,
            reason=referral.reason,
        )
        fhir.validate_bundle(bundle)
        return Decoded(
            bundle=bundle,
            event=MessageEvent.REFERRAL,
            partner_message_id=referral.message_id,
            child_bsn=referral.child.bsn,
            recipient=recipient,
            child_birth_date=referral.child.birth_date,
        )

    def encode(self, bundle: Mapping[str, Any]) -> bytes:
        event = fhir.event_of(bundle)
        if event == MessageEvent.ACKNOWLEDGEMENT:
            return encode_notice(bundle)
        if event == MessageEvent.REFERRAL:
            return _encode_referral(bundle).model_dump_json().encode()
        raise AdapterError(RejectReason.UNSUPPORTED_TYPE, f"huisarts cannot receive {event}")


def _encode_referral(bundle: Mapping[str, Any]) -> HuisartsReferral:
    """Back to the native referral; the inverse of ``decode`` field for field."""
    request = fhir.resource(bundle, "ServiceRequest")
    patient = fhir.resource(bundle, "Patient")
    bsn = next(i["value"] for i in patient["identifier"] if i["system"] == BSN_SYSTEM)
    return HuisartsReferral(
        type="verwijzing",
        message_id=request["identifier"][0]["value"],
        sent_at=datetime.fromisoformat(request["authoredOn"]),
        referrer=Referrer(agb=_agb_of(request["requester"])),
        child=Child(bsn=bsn, birth_date=date.fromisoformat(patient["birthDate"])),
        urgency=fhir.URGENCY_OF_PRIORITY[request["priority"]],
        care_category=request["category"][0]["coding"][0]["code"],
        addressed_to_agb=_agb_of(request["performer"][0]),
        reason=request["reasonCode"][0]["text"],
    )


def _agb_of(reference: Mapping[str, Any]) -> str:
    identifier = reference["identifier"]
    if identifier["system"] != AGB_SYSTEM:
        raise AdapterError(RejectReason.SCHEMA_INVALID, "reference is not by AGB code")
    return str(identifier["value"])
