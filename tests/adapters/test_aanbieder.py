"""The provider adapter: iJw XML in and out, referrals and notices out as JSON."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest

from adapters import ijw
from adapters.aanbieder import AanbiederAdapter
from adapters.base import AdapterError, Decoded
from adapters.huisarts import HuisartsAdapter
from adapters.rigg import RiggAdapter
from schemas import fhir
from schemas.aanbieder import ReferralReceived
from schemas.codes import AGB_SYSTEM, CareCategory, MessageEvent, RejectReason, Urgency
from schemas.fhir_ijw import REDEN_BEEINDIGING_URL
from schemas.ijw import Bericht
from schemas.notices import Ack, Nack
from schemas.partners import PartnerRegistry
from tests.adapters.ijw_cases import (
    PERSONAL,
    RIGG,
    billion_laughs,
    golden,
    oversized,
    plain_doctype,
    xxe,
)
from tests.conftest import (
    GOLDEN_BIRTH_DATE,
    GOLDEN_BSN,
    GOLDEN_REFERRAL,
    GP,
    PROVIDER,
    decode_context,
    default_registry,
)

ADAPTER = AanbiederAdapter()


def _referral_bundle(registry: PartnerRegistry, hub_message_id: str) -> fhir.FhirDict:
    context = decode_context(registry, GP, hub_message_id)
    return HuisartsAdapter().decode(GOLDEN_REFERRAL.read_bytes(), context).bundle


def test_referral_bundle_encodes_to_referral_received(registry: PartnerRegistry) -> None:
    hub_message_id = str(uuid.uuid4())
    received = ReferralReceived.model_validate_json(
        ADAPTER.encode(_referral_bundle(registry, hub_message_id))
    )
    assert received.type == "verwijzing-ontvangen"
    assert received.hub_message_id == hub_message_id
    assert received.referral_id == "HIS-WIJERT-2026-000123"
    assert received.referrer_agb == "01000001"
    assert received.referrer_partner == GP
    assert received.client.bsn == GOLDEN_BSN
    assert received.client.birth_date == date(2014, 3, 2)
    assert received.urgency is Urgency.ROUTINE
    assert received.care_category is CareCategory.JEUGD_GGZ
    assert received.reason.startswith("Aanhoudende angstklachten")
    assert received.referred_at == datetime(2026, 11, 23, 8, 15, tzinfo=UTC)


def test_a_requester_without_agb_is_named_by_its_code(registry: PartnerRegistry) -> None:
    """OJG and WIJ teams refer too; they have an organisation code, not an AGB."""
    bundle = _referral_bundle(registry, str(uuid.uuid4()))
    request = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    )
    request["requester"]["identifier"] = {"system": "urn:ketenhub:partner-code", "value": "OJG-X"}
    received = json.loads(ADAPTER.encode(bundle))
    assert received["referrer_agb"] is None
    assert received["referrer_code"] == "OJG-X"


def test_notices_encode_to_json() -> None:
    at = datetime(2026, 11, 23, 10, tzinfo=UTC)
    ack = fhir.response_bundle(
        hub_message_id=str(uuid.uuid4()),
        in_response_to="hub-id",
        partner_message_id=None,
        recipient_id=PROVIDER,
        at=at,
    )
    assert Ack.model_validate_json(ADAPTER.encode(ack)) == Ack(
        in_response_to="", hub_message_id="hub-id", delivered_to=(), at=at
    )
    nack = fhir.response_bundle(
        hub_message_id=str(uuid.uuid4()),
        in_response_to="hub-id",
        partner_message_id=None,
        recipient_id=PROVIDER,
        at=at,
        reject=RejectReason.UNSUPPORTED_TYPE,
        reason="not yet",
    )
    assert Nack.model_validate_json(ADAPTER.encode(nack)).reason_code is (
        RejectReason.UNSUPPORTED_TYPE
    )


def test_encoding_an_unknown_event_is_unsupported(registry: PartnerRegistry) -> None:
    bundle = _referral_bundle(registry, str(uuid.uuid4()))
    bundle["entry"][0]["resource"]["eventCoding"]["code"] = "discharge"
    with pytest.raises(AdapterError) as caught:
        ADAPTER.encode(bundle)
    assert caught.value.code is RejectReason.UNSUPPORTED_TYPE


# ---- iJw ----------------------------------------------------------------------------------


def _ijw_decode(payload: bytes, sender: str = PROVIDER) -> Decoded:
    return ADAPTER.decode(payload, decode_context(default_registry(), sender))


def _ijw_error(payload: bytes, sender: str = PROVIDER) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        _ijw_decode(payload, sender)
    for value in PERSONAL:
        assert value not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("bericht", "event", "message_id"),
    [
        ("JW315", MessageEvent.ASSIGNMENT_REQUEST, "JW315:NL2026000042"),
        ("JW302", MessageEvent.ASSIGNMENT_RECEIPT, "JW302:NLR202600077"),
        ("JW305", MessageEvent.CARE_START, "JW305:NL2026000051"),
        ("JW307", MessageEvent.CARE_END, "JW307:NL2027000012"),
    ],
)
def test_golden_ijw_messages_decode(bericht: str, event: MessageEvent, message_id: str) -> None:
    decoded = _ijw_decode(golden(bericht))
    fhir.validate_bundle(decoded.bundle)
    assert decoded.event is event
    assert fhir.event_of(decoded.bundle) == event.value
    assert decoded.partner_message_id == message_id
    assert decoded.recipient is not None and decoded.recipient.id == RIGG
    assert decoded.child_bsn == GOLDEN_BSN
    assert decoded.child_birth_date == date(2014, 3, 2)
    header = fhir.resource(decoded.bundle, "MessageHeader")
    assert fhir.partner_id_of(header["source"]["endpoint"]) == PROVIDER
    assert fhir.partner_id_of(header["destination"][0]["endpoint"]) == RIGG
    assert decoded.bundle["identifier"]["value"] == message_id


def test_jw315_is_a_proposal_with_the_gp_as_requester() -> None:
    decoded = _ijw_decode(golden("JW315"))
    request = fhir.resource(decoded.bundle, "ServiceRequest")
    assert (request["status"], request["intent"]) == ("active", "proposal")
    assert request["requester"]["identifier"] == {"system": AGB_SYSTEM, "value": "01000001"}
    assert request["occurrencePeriod"] == {"start": "2026-12-07", "end": "2027-06-06"}
    patient = fhir.resource(decoded.bundle, "Patient")
    assert request["subject"] == {"reference": f"urn:uuid:{patient['id']}"}
    assert patient["birthDate"] == GOLDEN_BIRTH_DATE
    assert decoded.facts.referrer_agb == "01000001"
    assert decoded.facts.referrer_type == "02"  # COD327: huisarts
    assert decoded.facts.related_partner_message_id is None


def test_jw315_from_a_certified_institution_says_so_and_names_no_gp() -> None:
    payload = golden("JW315").replace(b"<ijw:Type>02</ijw:Type>", b"<ijw:Type>04</ijw:Type>")
    facts = _ijw_decode(payload).facts
    assert (facts.referrer_type, facts.referrer_agb) == ("04", None)


def test_jw305_and_jw307_are_episodes_of_care() -> None:
    start = fhir.resource(_ijw_decode(golden("JW305")).bundle, "EpisodeOfCare")
    assert start["status"] == "active"
    assert start["period"] == {"start": "2026-12-09"}
    assert start["managingOrganization"]["identifier"]["value"] == "73000001"
    stop = fhir.resource(_ijw_decode(golden("JW307")).bundle, "EpisodeOfCare")
    assert stop["status"] == "finished"
    assert stop["period"] == {"start": "2026-12-09", "end": "2027-05-28"}
    reason = next(e for e in stop["extension"] if e["url"] == REDEN_BEEINDIGING_URL)
    assert reason["valueCoding"]["code"] == "31"


def test_jw302_answers_the_jw301() -> None:
    decoded = _ijw_decode(golden("JW302"))
    assert decoded.facts.related_partner_message_id == "JW301:RIGG-T-00077"
    header = fhir.resource(decoded.bundle, "MessageHeader")
    assert header["sender"]["identifier"] == {"system": AGB_SYSTEM, "value": "73000001"}


def test_a_gp_referral_by_name_gives_no_referrer_agb() -> None:
    payload = golden("JW315").replace(
        b"<ijw:ZorgverlenerCode>01000001</ijw:ZorgverlenerCode>", b"<ijw:Naam>Dr. Proef</ijw:Naam>"
    )
    assert _ijw_decode(payload).facts.referrer_agb is None


def _replace(bericht: str, *pairs: tuple[bytes, bytes]) -> bytes:
    payload = golden(bericht)
    for old, new in pairs:
        assert old in payload, old
        payload = payload.replace(old, new)
    return payload


_PRODUCT_315 = (
    golden("JW315").split(b"<jw315:AangevraagdProduct>")[1].split(b"</jw315:AangevraagdProduct>")[0]
)
VARIANTS = {
    "jw315-optional-fields": (
        PROVIDER,
        _replace(
            "JW315",
            (b"</ijw:Datum>", b"</ijw:Datum>\n      <ijw:DatumGebruik>1</ijw:DatumGebruik>"),
            (
                b"<ijw:Voorletters>T<",
                b"<ijw:Voornamen>Testa Proef</ijw:Voornamen><ijw:Voorletters>T<",
            ),
            (b"<jw315:GezagsdragerBekend>1</jw315:GezagsdragerBekend>", b""),
            (
                b"<jw315:ReferentieAanbieder>NL-VOT-2026-0042</jw315:ReferentieAanbieder>",
                b"<jw315:ReferentieAanbieder>NL-VOT-2026-0042</jw315:ReferentieAanbieder>"
                b"<jw315:BeschikkingNummer>123456</jw315:BeschikkingNummer>",
            ),
            (
                b"</jw315:Product>\n        <jw315:ToewijzingIngangsdatum>",
                b"</jw315:Product>\n        <jw315:BeschikkingIngangsdatum>2026-12-01"
                b"</jw315:BeschikkingIngangsdatum><jw315:ToewijzingIngangsdatum>",
            ),
            (
                b"</jw315:AangevraagdeProducten>",
                b"<jw315:AangevraagdProduct>"
                + _PRODUCT_315.replace(b"NL-VOT-2026-0042", b"NL-VOT-2026-0043")
                .replace(b"<ijw:Code>54001</ijw:Code>", b"")
                .replace(b"<ijw:Type>02</ijw:Type>", b"<ijw:Type>05</ijw:Type>")
                .replace(
                    b"<ijw:ZorgverlenerCode>01000001</ijw:ZorgverlenerCode>",
                    b"<ijw:Naam>Dr. Proef</ijw:Naam>",
                )
                .replace(
                    b"<jw315:Raamcontract>2</jw315:Raamcontract>",
                    b"<jw315:Raamcontract>1</jw315:Raamcontract>",
                )
                + b"</jw315:AangevraagdProduct>"
                + b"<jw315:AangevraagdProduct>"
                b"<jw315:ReferentieAanbieder>X1</jw315:ReferentieAanbieder>"
                b"<jw315:ToewijzingIngangsdatum>2026-12-07</jw315:ToewijzingIngangsdatum>"
                b"<jw315:ToewijzingEinddatum>2026-12-31</jw315:ToewijzingEinddatum>"
                b"<jw315:Budget>1500</jw315:Budget>"
                b"<jw315:Verwijzer><ijw:Type>06</ijw:Type></jw315:Verwijzer>"
                b"</jw315:AangevraagdProduct></jw315:AangevraagdeProducten>",
            ),
        ),
    ),
    "jw301-optional-fields": (
        RIGG,
        _replace(
            "JW301",
            (
                b"</ijw:Geslachtsnaam>\n      <ijw:Voornamen>",
                b"</ijw:Geslachtsnaam><ijw:Partnernaam><ijw:Achternaam>Partner</ijw:Achternaam>"
                b"<ijw:Voorvoegsel>van</ijw:Voorvoegsel></ijw:Partnernaam><ijw:Voornamen>",
            ),
            (b"<ijw:NaamGebruik>1<", b"<ijw:NaamGebruik>4<"),
            (
                b"<ijw:Huisletter>A</ijw:Huisletter>",
                b"<ijw:Huisletter>A</ijw:Huisletter><ijw:HuisnummerToevoeging>bis</ijw:HuisnummerToevoeging>"
                b"<ijw:AanduidingWoonadres>TO</ijw:AanduidingWoonadres>",
            ),
            (
                b"</jw301:Contactgegevens>",
                b"<jw301:Contact><jw301:Soort>02</jw301:Soort></jw301:Contact>"
                b"<jw301:Contact><jw301:Soort>04</jw301:Soort><jw301:Adres><ijw:Plaatsnaam>Haren"
                b"</ijw:Plaatsnaam></jw301:Adres></jw301:Contact></jw301:Contactgegevens>",
            ),
            (
                b"</jw301:ToegewezenProducten>",
                b"<jw301:ToegewezenProduct><jw301:ToewijzingNummer>300202</jw301:ToewijzingNummer>"
                b"<jw301:Product><ijw:Categorie>45</ijw:Categorie></jw301:Product>"
                b"<jw301:Toewijzingsdatum>2026-12-02</jw301:Toewijzingsdatum>"
                b"<jw301:Toewijzingstijd>10:16:00</jw301:Toewijzingstijd>"
                b"<jw301:Ingangsdatum>2026-12-07</jw301:Ingangsdatum>"
                b"<jw301:Einddatum>2026-12-31</jw301:Einddatum>"
                b"<jw301:RedenWijziging>05</jw301:RedenWijziging>"
                b"<jw301:Budget>2500</jw301:Budget>"
                b"</jw301:ToegewezenProduct></jw301:ToegewezenProducten>",
            ),
        ),
    ),
    "jw302-rejections": (
        PROVIDER,
        _replace(
            "JW302",
            (
                b"</jw302:DagtekeningRetour>",
                b"</jw302:DagtekeningRetour><jw302:XsltVersie>1.2.3</jw302:XsltVersie>",
            ),
            (
                b"</jw302:XsdVersieRetour>",
                b"</jw302:XsdVersieRetour><jw302:RetourCodes><jw302:RetourCode>0200"
                b"</jw302:RetourCode></jw302:RetourCodes>",
            ),
            (
                b"<jw302:RetourCode>0200</jw302:RetourCode>\n        </jw302:RetourCodes>\n"
                b"      </jw302:ToegewezenProduct>",
                b"<jw302:RetourCode>9359</jw302:RetourCode><jw302:RetourCode>S329</jw302:RetourCode>"
                b"</jw302:RetourCodes></jw302:ToegewezenProduct>",
            ),
        ),
    ),
    "jw305-removal": (
        PROVIDER,
        _replace(
            "JW305",
            (b"<jw305:StatusAanlevering>1<", b"<jw305:StatusAanlevering>3<"),
            (b"<jw305:ToewijzingNummer>300201</jw305:ToewijzingNummer>", b""),
            (b"<ijw:Code>54001</ijw:Code>", b""),
        ),
    ),
    "jw307-no-product": (
        PROVIDER,
        _replace(
            "JW307",
            (
                b"<jw307:Product>\n          <ijw:Categorie>54</ijw:Categorie>\n          "
                b"<ijw:Code>54001</ijw:Code>\n        </jw307:Product>",
                b"",
            ),
            (b"</ijw:Datum>", b"</ijw:Datum><ijw:DatumGebruik>3</ijw:DatumGebruik>"),
            (b"<jw307:Geslacht>2<", b"<jw307:Geslacht>0<"),
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variants_round_trip_through_fhir(name: str) -> None:
    sender, payload = VARIANTS[name]
    registry = default_registry()
    decoder, encoder = (ADAPTER, RiggAdapter()) if sender == PROVIDER else (RiggAdapter(), ADAPTER)
    decoded = decoder.decode(payload, decode_context(registry, sender))
    fhir.validate_bundle(decoded.bundle)
    original = ijw.parse(payload, tuple(Bericht))
    assert ijw.parse(encoder.encode(decoded.bundle), tuple(Bericht)) == original


def test_a_removed_start_is_entered_in_error() -> None:
    _, payload = VARIANTS["jw305-removal"]
    episode = fhir.resource(_ijw_decode(payload).bundle, "EpisodeOfCare")
    assert episode["status"] == "entered-in-error"


def test_a_receipt_with_a_rejecting_code_is_rejected() -> None:
    _, payload = VARIANTS["jw302-rejections"]
    bundle = _ijw_decode(payload).bundle
    header = fhir.resource(bundle, "MessageHeader")
    (focus,) = header["focus"]
    answer = next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == focus["reference"])
    assert answer["status"] == "rejected"
    assert answer["statusReason"]["coding"][0]["code"] == "9359"


def test_sender_mismatch_when_afzender_is_another_provider() -> None:
    error = _ijw_error(golden("JW315"), sender="aanbieder-kompas")
    assert error.code is RejectReason.SENDER_MISMATCH
    assert error.partner_message_id == "JW315:NL2026000042"
    assert "73000001" not in error.message


def test_sender_mismatch_on_a_receipt_compares_its_ontvanger() -> None:
    error = _ijw_error(golden("JW302"), sender="aanbieder-kompas")
    assert error.code is RejectReason.SENDER_MISMATCH
    assert "Header/Ontvanger" in error.message


@pytest.mark.parametrize("bericht", ["JW315", "JW305", "JW307"])
def test_a_municipality_without_a_rigg_is_an_unknown_recipient(bericht: str) -> None:
    tag = bericht.lower().encode()
    payload = golden(bericht).replace(
        b"<" + tag + b":Ontvanger>0014<", b"<" + tag + b":Ontvanger>0363<"
    )
    error = _ijw_error(payload)
    assert error.code is RejectReason.UNKNOWN_RECIPIENT
    assert "0363" not in error.message


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (xxe(golden("JW315")), RejectReason.XML_UNSAFE),
        (billion_laughs(), RejectReason.XML_UNSAFE),
        (plain_doctype(golden("JW305")), RejectReason.XML_UNSAFE),
        (oversized(golden("JW307")), RejectReason.PAYLOAD_TOO_LARGE),
        (golden("JW301"), RejectReason.UNSUPPORTED_TYPE),
        (golden("JW316"), RejectReason.UNSUPPORTED_TYPE),
        (b"<JW315/>", RejectReason.UNSUPPORTED_TYPE),
        (golden("JW315").replace(GOLDEN_BSN.encode(), b"999990018"), RejectReason.INVALID_BSN),
        (GOLDEN_REFERRAL.read_bytes(), RejectReason.MALFORMED),
        (b"", RejectReason.MALFORMED),
        (b"\x00\x01", RejectReason.MALFORMED),
    ],
    ids=[
        "xxe",
        "billion-laughs",
        "doctype",
        "oversized",
        "jw301-from-provider",
        "jw316-from-provider",
        "wrong-root",
        "invalid-bsn",
        "json",
        "empty",
        "binary",
    ],
)
def test_hostile_or_broken_ijw_gets_its_code(payload: bytes, code: RejectReason) -> None:
    error = _ijw_error(payload)
    assert error.code is code, error.message


@pytest.mark.parametrize("bericht", ["JW301", "JW316"])
def test_provider_receives_jw301_and_jw316_as_xml(bericht: str) -> None:
    decoded = RiggAdapter().decode(golden(bericht), decode_context(default_registry(), RIGG))
    delivered = ADAPTER.encode(decoded.bundle)
    assert delivered.startswith(b"<?xml")
    assert ijw.parse(delivered, tuple(Bericht))[0] is Bericht(bericht)


def test_provider_does_not_receive_its_own_ijw_messages() -> None:
    bundle = _ijw_decode(golden("JW305")).bundle
    with pytest.raises(AdapterError) as caught:
        ADAPTER.encode(bundle)
    assert caught.value.code is RejectReason.UNSUPPORTED_TYPE
