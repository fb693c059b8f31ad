"""The OJG adapter: referrals, signals, regie claims and consent in; what an OJG receives out."""

from __future__ import annotations

from datetime import UTC, date, datetime

import orjson
import pytest

from adapters.base import AdapterError
from adapters.huisarts import HuisartsAdapter
from adapters.ojg import OjgAdapter
from adapters.testing import AdapterConformance
from adapters.wij import WijAdapter
from schemas import fhir
from schemas.codes import (
    CONCERN_CATEGORY_SYSTEM,
    ORGANISATION_CODE_SYSTEM,
    ConcernCategory,
    ConsentPurpose,
    MessageEvent,
    RejectReason,
)
from schemas.envelope import ConsentFacts, ConsentParty
from schemas.native import ReferralNotice, SignalReceived, TransferOfferReceived
from schemas.notices import Ack, HubNotice, Nack
from schemas.partners import PartnerKind
from tests.adapters.native_helpers import (
    EXAMPLES,
    PERSONAL_DATA,
    REGISTRY,
    SIBLING_BSN,
    EncodeNativeRoundTrip,
    context,
    decode,
    decode_error,
    minimised,
    round_trips,
    variant,
)
from tests.conftest import GOLDEN_BSN, GOLDEN_REFERRAL

ADAPTER = OjgAdapter()
OJG = "ojg-wijert"
INBOUND = ("verwijzing", "signaal", "regie-claim", "toestemming", "toestemming-ingetrokken")


def _example(type_name: str) -> bytes:
    return (EXAMPLES / f"ojg-{type_name}.json").read_bytes()


class TestOjgConformance(EncodeNativeRoundTrip, AdapterConformance):
    adapter = ADAPTER
    registry = REGISTRY
    sender_id = OJG
    valid_examples = tuple(_example(t) for t in INBOUND)
    invalid_examples = (
        (b"{", RejectReason.MALFORMED),
        (variant("ojg-signaal", type="zorgsignaal"), RejectReason.UNSUPPORTED_TYPE),
        (variant("ojg-signaal", child__bsn="999990018"), RejectReason.INVALID_BSN),
        (variant("ojg-signaal", concern_category="adhd"), RejectReason.SCHEMA_INVALID),
        (variant("ojg-signaal", sender__code="WIJ-ZUID"), RejectReason.SENDER_MISMATCH),
        (variant("ojg-verwijzing", addressed_to_agb="01000002"), RejectReason.UNKNOWN_RECIPIENT),
    )
    personal_data = PERSONAL_DATA


@pytest.mark.parametrize("type_name", INBOUND)
def test_every_example_round_trips(type_name: str) -> None:
    assert round_trips(ADAPTER, _example(type_name), OJG)


def test_referral_is_a_service_request_by_organisation_code() -> None:
    decoded = decode(ADAPTER, _example("verwijzing"), OJG)
    assert decoded.event is MessageEvent.REFERRAL
    assert decoded.recipient is not None
    assert decoded.recipient.id == "aanbieder-kompas"
    assert decoded.child_birth_date == date(2014, 3, 2)
    request = fhir.resource(decoded.bundle, "ServiceRequest")
    assert request["requester"] == {
        "identifier": {"system": ORGANISATION_CODE_SYSTEM, "value": "OJG-WIJERT"}
    }
    assert request["priority"] == "urgent"
    header = fhir.resource(decoded.bundle, "MessageHeader")
    assert fhir.partner_id_of(header["destination"][0]["endpoint"]) == "aanbieder-kompas"


def test_signal_is_a_flag_with_the_concern_as_its_code() -> None:
    decoded = decode(ADAPTER, _example("signaal"), OJG)
    assert decoded.event is MessageEvent.SIGNAL
    assert decoded.recipient is None
    assert decoded.facts.concern_category == "thuissituatie"
    flag = fhir.resource(decoded.bundle, "Flag")
    assert flag["status"] == "active"
    assert flag["code"]["coding"] == [{"system": CONCERN_CATEGORY_SYSTEM, "code": "thuissituatie"}]
    header = fhir.resource(decoded.bundle, "MessageHeader")
    assert header["focus"] == [{"reference": f"urn:uuid:{flag['id']}"}]
    assert "destination" not in header


