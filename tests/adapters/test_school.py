"""The school adapter: a care signal in, never anything clinical; acks and notices out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import AdapterError
from adapters.huisarts import HuisartsAdapter
from adapters.school import SchoolAdapter
from adapters.testing import AdapterConformance
from schemas import fhir
from schemas.codes import BRIN_SYSTEM, ConcernCategory, MessageEvent, RejectReason
from schemas.native import BrinParty
from schemas.notices import Ack, HubNotice
from schemas.school import SCHOOL_ROLE_SYSTEM, ContactPerson, SchoolContactRole, SchoolSignal
from tests.adapters.native_helpers import (
    EXAMPLES,
    MESSAGE_IDS,
    PERSONAL_DATA,
    REGISTRY,
    EncodeNativeRoundTrip,
    children,
    context,
    decode,
    decode_error,
    json_of,
    round_trips,
    sent_ats,
    variant,
)
from tests.conftest import GOLDEN_BSN, GOLDEN_REFERRAL

ADAPTER = SchoolAdapter()
SCHOOL = "school-montessori"
GOLDEN = (EXAMPLES / "school-zorgsignaal.json").read_bytes()
DIAGNOSIS = "ADHD, gecombineerd type"


class TestSchoolConformance(EncodeNativeRoundTrip, AdapterConformance):
    adapter = ADAPTER
    registry = REGISTRY
    sender_id = SCHOOL
    valid_examples = (
        GOLDEN,
        variant("school-zorgsignaal", contact_person__phone=None, concern_category="gedrag"),
    )
    invalid_examples = (
        (b"zorgsignaal", RejectReason.MALFORMED),
        (variant("school-zorgsignaal", type="signaal"), RejectReason.UNSUPPORTED_TYPE),
        (variant("school-zorgsignaal", pupil__bsn="999990018"), RejectReason.INVALID_BSN),
        (variant("school-zorgsignaal", diagnose=DIAGNOSIS), RejectReason.SCHEMA_INVALID),
        (variant("school-zorgsignaal", school__brin="98VK"), RejectReason.SENDER_MISMATCH),
    )
    personal_data = (*PERSONAL_DATA, DIAGNOSIS)


def test_golden_signal_decodes_to_a_flag_with_the_contact_role() -> None:
    decoded = decode(ADAPTER, GOLDEN, SCHOOL)
    assert decoded.event is MessageEvent.SIGNAL
    assert decoded.child_bsn == GOLDEN_BSN
    assert decoded.recipient is None
    assert decoded.facts.concern_category == "verzuim"
    header = fhir.resource(decoded.bundle, "MessageHeader")
    assert header["sender"] == {"identifier": {"system": BRIN_SYSTEM, "value": "98MH"}}
    flag = fhir.resource(decoded.bundle, "Flag")
    role = fhir.resource(decoded.bundle, "PractitionerRole")
    assert flag["author"] == {"reference": f"urn:uuid:{role['id']}"}
    assert role["code"][0]["coding"] == [{"system": SCHOOL_ROLE_SYSTEM, "code": "zorgcoordinator"}]
    assert {t["system"] for t in role["telecom"]} == {"phone", "email"}
    assert all(t["use"] == "work" for t in role["telecom"])


def test_golden_signal_round_trips() -> None:
    assert round_trips(ADAPTER, GOLDEN, SCHOOL)


@pytest.mark.parametrize(
    "field",
    ["diagnose", "diagnosis", "reason", "toelichting", "notes"],
)
def test_a_clinical_or_free_text_field_does_not_exist(field: str) -> None:
    error = decode_error(ADAPTER, variant("school-zorgsignaal", **{field: DIAGNOSIS}), SCHOOL)
    assert error.code is RejectReason.SCHEMA_INVALID
    assert "(unknown field): Extra inputs are not permitted" in error.message
    assert DIAGNOSIS not in error.message
    assert error.partner_message_id == "MONTESSORI-ZS-2026-0019"


def test_the_model_has_no_field_for_clinical_content() -> None:
    fields = set(SchoolSignal.model_fields) | set(ContactPerson.model_fields)
    assert fields == {
        "type",
        "message_id",
        "sent_at",
        "school",
        "pupil",
        "concern_category",
        "contact_person",
        "role",
        "phone",
        "email",
    }


def test_a_contact_name_is_not_accepted_either() -> None:
    error = decode_error(
        ADAPTER, variant("school-zorgsignaal", contact_person__name="J. de Vries"), SCHOOL
    )
    assert error.code is RejectReason.SCHEMA_INVALID
    assert "contact_person.(unknown field)" in error.message
    assert "Vries" not in error.message


@pytest.mark.parametrize(
    "changes",
    [
        {"contact_person__phone": None, "contact_person__email": None},
        {"contact_person__role": "conciërge"},
        {"contact_person__email": "geen-adres"},
        {"contact_person__phone": "bel mij"},
        {"concern_category": "adhd"},
        {"school__brin": "98mh"},
        {"pupil__birth_date": None},
        {"sent_at": "2026-11-23T11:30:00"},
    ],
)
def test_schema_errors(changes: dict[str, object]) -> None:
    error = decode_error(ADAPTER, variant("school-zorgsignaal", **changes), SCHOOL)
    assert error.code is RejectReason.SCHEMA_INVALID


def test_invalid_pupil_bsn_names_the_pupil() -> None:
    error = decode_error(ADAPTER, variant("school-zorgsignaal", pupil__bsn="999990018"), SCHOOL)
    assert error.code is RejectReason.INVALID_BSN
    assert error.message == "pupil.bsn fails the elfproef"


def test_another_schools_brin_is_a_sender_mismatch() -> None:
    error = decode_error(ADAPTER, GOLDEN, "school-vinkhuizen")
    assert error.code is RejectReason.SENDER_MISMATCH
    assert "school.brin" in error.message


def test_a_school_never_receives_referral_or_signal_content() -> None:
    for bundle in (
        decode(HuisartsAdapter(), GOLDEN_REFERRAL.read_bytes(), "huisarts-wijert").bundle,
        decode(ADAPTER, GOLDEN, SCHOOL).bundle,
    ):
        with pytest.raises(AdapterError) as caught:
            ADAPTER.encode(bundle)
        assert caught.value.code is RejectReason.UNSUPPORTED_TYPE


def test_a_school_receives_acks_and_hub_notices() -> None:
    at = datetime(2026, 11, 23, 12, tzinfo=UTC)
    ack = fhir.response_bundle(
        hub_message_id=str(uuid.uuid4()),
        in_response_to="hub-1",
        partner_message_id="MONTESSORI-ZS-2026-0019",
        recipient_id=SCHOOL,
        at=at,
        delivered_to=("wij-zuid",),
    )
    assert Ack.model_validate_json(ADAPTER.encode(ack)).in_response_to == "MONTESSORI-ZS-2026-0019"
    notice = fhir.notification_bundle(
        hub_message_id=str(uuid.uuid4()),
        recipient_id=SCHOOL,
        at=at,
        subject="signal-match",
        about=(("ojg-wijert", "OJG De Wijert", "ojg@wijert.example"),),
        regarding="MONTESSORI-ZS-2026-0019",
    )
    assert HubNotice.model_validate_json(ADAPTER.encode(notice)).about[0].partner == "ojg-wijert"


@st.composite
def school_signals(draw: st.DrawFn) -> SchoolSignal:
    phone = draw(st.none() | st.from_regex(r"\+?[0-9][0-9 -]{5,18}[0-9]", fullmatch=True))
    email = draw(
        st.from_regex(r"[a-z0-9._-]{1,20}@[a-z0-9-]{1,20}\.[a-z]{2,6}", fullmatch=True)
        if phone is None
        else st.none() | st.from_regex(r"[a-z0-9._-]{1,20}@[a-z]{1,20}\.nl", fullmatch=True)
    )
    return SchoolSignal(
        type="zorgsignaal",
        message_id=draw(MESSAGE_IDS),
        sent_at=draw(sent_ats()),
        school=BrinParty(brin="98MH"),
        pupil=draw(children()),
        concern_category=draw(st.sampled_from(list(ConcernCategory))),
        contact_person=ContactPerson(
            role=draw(st.sampled_from(list(SchoolContactRole))), phone=phone, email=email
        ),
    )


@settings(max_examples=50, deadline=None)
@given(school_signals())
def test_school_signals_round_trip(original: SchoolSignal) -> None:
    decoded = ADAPTER.decode(json_of(original), context(SCHOOL))
    fhir.validate_bundle(decoded.bundle)
    assert decoded.facts.concern_category == original.concern_category.value
    native = ADAPTER.to_native(decoded.bundle)
    assert native.model_dump(mode="json") == original.model_dump(mode="json")
