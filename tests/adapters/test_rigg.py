"""The RIGG adapter: JW301/JW316 in, JW315/JW302/JW305/JW307 out, JSON notices."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import pytest

from adapters import ijw
from adapters.aanbieder import AanbiederAdapter
from adapters.base import AdapterError, Decoded
from adapters.rigg import RiggAdapter
from schemas import fhir
from schemas.codes import BSN_SYSTEM, EVENT_SYSTEM, MessageEvent, RejectReason
from schemas.fhir_ijw import RETOURCODE_SYSTEM
from schemas.ijw import Bericht
from schemas.notices import Ack, Nack
from schemas.partners import Partner, PartnerKind, PartnerRegistry
from tests.adapters.ijw_cases import (
    BSN,
    PERSONAL,
    PROVIDER,
    RIGG,
    billion_laughs,
    golden,
    oversized,
    plain_doctype,
    xxe,
)
from tests.conftest import decode_context, default_registry

ADAPTER = RiggAdapter()
REGISTRY = default_registry()
ALL = tuple(Bericht)


def _decode(payload: bytes, sender: str = RIGG, registry: PartnerRegistry = REGISTRY) -> Decoded:
    return ADAPTER.decode(payload, decode_context(registry, sender))


def _error(
    payload: bytes, sender: str = RIGG, registry: PartnerRegistry = REGISTRY
) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        _decode(payload, sender, registry)
    for value in PERSONAL:
        assert value not in str(caught.value)
    return caught.value


def test_registered_as_an_entry_point(adapters: object) -> None:
    from adapters.registry import load_adapters

    assert isinstance(load_adapters().get("rigg"), RiggAdapter)
    assert REGISTRY.get(RIGG) is not None
    assert REGISTRY.get(RIGG).municipality_codes == ("0014",)  # type: ignore[union-attr]


def test_golden_jw301_decodes_to_assignment_tasks() -> None:
    hub_message_id = str(uuid.uuid4())
    decoded = ADAPTER.decode(golden("JW301"), decode_context(REGISTRY, RIGG, hub_message_id))
    fhir.validate_bundle(decoded.bundle)
    assert decoded.event is MessageEvent.ASSIGNMENT
    assert decoded.partner_message_id == "JW301:RIGG-T-00077"
    assert decoded.recipient is not None and decoded.recipient.id == PROVIDER
    assert decoded.child_bsn == BSN
    assert decoded.bundle["id"] == hub_message_id
    header = fhir.resource(decoded.bundle, "MessageHeader")
    assert header["eventCoding"] == {"system": EVENT_SYSTEM, "code": "assignment"}
    assert fhir.partner_id_of(header["source"]["endpoint"]) == RIGG
    assert fhir.partner_id_of(header["destination"][0]["endpoint"]) == PROVIDER
    task = fhir.resource(decoded.bundle, "Task")
    assert header["focus"] == [{"reference": f"urn:uuid:{task['id']}"}]
    assert task["status"] == "requested"
    assert task["executionPeriod"] == {"start": "2026-12-07", "end": "2027-06-06"}
    assert task["identifier"][0]["value"] == "300201"
    assert task["basedOn"][0]["identifier"]["value"] == "NL-VOT-2026-0042"
    patient = fhir.resource(decoded.bundle, "Patient")
    assert patient["identifier"] == [{"system": BSN_SYSTEM, "value": BSN}]
    assert patient["address"][0]["city"] == "Groningen"
    assert BSN not in repr(decoded)


def test_golden_jw316_decodes_to_an_accepted_answer() -> None:
    decoded = _decode(golden("JW316"))
    fhir.validate_bundle(decoded.bundle)
    assert decoded.event is MessageEvent.ASSIGNMENT_REQUEST_ANSWER
    assert decoded.partner_message_id == "JW316:RIGG-R-00042"
    assert decoded.facts.related_partner_message_id == "JW315:NL2026000042"
    assert decoded.recipient is not None and decoded.recipient.id == PROVIDER
    header = fhir.resource(decoded.bundle, "MessageHeader")
    answers = [
        e["resource"] for e in decoded.bundle["entry"] if e["resource"]["resourceType"] == "Task"
    ]
    (answer,) = answers
    assert header["focus"] == [{"reference": f"urn:uuid:{answer['id']}"}]
    assert answer["status"] == "accepted"
    request = fhir.resource(decoded.bundle, "ServiceRequest")
    assert answer["basedOn"] == [{"reference": f"urn:uuid:{request['id']}"}]
    # the answer comes from the municipality the JW315 was addressed to
    assert header["sender"]["identifier"]["value"] == "0014"
    assert header["destination"][0]["receiver"]["identifier"]["value"] == "73000001"


def test_a_rejecting_retourcode_makes_the_answer_rejected() -> None:
    payload = golden("JW316").replace(
        b"<jw316:RetourCode>0200</jw316:RetourCode>\n        </jw316:RetourCodes>",
        b"<jw316:RetourCode>9359</jw316:RetourCode>\n        </jw316:RetourCodes>",
    )
    answer = next(
        e["resource"]
        for e in _decode(payload).bundle["entry"]
        if e["resource"]["resourceType"] == "Task"
    )
    assert answer["status"] == "rejected"
    assert answer["statusReason"]["coding"] == [{"system": RETOURCODE_SYSTEM, "code": "9359"}]


@pytest.mark.parametrize("bericht", ["JW301", "JW316"])
def test_round_trip_rigg_to_provider_keeps_every_field(bericht: str) -> None:
    decoded = _decode(golden(bericht))
    delivered = AanbiederAdapter().encode(decoded.bundle)
    assert ijw.parse(delivered, ALL) == ijw.parse(golden(bericht), ALL)


@pytest.mark.parametrize("bericht", ["JW315", "JW302", "JW305", "JW307"])
def test_round_trip_provider_to_rigg_keeps_every_field(bericht: str) -> None:
    decoded = AanbiederAdapter().decode(golden(bericht), decode_context(REGISTRY, PROVIDER))
    delivered = ADAPTER.encode(decoded.bundle)
    assert ijw.parse(delivered, ALL) == ijw.parse(golden(bericht), ALL)


@pytest.mark.parametrize("bericht", ["JW301", "JW316"])
def test_a_rigg_cannot_receive_what_it_sends(bericht: str) -> None:
    bundle = _decode(golden(bericht)).bundle
    with pytest.raises(AdapterError) as caught:
        ADAPTER.encode(bundle)
    assert caught.value.code is RejectReason.UNSUPPORTED_TYPE


@pytest.mark.parametrize("bericht", ["JW315", "JW302", "JW305", "JW307"])
def test_a_rigg_may_not_send_provider_messages(bericht: str) -> None:
    error = _error(golden(bericht))
    assert error.code is RejectReason.UNSUPPORTED_TYPE
    assert "jw301:Bericht" in error.message


def test_sender_mismatch_for_a_municipality_the_rigg_does_not_serve() -> None:
    payload = golden("JW301").replace(b"<jw301:Afzender>0014<", b"<jw301:Afzender>0363<")
    error = _error(payload)
    assert error.code is RejectReason.SENDER_MISMATCH
    assert "Header/Afzender" in error.message
    assert error.partner_message_id == "JW301:RIGG-T-00077"
    assert "0363" not in error.message


def test_sender_mismatch_on_a_retour_is_checked_on_its_ontvanger() -> None:
    payload = golden("JW316").replace(b"<jw316:Ontvanger>0014<", b"<jw316:Ontvanger>0363<")
    error = _error(payload)
    assert error.code is RejectReason.SENDER_MISMATCH
    assert "Header/Ontvanger" in error.message


@pytest.mark.parametrize("agb", [b"99999999", b"01000001"], ids=["unknown", "a-gp"])
def test_unknown_recipient(agb: bytes) -> None:
    payload = golden("JW301").replace(
        b"<jw301:Ontvanger>73000001<", b"<jw301:Ontvanger>" + agb + b"<"
    )
    error = _error(payload)
    assert error.code is RejectReason.UNKNOWN_RECIPIENT
    assert agb.decode() not in error.message


def test_second_provider_is_routed_by_agb() -> None:
    payload = golden("JW301").replace(b"<jw301:Ontvanger>73000001<", b"<jw301:Ontvanger>73000002<")
    decoded = _decode(payload)
    assert decoded.recipient is not None and decoded.recipient.id == "aanbieder-kompas"


def test_a_rigg_without_municipalities_can_send_nothing() -> None:
    bare = Partner(id="rigg-leeg", kind=PartnerKind.RIGG, name="RIGG zonder gemeenten")
    registry = PartnerRegistry(partners=(*REGISTRY.partners, bare))
    assert _error(golden("JW301"), "rigg-leeg", registry).code is RejectReason.SENDER_MISMATCH


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (xxe(golden("JW301")), RejectReason.XML_UNSAFE),
        (billion_laughs(), RejectReason.XML_UNSAFE),
        (plain_doctype(golden("JW316")), RejectReason.XML_UNSAFE),
        (oversized(golden("JW301")), RejectReason.PAYLOAD_TOO_LARGE),
        (b"<Bericht/>", RejectReason.UNSUPPORTED_TYPE),
        (golden("JW301").replace(BSN.encode(), b"999990018"), RejectReason.INVALID_BSN),
        (b"\x00\x01garbage", RejectReason.MALFORMED),
    ],
    ids=["xxe", "billion-laughs", "doctype", "oversized", "wrong-root", "invalid-bsn", "garbage"],
)
def test_hostile_or_broken_input_gets_its_code(payload: bytes, code: RejectReason) -> None:
    assert _error(payload).code is code


def test_notices_encode_to_json() -> None:
    at = datetime(2026, 12, 2, 10, tzinfo=UTC)
    ack = fhir.response_bundle(
        hub_message_id=str(uuid.uuid4()),
        in_response_to="hub-id",
        partner_message_id="JW301:RIGG-T-00077",
        recipient_id=RIGG,
        at=at,
        delivered_to=(PROVIDER,),
    )
    assert Ack.model_validate_json(ADAPTER.encode(ack)) == Ack(
        in_response_to="JW301:RIGG-T-00077",
        hub_message_id="hub-id",
        delivered_to=(PROVIDER,),
        at=at,
    )
    nack = fhir.response_bundle(
        hub_message_id=str(uuid.uuid4()),
        in_response_to="hub-id",
        partner_message_id=None,
        recipient_id=RIGG,
        at=at,
        reject=RejectReason.XML_UNSAFE,
        reason="DOCTYPE and ENTITY declarations are not accepted",
    )
    notice = Nack.model_validate_json(ADAPTER.encode(nack))
    assert notice.reason_code is RejectReason.XML_UNSAFE
    assert orjson.loads(ADAPTER.encode(nack))["reason_code"] == "xml-unsafe"


def test_a_referral_is_not_for_a_rigg() -> None:
    bundle = fhir.response_bundle(
        hub_message_id=str(uuid.uuid4()),
        in_response_to="x",
        partner_message_id=None,
        recipient_id=RIGG,
        at=datetime.now(UTC),
    )
    bundle["entry"][0]["resource"]["eventCoding"]["code"] = MessageEvent.REFERRAL.value
    with pytest.raises(AdapterError) as caught:
        ADAPTER.encode(bundle)
    assert caught.value.code is RejectReason.UNSUPPORTED_TYPE


def test_a_bundle_without_the_ijw_header_cannot_be_encoded() -> None:
    bundle = AanbiederAdapter().decode(golden("JW315"), decode_context(REGISTRY, PROVIDER)).bundle
    del bundle["entry"][0]["resource"]["extension"]
    with pytest.raises(AdapterError) as caught:
        ADAPTER.encode(bundle)
    assert caught.value.code is RejectReason.SCHEMA_INVALID
    assert BSN not in caught.value.message