def test_regie_claim_names_the_household() -> None:
    decoded = decode(ADAPTER, _example("regie-claim"), OJG)
    assert decoded.event is MessageEvent.REGIE_CLAIM
    assert decoded.child_bsn == GOLDEN_BSN
    assert decoded.household_member_bsns == (SIBLING_BSN,)
    assert decoded.recipient is None
    task = fhir.resource(decoded.bundle, "Task")
    group = fhir.resource(decoded.bundle, "Group")
    assert task["for"] == {"reference": f"urn:uuid:{group['id']}"}
    assert len(group["member"]) == 2
    assert task["owner"] == task["requester"]


def test_consent_carries_its_scope_as_routing_facts() -> None:
    decoded = decode(ADAPTER, _example("toestemming"), OJG)
    assert decoded.event is MessageEvent.CONSENT_GIVEN
    assert decoded.facts.consent == ConsentFacts(
        consent_id="TOE-OJG-2026-0077",
        given_by=(ConsentParty.PARENT, ConsentParty.PARENT),
        purposes=("verwijzing", "zorgcoordinatie"),
        recipients=("aanbieder-kompas",),
        recipient_kinds=(PartnerKind.WIJ,),
        valid_from=date(2026, 11, 23),
        valid_until=date(2027, 11, 22),
    )
    consent = fhir.resource(decoded.bundle, "Consent")
    assert consent["status"] == "active"
    assert consent["provision"]["period"] == {"start": "2026-11-23", "end": "2027-11-22"}
    assert [a["reference"]["identifier"]["value"] for a in consent["provision"]["actor"]] == [
        "aanbieder-kompas"
    ]
    assert len(consent["performer"]) == 2


def test_revocation_is_an_inactive_consent_with_the_same_id() -> None:
    decoded = decode(ADAPTER, _example("toestemming-ingetrokken"), OJG)
    assert decoded.event is MessageEvent.CONSENT_REVOKED
    assert decoded.facts.consent == ConsentFacts(
        consent_id="TOE-OJG-2026-0077", given_by=(ConsentParty.PARENT,)
    )
    consent = fhir.resource(decoded.bundle, "Consent")
    assert consent["status"] == "inactive"
    assert "provision" not in consent


def test_consent_to_an_unknown_partner_is_an_unknown_recipient() -> None:
    error = decode_error(ADAPTER, variant("ojg-toestemming", recipients=["aanbieder-nergens"]), OJG)
    assert error.code is RejectReason.UNKNOWN_RECIPIENT
    assert "recipients.0" in error.message
    assert error.partner_message_id == "OJG-WIJERT-2026-000314"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"recipients": None, "recipient_kinds": None}, "recipient"),
        ({"recipients": [], "recipient_kinds": []}, "recipient"),
        ({"valid_until": "2026-01-01"}, "valid_until"),
        ({"purposes": ["marketing"]}, "purposes"),
        ({"purposes": []}, "purposes"),
        ({"purposes": ["regie", "regie"]}, "purposes"),
        ({"given_by": []}, "given_by"),
        ({"given_by": ["buurman"]}, "given_by"),
        ({"recipient_kinds": ["tandarts"]}, "recipient_kinds"),
        ({"valid_from": None}, "valid_from"),
    ],
)
def test_consent_out_of_scope_is_schema_invalid(changes: dict[str, object], named: str) -> None:
    error = decode_error(ADAPTER, variant("ojg-toestemming", **changes), OJG)
    assert error.code is RejectReason.SCHEMA_INVALID
    assert named in error.message


