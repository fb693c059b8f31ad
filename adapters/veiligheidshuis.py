"""The Veiligheidshuis: escalation (opschalen) and de-escalation (afschalen) in.

It receives acknowledgements, hub notices, signals (``signaal-ontvangen``) and referrals
(``verwijzing-ontvangen``) for the households it is involved with, on a safety basis.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.base import DecodeContext, Decoded
from adapters.json_adapter import (
    HOUSEHOLD_CHANGE,
    Inbound,
    JsonAdapter,
    referral_notice,
    regie_decoded,
    regie_task,
    signal_received,
)
from schemas import fhir_social as fs
from schemas.codes import ESCALATION_REASON_SYSTEM, MessageEvent
from schemas.veiligheidshuis import Deescalation, Escalation


def _escalation_to_fhir(m: Escalation, ctx: DecodeContext) -> Decoded:
    return regie_decoded(
        m, ctx, MessageEvent.ESCALATION, m.household,
        casus_id=m.casus_id, escalation_reason=m.reason.value,
    )  # fmt: skip


def _escalation_from_fhir(bundle: Mapping[str, Any]) -> Escalation:
    task, fields = regie_task(bundle)
    return Escalation(
        type="opschalen",
        **fields,
        casus_id=fs.identifier_value(task, fs.CASUS_ID_SYSTEM),
        reason=fs.code_in(task["reasonCode"], ESCALATION_REASON_SYSTEM),
    )


def _deescalation_to_fhir(m: Deescalation, ctx: DecodeContext) -> Decoded:
    return regie_decoded(m, ctx, MessageEvent.DEESCALATION, [m.child], casus_id=m.casus_id)


def _deescalation_from_fhir(bundle: Mapping[str, Any]) -> Deescalation:
    task, fields = regie_task(bundle)
    (child,) = fields.pop("household")
    return Deescalation(
        type="afschalen",
        **fields,
        casus_id=fs.identifier_value(task, fs.CASUS_ID_SYSTEM),
        child=child,
    )


ESCALATION = Inbound(
    Escalation, MessageEvent.ESCALATION, _escalation_to_fhir, _escalation_from_fhir
)
DEESCALATION = Inbound(
    Deescalation, MessageEvent.DEESCALATION, _deescalation_to_fhir, _deescalation_from_fhir
)


class VeiligheidshuisAdapter(JsonAdapter):
    def __init__(self) -> None:
        super().__init__(
            "veiligheidshuis",
            inbound=(ESCALATION, DEESCALATION, HOUSEHOLD_CHANGE),
            outbound={MessageEvent.SIGNAL: signal_received, MessageEvent.REFERRAL: referral_notice},
        )
