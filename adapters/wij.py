"""WIJ teams (municipal front door, default regisseur): regie, plans, referrals, consent in.

They receive acknowledgements, hub notices, referrals (``verwijzing-ontvangen``), signals
(``signaal-ontvangen``) and regie transfer offers (``regie-overdracht-aanbod-ontvangen``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adapters.base import DecodeContext, Decoded
from adapters.json_adapter import (
    CONSENT_GIVEN,
    CONSENT_REVOKED,
    HOUSEHOLD_CHANGE,
    ORGANISATION_REFERRAL,
    REGIE_CLAIM,
    SOCIAL_OUTBOUND,
    Inbound,
    JsonAdapter,
    household_decoded,
    household_native,
    identifier_in,
    identity,
    regie_decoded,
    regie_task,
    registered_partner,
    sender_party,
)
from schemas import fhir
from schemas import fhir_social as fs
from schemas.codes import MessageEvent
from schemas.envelope import RoutingFacts
from schemas.native import CodeParty, children
from schemas.wij import (
    PlanUpdate,
    RegieClose,
    RegieTransferAccept,
    RegieTransferDecline,
    RegieTransferOffer,
)


def _offer_to_fhir(m: RegieTransferOffer, ctx: DecodeContext) -> Decoded:
    target = registered_partner(ctx, m.to, "to", m.message_id)
    facts = RoutingFacts(regie_target=target.id)
    return regie_decoded(
        m, ctx, MessageEvent.REGIE_TRANSFER_OFFER, m.household, facts, target_id=target.id
    )


def _offer_from_fhir(bundle: Mapping[str, Any]) -> RegieTransferOffer:
    task, fields = regie_task(bundle)
    return RegieTransferOffer(
        type="regie-overdracht-aanbod",
        **fields,
        to=identifier_in(task["owner"], fs.PARTNER_ID_SYSTEM),
    )


def _answer_to_fhir(
    m: RegieTransferAccept | RegieTransferDecline, ctx: DecodeContext, event: MessageEvent
) -> Decoded:
    facts = RoutingFacts(related_partner_message_id=m.offer_message_id)
    return regie_decoded(m, ctx, event, m.household, facts, offer_message_id=m.offer_message_id)


def _accept_to_fhir(m: RegieTransferAccept, ctx: DecodeContext) -> Decoded:
    return _answer_to_fhir(m, ctx, MessageEvent.REGIE_TRANSFER_ACCEPT)


def _decline_to_fhir(m: RegieTransferDecline, ctx: DecodeContext) -> Decoded:
    return _answer_to_fhir(m, ctx, MessageEvent.REGIE_TRANSFER_DECLINE)


def _answer_fields(bundle: Mapping[str, Any]) -> dict[str, Any]:
    task, fields = regie_task(bundle)
    return {**fields, "offer_message_id": task["basedOn"][0]["identifier"]["value"]}


def _accept_from_fhir(bundle: Mapping[str, Any]) -> RegieTransferAccept:
    return RegieTransferAccept(type="regie-overdracht-akkoord", **_answer_fields(bundle))


def _decline_from_fhir(bundle: Mapping[str, Any]) -> RegieTransferDecline:
    return RegieTransferDecline(type="regie-overdracht-afwijzing", **_answer_fields(bundle))


def _close_to_fhir(m: RegieClose, ctx: DecodeContext) -> Decoded:
    return regie_decoded(m, ctx, MessageEvent.REGIE_CLOSE, m.household)


def _close_from_fhir(bundle: Mapping[str, Any]) -> RegieClose:
    _, fields = regie_task(bundle)
    return RegieClose(type="regie-afsluiting", **fields)


def _plan_to_fhir(m: PlanUpdate, ctx: DecodeContext) -> Decoded:
    bundle = fs.plan_bundle(
        hub_message_id=ctx.hub_message_id,
        sender_id=ctx.sender.id,
        sender=identity(m.sender),
        partner_message_id=m.message_id,
        sent_at=m.sent_at,
        household=children(m.household),
        summary=m.summary,
    )
    return household_decoded(
        bundle=bundle,
        event=MessageEvent.PLAN_UPDATE,
        message_id=m.message_id,
        household=m.household,
    )


def _plan_from_fhir(bundle: Mapping[str, Any]) -> PlanUpdate:
    plan = fhir.resource(bundle, "CarePlan")
    return PlanUpdate(
        type="plan-update",
        message_id=fs.partner_message_id_of(bundle, plan),
        sent_at=datetime.fromisoformat(plan["created"]),
        sender=sender_party(bundle, CodeParty),
        household=household_native(bundle),
        summary=plan["description"],
    )


TRANSFER_OFFER = Inbound(
    RegieTransferOffer, MessageEvent.REGIE_TRANSFER_OFFER, _offer_to_fhir, _offer_from_fhir
)
TRANSFER_ACCEPT = Inbound(
    RegieTransferAccept, MessageEvent.REGIE_TRANSFER_ACCEPT, _accept_to_fhir, _accept_from_fhir
)
TRANSFER_DECLINE = Inbound(
    RegieTransferDecline, MessageEvent.REGIE_TRANSFER_DECLINE, _decline_to_fhir, _decline_from_fhir
)
CLOSE = Inbound(RegieClose, MessageEvent.REGIE_CLOSE, _close_to_fhir, _close_from_fhir)
PLAN_UPDATE = Inbound(PlanUpdate, MessageEvent.PLAN_UPDATE, _plan_to_fhir, _plan_from_fhir)


class WijAdapter(JsonAdapter):
    def __init__(self) -> None:
        super().__init__(
            "wij",
            inbound=(
                REGIE_CLAIM,
                TRANSFER_OFFER,
                TRANSFER_ACCEPT,
                TRANSFER_DECLINE,
                CLOSE,
                PLAN_UPDATE,
                ORGANISATION_REFERRAL,
                CONSENT_GIVEN,
                CONSENT_REVOKED,
                HOUSEHOLD_CHANGE,
            ),
            outbound=SOCIAL_OUTBOUND,
        )