def test_sender_mismatch_by_code_and_by_partner() -> None:
    spoofed = decode_error(ADAPTER, variant("ojg-signaal", sender__code="OJG-ANDERS"), OJG)
    assert spoofed.code is RejectReason.SENDER_MISMATCH
    assert "sender.code" in spoofed.message
    assert spoofed.partner_message_id == "OJG-WIJERT-2026-000312"
    other = decode_error(ADAPTER, _example("verwijzing"), "wij-zuid")
    assert other.code is RejectReason.SENDER_MISMATCH
    assert "referrer.code" in other.message


def test_an_agb_is_not_an_ojg_referrer() -> None:
    error = decode_error(ADAPTER, variant("ojg-verwijzing", referrer={"agb": "01000001"}), OJG)
    assert error.code is RejectReason.SCHEMA_INVALID


def test_invalid_sibling_bsn_names_its_path_not_its_value() -> None:
    error = decode_error(ADAPTER, variant("ojg-regie-claim", household__1__bsn="999990021"), OJG)
    assert error.code is RejectReason.INVALID_BSN
    assert error.message == "household.1.bsn fails the elfproef"
    assert "999990021" not in error.message


def test_a_child_named_twice_in_a_household_is_schema_invalid() -> None:
    first = orjson.loads(_example("regie-claim"))["household"][0]
    error = decode_error(ADAPTER, variant("ojg-regie-claim", household=[first, first]), OJG)
    assert error.code is RejectReason.SCHEMA_INVALID
    assert "household" in error.message


def test_missing_bsn_is_schema_invalid_not_invalid_bsn() -> None:
    error = decode_error(ADAPTER, variant("ojg-signaal", child__bsn=None), OJG)
    assert error.code is RejectReason.SCHEMA_INVALID
    assert "child.bsn" in error.message


@pytest.mark.parametrize("type_name", ["plan-update", "regie-afsluiting", "zorgsignaal"])
def test_types_an_ojg_does_not_send_are_unsupported(type_name: str) -> None:
    error = decode_error(ADAPTER, variant("ojg-signaal", type=type_name), OJG)
    assert error.code is RejectReason.UNSUPPORTED_TYPE
    for known in INBOUND:
        assert known in error.message


def test_garbage_is_malformed() -> None:
    assert decode_error(ADAPTER, b"\xff\x00", OJG).code is RejectReason.MALFORMED
    assert decode_error(ADAPTER, b"[1]", OJG).code is RejectReason.MALFORMED


# What an OJG receives.


def test_receives_a_signal_as_signaal_ontvangen() -> None:
    bundle = decode(
        HuisartsAdapter(), (EXAMPLES / "huisarts-signaal.json").read_bytes(), "huisarts-wijert"
    ).bundle
    received = SignalReceived.model_validate_json(ADAPTER.encode(bundle))
    assert received == SignalReceived(
        hub_message_id=bundle["id"],
        signal_id="HIS-WIJERT-2026-000124",
        signaller="huisarts-wijert",
        signalled_at=datetime.fromisoformat("2026-11-23T09:20:00+01:00"),
        child={"bsn": GOLDEN_BSN, "birth_date": date(2014, 3, 2)},
        concern_category=ConcernCategory.WELZIJN,
    )


def test_a_minimised_signal_arrives_without_what_was_removed() -> None:
    bundle = decode(ADAPTER, _example("signaal"), OJG).bundle
    received = SignalReceived.model_validate_json(
        ADAPTER.encode(minimised(bundle, "Flag.code", "Patient.birthDate"))
    )
    assert received.concern_category is None
    assert received.child is not None
    assert received.child.bsn == GOLDEN_BSN
    assert received.child.birth_date is None
    bare = SignalReceived.model_validate_json(ADAPTER.encode(minimised(bundle, "Patient")))
    assert bare.child is None
    assert bare.signal_id == "OJG-WIJERT-2026-000312"


