"""The WIJ adapter: regie, plans, referrals and consent in; signals, referrals, offers out."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import AdapterError
from adapters.ojg import OjgAdapter
from adapters.school import SchoolAdapter
from adapters.testing import AdapterConformance
from adapters.wij import WijAdapter
from schemas import fhir
from schemas.codes import ConsentPurpose, MessageEvent, RejectReason
from schemas.envelope import ConsentParty
from schemas.fhir_social import PARTNER_ID_SYSTEM, REGIE_TASK_SYSTEM
from schemas.native import CodeParty, ConsentGiven, SignalReceived, TransferOfferReceived
from schemas.partners import PartnerKind
from tests.adapters.native_helpers import (
    EXAMPLES,
    MESSAGE_IDS,
    PERSONAL_DATA,
    REGISTRY,
    SIBLING_BSN,
    EncodeNativeRoundTrip,
    children,
    context,
    decode,
    decode_error,
    json_of,
    minimised,
    round_trips,
    sent_ats,
    variant,
)
from tests.conftest import GOLDEN_BSN

ADAPTER = WijAdapter()
WIJ = "wij-zuid"
INBOUND = (
    "regie-claim",
    "regie-overdracht-aanbod",
    "regie-overdracht-akkoord",
    "regie-overdracht-afwijzing",
    "regie-afsluiting",
    "plan-update",
    "verwijzing",
    "toestemming",
    "toestemming-ingetrokken",
)
EVENTS = {
    "regie-claim": MessageEvent.REGIE_CLAIM,
    "regie-overdracht-aanbod": MessageEvent.REGIE_TRANSFER_OFFER,
    "regie-overdracht-akkoord": MessageEvent.REGIE_TRANSFER_ACCEPT,
    "regie-overdracht-afwijzing": MessageEvent.REGIE_TRANSFER_DECLINE,
    "regie-afsluiting": MessageEvent.REGIE_CLOSE,
    "plan-update": MessageEvent.PLAN_UPDATE,
    "verwijzing": MessageEvent.REFERRAL,
    "toestemming": MessageEvent.CONSENT_GIVEN,
    "toestemming-ingetrokken": MessageEvent.CONSENT_REVOKED,
}
SUMMARY = "Gezinsplan: ambulante gezinsbegeleiding gestart"


def _example(type_name: str) -> bytes:
    return (EXAMPLES / f"wij-{type_name}.json").read_bytes()


class TestWijConformance(EncodeNativeRoundTrip, AdapterConformance):
    adapter = ADAPTER
    registry = REGISTRY
    sender_id = WIJ
    valid_examples = tuple(_example(t) for t in INBOUND)
    invalid_examples = (
        (b"", RejectReason.MALFORMED),
        (variant("wij-plan-update", type="signaal"), RejectReason.UNSUPPORTED_TYPE),
        (variant("wij-plan-update", household__0__bsn="999990018"), RejectReason.INVALID_BSN),
        (variant("wij-plan-update", summary=""), RejectReason.SCHEMA_INVALID),
        (variant("wij-regie-claim", sender__code="WIJ-WEST"), RejectReason.SENDER_MISMATCH),
        (
            variant("wij-regie-overdracht-aanbod", to="wij-oost"),
            RejectReason.UNKNOWN_RECIPIENT,
        ),
    )
    personal_data = (*PERSONAL_DATA, SUMMARY)


@pytest.mark.parametrize("type_name", INBOUND)
def test_every_example_decodes_with_its_event_and_round_trips(type_name: str) -> None:
    decoded = decode(ADAPTER, _example(type_name), WIJ)
    assert decoded.event is EVENTS[type_name]
    assert fhir.event_of(decoded.bundle) == EVENTS[type_name]
    assert round_trips(ADAPTER, _example(type_name), WIJ)


@pytest.mark.parametrize(
    "type_name", ["regie-claim", "regie-overdracht-aanbod", "regie-afsluiting", "plan-update"]
)
def test_household_messages_name_the_first_child_and_the_others(type_name: str) -> None:
    decoded = decode(ADAPTER, _example(type_name), WIJ)
    assert decoded.child_bsn == GOLDEN_BSN
    assert decoded.child_birth_date == date(2014, 3, 2)
    assert decoded.household_member_bsns == (SIBLING_BSN,)
    assert decoded.recipient is None


def test_transfer_offer_names_its_registered_target() -> None:
    decoded = decode(ADAPTER, _example("regie-overdracht-aanbod"), WIJ)
    assert decoded.facts.regie_target == "wij-west"
    assert decoded.recipient is None
    task = fhir.resource(decoded.bundle, "Task")
    assert task["intent"] == "proposal"
    assert task["owner"] == {"identifier": {"system": PARTNER_ID_SYSTEM, "value": "wij-west"}}
    header = fhir.resource(decoded.bundle, "MessageHeader")
    assert fhir.partner_id_of(header["destination"][0]["endpoint"]) == "wij-west"


@pytest.mark.parametrize("target", ["wij-oost", "aanbieder-nergens"])
def test_transfer_to_an_unknown_partner_is_an_unknown_recipient(target: str) -> None:
    error = decode_error(ADAPTER, variant("wij-regie-overdracht-aanbod", to=target), WIJ)
    assert error.code is RejectReason.UNKNOWN_RECIPIENT
    assert error.message == "to is not a partner known to the hub"
    assert error.partner_message_id == "WIJ-ZUID-2026-001002"


def test_transfer_to_a_malformed_partner_id_is_schema_invalid() -> None:
    error = decode_error(ADAPTER, variant("wij-regie-overdracht-aanbod", to="WIJ West"), WIJ)
    assert error.code is RejectReason.SCHEMA_INVALID


@pytest.mark.parametrize(
    ("type_name", "status"),
    [("regie-overdracht-akkoord", "accepted"), ("regie-overdracht-afwijzing", "rejected")],
)
def test_answers_name_the_offer(type_name: str, status: str) -> None:
    decoded = decode(ADAPTER, _example(type_name), WIJ)
    offer_id = decoded.facts.related_partner_message_id
    assert offer_id is not None
    assert offer_id.startswith("WIJ-WEST-2026-")
    task = fhir.resource(decoded.bundle, "Task")
    assert task["status"] == status
    assert task["basedOn"] == [{"type": "Task", "identifier": {"value": offer_id}}]
    assert task["code"]["coding"] == [{"system": REGIE_TASK_SYSTEM, "code": EVENTS[type_name]}]


def test_answer_without_offer_id_is_schema_invalid() -> None:
    error = decode_error(
        ADAPTER, variant("wij-regie-overdracht-akkoord", offer_message_id=None), WIJ
    )
    assert error.code is RejectReason.SCHEMA_INVALID
    assert "offer_message_id" in error.message


def test_plan_update_is_a_care_plan_for_the_household() -> None:
    decoded = decode(ADAPTER, _example("plan-update"), WIJ)
    plan = fhir.resource(decoded.bundle, "CarePlan")
    group = fhir.resource(decoded.bundle, "Group")
    assert plan["subject"] == {"reference": f"urn:uuid:{group['id']}"}
    assert plan["author"]["identifier"]["value"] == "WIJ-ZUID"
    assert plan["description"].startswith(SUMMARY)
    assert plan["status"] == "active"


def test_referral_to_the_direct_access_provider() -> None:
    decoded = decode(ADAPTER, _example("verwijzing"), WIJ)
    assert decoded.recipient is not None
    assert decoded.recipient.id == "aanbieder-hoogkerk-direct"
    assert decoded.child_bsn == SIBLING_BSN


def test_referral_to_a_wij_team_is_an_unknown_recipient() -> None:
    error = decode_error(ADAPTER, variant("wij-verwijzing", addressed_to_agb="01000003"), WIJ)
    assert error.code is RejectReason.UNKNOWN_RECIPIENT


def test_consent_by_kinds_only() -> None:
    decoded = decode(ADAPTER, _example("toestemming"), WIJ)
    assert decoded.facts.consent is not None
    assert decoded.facts.consent.recipients == ()
    assert decoded.facts.consent.recipient_kinds == (PartnerKind.OJG, PartnerKind.SCHOOL)
    assert decoded.facts.consent.valid_until is None
    consent = fhir.resource(decoded.bundle, "Consent")
    assert "actor" not in consent["provision"]
    assert consent["provision"]["period"] == {"start": "2026-11-23"}


def test_another_teams_message_is_a_sender_mismatch() -> None:
    for type_name in INBOUND:
        error = decode_error(ADAPTER, _example(type_name), "wij-west")
        assert error.code is RejectReason.SENDER_MISMATCH, type_name


# What a WIJ team receives.


def test_receives_a_school_signal_minimised_for_wij() -> None:
    bundle = decode(
        SchoolAdapter(), (EXAMPLES / "school-zorgsignaal.json").read_bytes(), "school-montessori"
    ).bundle
    received = SignalReceived.model_validate_json(ADAPTER.encode(minimised(bundle, "Flag.code")))
    assert received.signaller == "school-montessori"
    assert received.signal_id == "MONTESSORI-ZS-2026-0019"
    assert received.concern_category is None
    assert received.child is not None
    assert received.child.bsn == GOLDEN_BSN


def test_receives_a_transfer_offer_from_another_team() -> None:
    bundle = decode(ADAPTER, variant("wij-regie-overdracht-aanbod", to="wij-zuid"), WIJ).bundle
    offer = TransferOfferReceived.model_validate_json(ADAPTER.encode(bundle))
    assert offer.offer_message_id == "WIJ-ZUID-2026-001002"
    assert len(offer.household) == 2
    bare = TransferOfferReceived.model_validate_json(ADAPTER.encode(minimised(bundle, "Group")))
    assert bare.household == ()


def test_an_incomplete_bundle_is_refused_without_a_crash() -> None:
    bundle = decode(OjgAdapter(), (EXAMPLES / "ojg-signaal.json").read_bytes(), "ojg-wijert").bundle
    with pytest.raises(AdapterError) as caught:
        ADAPTER.encode(minimised(bundle, "Flag"))
    assert caught.value.code is RejectReason.SCHEMA_INVALID
    assert "KeyError" in caught.value.message


@pytest.mark.parametrize(
    "type_name",
    ["regie-claim", "regie-overdracht-akkoord", "regie-afsluiting", "plan-update", "toestemming"],
)
def test_regie_and_consent_messages_reach_partners_as_hub_notices_only(type_name: str) -> None:
    with pytest.raises(AdapterError) as caught:
        ADAPTER.encode(decode(ADAPTER, _example(type_name), WIJ).bundle)
    assert caught.value.code is RejectReason.UNSUPPORTED_TYPE


_PARTNER_IDS = [p.id for p in REGISTRY.partners]


@st.composite
def consents(draw: st.DrawFn) -> ConsentGiven:
    recipients = draw(st.lists(st.sampled_from(_PARTNER_IDS), unique=True, max_size=4))
    kinds = draw(
        st.lists(st.sampled_from(list(PartnerKind)), unique=True, min_size=0 if recipients else 1)
    )
    valid_from = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 1, 1)))
    valid_until = draw(
        st.none() | st.integers(0, 3000).map(lambda days: valid_from + timedelta(days=days))
    )
    return ConsentGiven(
        type="toestemming",
        message_id=draw(MESSAGE_IDS),
        sent_at=draw(sent_ats()),
        sender=CodeParty(code="WIJ-ZUID"),
        consent_id=draw(MESSAGE_IDS),
        child=draw(children()),
        given_by=tuple(draw(st.lists(st.sampled_from(list(ConsentParty)), min_size=1, max_size=4))),
        purposes=tuple(
            draw(st.lists(st.sampled_from(list(ConsentPurpose)), unique=True, min_size=1))
        ),
        recipients=tuple(recipients),
        recipient_kinds=tuple(kinds),
        valid_from=valid_from,
        valid_until=valid_until,
    )


@settings(max_examples=60, deadline=None)
@given(consents())
def test_consents_round_trip(original: ConsentGiven) -> None:
    decoded = ADAPTER.decode(json_of(original), context(WIJ))
    fhir.validate_bundle(decoded.bundle)
    facts = decoded.facts.consent
    assert facts is not None
    assert facts.given_by == original.given_by
    assert facts.recipients == original.recipients
    assert facts.recipient_kinds == original.recipient_kinds
    native = ADAPTER.to_native(decoded.bundle)
    assert native.model_dump(mode="json") == original.model_dump(mode="json")
