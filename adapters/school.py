"""Schools: a care signal (zorgsignaal) in; acknowledgements and hub notices out.

A school never receives referral or signal content: its adapter has nothing to encode them
with, so even a misrouted delivery fails here instead of reaching the school.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adapters.base import DecodeContext, Decoded
from adapters.json_adapter import (
    Inbound,
    JsonAdapter,
    child_of,
    identity,
    sender_party,
    signal_decoded,
)
from schemas import fhir
from schemas import fhir_social as fs
from schemas.codes import CONCERN_CATEGORY_SYSTEM, MessageEvent
from schemas.native import BrinParty
from schemas.school import SCHOOL_ROLE_SYSTEM, ContactPerson, SchoolSignal


def _to_fhir(m: SchoolSignal, ctx: DecodeContext) -> Decoded:
    contact = m.contact_person
    telecom = [
        {"system": system, "value": value, "use": "work"}
        for system, value in (("phone", contact.phone), ("email", contact.email))
        if value is not None
    ]
    role = {
        "organization": identity(m.school).reference(),
        "code": [{"coding": [{"system": SCHOOL_ROLE_SYSTEM, "code": contact.role.value}]}],
        "telecom": telecom,
    }
    bundle = fs.signal_bundle(
        hub_message_id=ctx.hub_message_id,
        sender_id=ctx.sender.id,
        sender=identity(m.school),
        partner_message_id=m.message_id,
        sent_at=m.sent_at,
        child=(m.pupil.bsn, m.pupil.birth_date),
        concern_category=m.concern_category.value,
        author_role=role,
    )
    return signal_decoded(
        bundle=bundle,
        message_id=m.message_id,
        child=m.pupil,
        concern_category=m.concern_category.value,
    )


def _from_fhir(bundle: Mapping[str, Any]) -> SchoolSignal:
    flag = fhir.resource(bundle, "Flag")
    role = fs.referenced(bundle, flag["author"]) or {}
    telecom = {t["system"]: t["value"] for t in role.get("telecom", [])}
    return SchoolSignal(
        type="zorgsignaal",
        message_id=fs.partner_message_id_of(bundle, flag),
        sent_at=datetime.fromisoformat(flag["period"]["start"]),
        school=sender_party(bundle, BrinParty),
        pupil=child_of(fs.referenced(bundle, flag["subject"])),
        concern_category=fs.code_in(flag["code"], CONCERN_CATEGORY_SYSTEM),
        contact_person=ContactPerson(
            role=fs.code_in(role["code"][0], SCHOOL_ROLE_SYSTEM),
            phone=telecom.get("phone"),
            email=telecom.get("email"),
        ),
    )


SIGNAL = Inbound(SchoolSignal, MessageEvent.SIGNAL, _to_fhir, _from_fhir)


class SchoolAdapter(JsonAdapter):
    def __init__(self) -> None:
        super().__init__("school", inbound=(SIGNAL,), outbound={})
