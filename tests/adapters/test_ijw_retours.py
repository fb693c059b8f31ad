"""Retour semantics of iJw 3.2: a retour copies its heenbericht's header, the hub links it to
that heenbericht, the sender check honours the copied header, WJ001 codes travel through, and
a retour without content (the heenbericht refused as a whole) is still carried."""

from __future__ import annotations

import re

import pytest

from adapters import ijw
from adapters.aanbieder import AanbiederAdapter
from adapters.base import AdapterError
from adapters.rigg import RiggAdapter
from adapters.testing import decode_context
from schemas import fhir, fhir_ijw
from schemas.codes import RejectReason
from schemas.ijw import Bericht
from tests.adapters.ijw_cases import BSN, OTHER_PROVIDER, PROVIDER, RIGG, golden
from tests.conftest import default_registry

REGISTRY = default_registry()
RETOURS = {
    # retour: (heenbericht, who sends the retour)
    "JW302": ("JW301:RIGG-T-00077", PROVIDER),
    "JW306": ("JW305:NL2026000051", RIGG),
    "JW308": ("JW307:NL2027000012", RIGG),
    "JW316": ("JW315:NL2026000042", RIGG),
    "JW318": ("JW317:NL2027000003", RIGG),
    "JW320": ("JW319:RIGG-A-00103", PROVIDER),
}


def _adapter(sender: str) -> AanbiederAdapter | RiggAdapter:
    return AanbiederAdapter() if sender == PROVIDER else RiggAdapter()


def _without_content(bericht: str) -> bytes:
    """The retour of a heenbericht refused as a whole: its header only, a rejecting code."""
    prefix = bericht.lower()
    payload = golden(bericht).decode()
    content = "Antwoord" if bericht == "JW320" else "Client"
    payload = re.sub(
        rf"\s*<{prefix}:{content}>.*</{prefix}:{content}>", "", payload, flags=re.DOTALL
    )
    code = f"<{prefix}:RetourCode>8001</{prefix}:RetourCode>"
    refused = f"<{prefix}:RetourCodes>{code}</{prefix}:RetourCodes>"
    payload = re.sub(
        rf"\s*<{prefix}:RetourCodes>.*?</{prefix}:RetourCodes>", "", payload, flags=re.DOTALL
    )
    closing = f"</{prefix}:XsdVersieRetour>"
    assert closing in payload
    return payload.replace(closing, closing + refused, 1).encode()


@pytest.mark.parametrize("bericht", sorted(RETOURS))
def test_a_retour_is_linked_to_its_heenbericht(bericht: str) -> None:
    answered, sender = RETOURS[bericht]
    decoded = _adapter(sender).decode(golden(bericht), decode_context(REGISTRY, sender))
    assert decoded.facts.related_partner_message_id == answered
    assert decoded.partner_message_id.startswith(f"{bericht}:")
    assert decoded.partner_message_id != f"{bericht}:{answered.split(':')[1]}"
    header = fhir.resource(decoded.bundle, "MessageHeader")
    task = next(
        r["resource"]
        for r in decoded.bundle["entry"]
        if r["resource"]["id"] == header["focus"][0]["reference"].removeprefix("urn:uuid:")
    )
    assert task["resourceType"] == "Task" and task["status"] == "accepted"


@pytest.mark.parametrize("bericht", sorted(RETOURS))
def test_a_retour_without_content_is_carried_and_keyed_by_its_heenbericht(bericht: str) -> None:
    answered, sender = RETOURS[bericht]
    decoded = _adapter(sender).decode(_without_content(bericht), decode_context(REGISTRY, sender))
    assert decoded.child_bsn == ""
    assert decoded.correlation_key is not None and answered in decoded.correlation_key
    assert BSN not in decoded.subject_key
    focus = fhir.resource(decoded.bundle, "Task")
    assert focus["status"] == "rejected"
    assert focus["statusReason"]["coding"][0]["code"] == "8001"
    again = ijw.render(*fhir_ijw.from_bundle(decoded.bundle))
    assert ijw.parse(again, (Bericht(bericht),)) == ijw.parse(
        _without_content(bericht), (Bericht(bericht),)
    )


@pytest.mark.parametrize("bericht", sorted(RETOURS))
def test_the_sender_check_reads_the_copied_header(bericht: str) -> None:
    """A retour's Afzender is the heenbericht's sender: sending it as that sender is refused."""
    _, sender = RETOURS[bericht]
    wrong = OTHER_PROVIDER if sender == PROVIDER else PROVIDER
    adapter = _adapter(sender)
    with pytest.raises(AdapterError) as caught:
        adapter.decode(golden(bericht), decode_context(REGISTRY, wrong))
    assert caught.value.code in (RejectReason.SENDER_MISMATCH, RejectReason.UNSUPPORTED_TYPE)


def test_retourcodes_travel_through_to_the_recipient() -> None:
    product_end = b"</jw306:RetourCodes>\n      </jw306:StartProduct>"
    accepted = b"<jw306:RetourCode>0200</jw306:RetourCode>\n        " + product_end
    rejected = b"<jw306:RetourCode>8001</jw306:RetourCode>\n        " + product_end
    payload = golden("JW306").replace(accepted, rejected)
    assert payload != golden("JW306")
    decoded = RiggAdapter().decode(payload, decode_context(REGISTRY, RIGG))
    delivered = AanbiederAdapter().encode(decoded.bundle)
    _, message = ijw.parse(delivered, (Bericht.JW306,))
    assert fhir_ijw.all_retour_codes(message) == ["0200", "0200", "8001"]  # header, client, product
    assert fhir.resource(decoded.bundle, "Task")["status"] == "rejected"


def test_jw325_names_the_declaratie_it_answers() -> None:
    decoded = RiggAdapter().decode(golden("JW325"), decode_context(REGISTRY, RIGG))
    assert decoded.partner_message_id == "JW325:RIGG-D-00003"
    assert decoded.facts.related_partner_message_id == "JW323:NL2027000020"
    response = fhir.resource(decoded.bundle, "ClaimResponse")
    assert response["outcome"] == "complete"


def test_jw319_is_keyed_by_the_providers_reference() -> None:
    decoded = RiggAdapter().decode(golden("JW319"), decode_context(REGISTRY, RIGG))
    assert decoded.child_bsn == ""
    assert decoded.correlation_key == "referentie:73000001:NL-VOW-2027-0007"
    assert fhir.resource(decoded.bundle, "Task")["status"] == "in-progress"
    refused = golden("JW319").replace(
        b"<jw319:VerzoekAntwoord>2</jw319:VerzoekAntwoord>",
        b"<jw319:VerzoekAntwoord>1</jw319:VerzoekAntwoord>"
        b"<jw319:RedenAfwijzingVerzoek>3</jw319:RedenAfwijzingVerzoek>",
    )
    task = fhir.resource(
        RiggAdapter().decode(refused, decode_context(REGISTRY, RIGG)).bundle, "Task"
    )
    assert task["status"] == "rejected"
    assert task["statusReason"]["coding"][0]["code"] == "3"