def test_receives_a_gp_referral_as_verwijzing_ontvangen() -> None:
    bundle = decode(HuisartsAdapter(), GOLDEN_REFERRAL.read_bytes(), "huisarts-wijert").bundle
    notice = ReferralNotice.model_validate_json(ADAPTER.encode(bundle))
    assert notice.referral_id == "HIS-WIJERT-2026-000123"
    assert notice.referrer_partner == "huisarts-wijert"
    assert notice.referrer_agb == "01000001"
    assert notice.referrer_code is None
    assert notice.addressed_to_agb == "73000001"
    assert notice.client is not None
    assert notice.client.bsn == GOLDEN_BSN
    assert notice.reason is not None
    minimal = ReferralNotice.model_validate_json(
        ADAPTER.encode(minimised(bundle, "ServiceRequest.reasonCode", "ServiceRequest.category"))
    )
    assert minimal.reason is None
    assert minimal.care_category is None


def test_receives_a_transfer_offer() -> None:
    bundle = decode(
        WijAdapter(), (EXAMPLES / "wij-regie-overdracht-aanbod.json").read_bytes(), "wij-zuid"
    ).bundle
    offer = TransferOfferReceived.model_validate_json(ADAPTER.encode(bundle))
    assert offer.offer_message_id == "WIJ-ZUID-2026-001002"
    assert offer.from_partner == "wij-zuid"
    assert [c.bsn for c in offer.household] == [GOLDEN_BSN, SIBLING_BSN]


@pytest.mark.parametrize("type_name", ["regie-claim", "toestemming", "toestemming-ingetrokken"])
def test_does_not_receive_claims_or_consents(type_name: str) -> None:
    bundle = decode(ADAPTER, _example(type_name), OJG).bundle
    with pytest.raises(AdapterError) as caught:
        ADAPTER.encode(bundle)
    assert caught.value.code is RejectReason.UNSUPPORTED_TYPE


def test_receives_acks_nacks_and_hub_notices() -> None:
    at = datetime(2026, 11, 23, 12, tzinfo=UTC)
    ack = fhir.response_bundle(
        hub_message_id="7a0c9a3e-7c55-4d8e-9d7e-4f3c1f6c9a11",
        in_response_to="hub-1",
        partner_message_id="OJG-1",
        recipient_id=OJG,
        at=at,
        delivered_to=("wij-zuid",),
    )
    assert Ack.model_validate_json(ADAPTER.encode(ack)).delivered_to == ("wij-zuid",)
    nack = fhir.response_bundle(
        hub_message_id="7a0c9a3e-7c55-4d8e-9d7e-4f3c1f6c9a12",
        in_response_to="hub-1",
        partner_message_id="OJG-1",
        recipient_id=OJG,
        at=at,
        reject=RejectReason.UNKNOWN_RECIPIENT,
        reason="to is not a partner known to the hub",
    )
    assert (
        Nack.model_validate_json(ADAPTER.encode(nack)).reason_code is RejectReason.UNKNOWN_RECIPIENT
    )
    notice = fhir.notification_bundle(
        hub_message_id="7a0c9a3e-7c55-4d8e-9d7e-4f3c1f6c9a13",
        recipient_id=OJG,
        at=at,
        subject="signal-match",
        about=(("school-montessori", "Montessorischool Helpman", "zorg@example.org"),),
        regarding="OJG-WIJERT-2026-000312",
    )
    hub_notice = HubNotice.model_validate_json(ADAPTER.encode(notice))
    assert hub_notice.regarding == "OJG-WIJERT-2026-000312"
    assert [a.partner for a in hub_notice.about] == ["school-montessori"]


def test_purposes_are_the_policy_purposes() -> None:
    assert {p.value for p in ConsentPurpose} >= {"verwijzing", "zorgcoordinatie"}


def test_decode_is_deterministic_for_one_hub_message_id() -> None:
    ctx = context(OJG, "2f0d0b0e-1111-4222-8333-444455556666")
    assert ADAPTER.decode(_example("toestemming"), ctx) == ADAPTER.decode(
        _example("toestemming"), ctx
    )
