"""The Veiligheidshuis adapter: opschalen and afschalen in; signals and referrals out."""

from __future__ import annotations

from datetime import date

import orjson
import pytest

from adapters.base import AdapterError
from adapters.huisarts import HuisartsAdapter
from adapters.school import SchoolAdapter
from adapters.testing import AdapterConformance
from adapters.veiligheidshuis import VeiligheidshuisAdapter
from schemas import fhir
from schemas.codes import ESCALATION_REASON_SYSTEM, MessageEvent, RejectReason
from schemas.fhir_social import CASUS_ID_SYSTEM, REGIE_TASK_SYSTEM
from schemas.native import ReferralNotice, SignalReceived
from tests.adapters.native_helpers import (
    EXAMPLES,
    PERSONAL_DATA,
    REGISTRY,
    SIBLING_BSN,
    EncodeNativeRoundTrip,
    decode,
    decode_error,
    round_trips,
    variant,
)
from tests.conftest import GOLDEN_BSN, GOLDEN_REFERRAL

ADAPTER = VeiligheidshuisAdapter()
VH = "veiligheidshuis-groningen"
OPSCHALEN = (EXAMPLES / "veiligheidshuis-opschalen.json").read_bytes()
AFSCHALEN = (EXAMPLES / "veiligheidshuis-afschalen.json").read_bytes()


class TestVeiligheidshuisConformance(EncodeNativeRoundTrip, AdapterConformance):
    adapter = ADAPTER
    registry = REGISTRY
    sender_id = VH
    valid_examples = (OPSCHALEN, AFSCHALEN)
    invalid_examples = (
        (b"\x00", RejectReason.MALFORMED),
        (variant("veiligheidshuis-opschalen", type="regie-claim"), RejectReason.UNSUPPORTED_TYPE),
        (
            variant("veiligheidshuis-opschalen", household__2__bsn="999990031"),
            RejectReason.INVALID_BSN,
        ),
        (variant("veiligheidshuis-opschalen", household=[]), RejectReason.SCHEMA_INVALID),
        (
            variant("veiligheidshuis-afschalen", sender__code="WIJ-ZUID"),
            RejectReason.SENDER_MISMATCH,
        ),
    )
    personal_data = (*PERSONAL_DATA, "999990031")


@pytest.mark.parametrize("payload", [OPSCHALEN, AFSCHALEN], ids=["opschalen", "afschalen"])
def test_examples_round_trip(payload: bytes) -> None:
    assert round_trips(ADAPTER, payload, VH)


def test_opschalen_is_an_escalation_task_for_the_household() -> None:
    decoded = decode(ADAPTER, OPSCHALEN, VH)
    assert decoded.event is MessageEvent.ESCALATION
    assert decoded.recipient is None
    assert decoded.child_bsn == GOLDEN_BSN
    assert decoded.child_birth_date == date(2014, 3, 2)
    assert decoded.household_member_bsns == (SIBLING_BSN, "999990032")
    task = fhir.resource(decoded.bundle, "Task")
    assert task["code"]["coding"] == [{"system": REGIE_TASK_SYSTEM, "code": "escalation"}]
    assert task["status"] == "in-progress"
    assert task["reasonCode"]["coding"] == [
        {"system": ESCALATION_REASON_SYSTEM, "code": "huiselijk-geweld"}
    ]
    assert {"system": CASUS_ID_SYSTEM, "value": "VHG-CASUS-2026-0815"} in task["identifier"]
    group = fhir.resource(decoded.bundle, "Group")
    assert group["quantity"] == 3
    first = fhir.resource(decoded.bundle, "Patient")
    assert group["member"][0]["entity"]["reference"] == f"urn:uuid:{first['id']}"


def test_afschalen_names_the_casus_and_the_child() -> None:
    decoded = decode(ADAPTER, AFSCHALEN, VH)
    assert decoded.event is MessageEvent.DEESCALATION
    assert decoded.child_bsn == GOLDEN_BSN
    assert decoded.household_member_bsns == ()
    task = fhir.resource(decoded.bundle, "Task")
    assert task["status"] == "completed"
    assert {"system": CASUS_ID_SYSTEM, "value": "VHG-CASUS-2026-0815"} in task["identifier"]


def test_a_child_twice_in_the_household_is_schema_invalid() -> None:
    household = orjson.loads(OPSCHALEN)["household"]
    error = decode_error(
        ADAPTER, variant("veiligheidshuis-opschalen", household=[*household, household[1]]), VH
    )
    assert error.code is RejectReason.SCHEMA_INVALID
    assert "names the same child twice" in error.message


@pytest.mark.parametrize(
    "changes",
    [
        {"reason": "burenruzie"},
        {"casus_id": None},
        {"casus_id": "casus met spaties"},
        {"household": None},
    ],
)
def test_schema_errors(changes: dict[str, object]) -> None:
    error = decode_error(ADAPTER, variant("veiligheidshuis-opschalen", **changes), VH)
    assert error.code is RejectReason.SCHEMA_INVALID
    assert error.partner_message_id == "VHG-2026-OP-0042"


def test_a_wij_team_cannot_escalate_as_the_veiligheidshuis() -> None:
    error = decode_error(ADAPTER, OPSCHALEN, "wij-zuid")
    assert error.code is RejectReason.SENDER_MISMATCH


def test_receives_signals_and_referrals() -> None:
    school = decode(
        SchoolAdapter(), (EXAMPLES / "school-zorgsignaal.json").read_bytes(), "school-montessori"
    ).bundle
    signal = SignalReceived.model_validate_json(ADAPTER.encode(school))
    assert signal.signaller == "school-montessori"
    assert signal.concern_category == "verzuim"
    referral = decode(HuisartsAdapter(), GOLDEN_REFERRAL.read_bytes(), "huisarts-wijert").bundle
    notice = ReferralNotice.model_validate_json(ADAPTER.encode(referral))
    assert notice.referrer_agb == "01000001"


def test_does_not_receive_regie_messages_as_such() -> None:
    with pytest.raises(AdapterError) as caught:
        ADAPTER.encode(decode(ADAPTER, OPSCHALEN, VH).bundle)
    assert caught.value.code is RejectReason.UNSUPPORTED_TYPE
