"""Canonical Bundles: valid FHIR R4, stable ids, privacy-safe validation errors."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from schemas import fhir
from schemas.codes import (
    BSN_SYSTEM,
    EVENT_SYSTEM,
    MessageEvent,
    RejectReason,
    Urgency,
    partner_endpoint,
)

BSN = "999990019"
SENT_AT = datetime(2026, 11, 23, 9, 15, tzinfo=timezone(timedelta(hours=1)))


def _referral(
    hub_message_id: str | None = None, urgency: Urgency = Urgency.ROUTINE
) -> fhir.FhirDict:
    return fhir.referral_bundle(
        hub_message_id=hub_message_id or str(uuid.uuid4()),
        sender_id="huisarts-wijert",
        partner_message_id="HIS-WIJERT-2026-000123",
        sent_at=SENT_AT,
        referrer_agb="01000001",
        recipient_id="aanbieder-noorderlicht",
        recipient_agb="73000001",
        bsn=BSN,
        birth_date="2014-03-02",
        urgency=urgency,
        care_category="jeugd-ggz",
        reason="Aanhoudende angstklachten.",
    )


def _response(
    hub_message_id: str | None = None,
    reject: RejectReason | None = None,
    partner_message_id: str | None = "HIS-1",
    delivered_to: tuple[str, ...] = (),
) -> fhir.FhirDict:
    return fhir.response_bundle(
        hub_message_id=hub_message_id or str(uuid.uuid4()),
        in_response_to=str(uuid.uuid4()),
        partner_message_id=partner_message_id,
        recipient_id="huisarts-wijert",
        at=datetime.now(UTC),
        delivered_to=delivered_to,
        reject=reject,
        reason="" if reject is None else "child.bsn fails the elfproef",
    )


@pytest.mark.parametrize("urgency", list(Urgency))
def test_referral_bundle_is_valid_fhir(urgency: Urgency) -> None:
    bundle = _referral(urgency=urgency)
    fhir.validate_bundle(bundle)
    assert bundle["type"] == "message"
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == [
        "MessageHeader",
        "ServiceRequest",
        "Patient",
    ]
    assert fhir.event_of(bundle) == MessageEvent.REFERRAL
    header = fhir.resource(bundle, "MessageHeader")
    assert header["eventCoding"]["system"] == EVENT_SYSTEM
    patient = fhir.resource(bundle, "Patient")
    assert patient["identifier"] == [{"system": BSN_SYSTEM, "value": BSN}]
    request = fhir.resource(bundle, "ServiceRequest")
    assert fhir.URGENCY_OF_PRIORITY[request["priority"]] is urgency


def test_referral_header_focuses_the_request_and_the_request_the_patient() -> None:
    bundle = _referral()
    urls = {e["resource"]["resourceType"]: e["fullUrl"] for e in bundle["entry"]}
    header = fhir.resource(bundle, "MessageHeader")
    request = fhir.resource(bundle, "ServiceRequest")
    assert header["focus"] == [{"reference": urls["ServiceRequest"]}]
    assert request["subject"] == {"reference": urls["Patient"]}
    assert fhir.partner_id_of(header["source"]["endpoint"]) == "huisarts-wijert"
    assert fhir.partner_id_of(header["destination"][0]["endpoint"]) == "aanbieder-noorderlicht"


@pytest.mark.parametrize("reject", [None, *RejectReason])
def test_response_bundles_are_valid_fhir(reject: RejectReason | None) -> None:
    bundle = _response(reject=reject, delivered_to=("aanbieder-noorderlicht",))
    fhir.validate_bundle(bundle)
    assert fhir.event_of(bundle) == MessageEvent.ACKNOWLEDGEMENT
    header = fhir.resource(bundle, "MessageHeader")
    outcome = fhir.resource(bundle, "OperationOutcome")
    assert header["response"]["code"] == ("ok" if reject is None else "fatal-error")
    assert fhir.extension_values(outcome, fhir.PARTNER_MESSAGE_ID_URL) == ["HIS-1"]
    assert fhir.extension_values(outcome, fhir.DELIVERED_TO_URL) == ["aanbieder-noorderlicht"]
    if reject is not None:
        assert outcome["issue"][0]["details"]["coding"][0]["code"] == reject.value


def test_nack_for_no_legal_basis_is_forbidden_others_invalid() -> None:
    forbidden = fhir.resource(_response(reject=RejectReason.NO_LEGAL_BASIS), "OperationOutcome")
    invalid = fhir.resource(_response(reject=RejectReason.INVALID_BSN), "OperationOutcome")
    assert forbidden["issue"][0]["code"] == "forbidden"
    assert invalid["issue"][0]["code"] == "invalid"


def test_response_without_partner_id_or_recipients_has_no_extensions() -> None:
    bundle = _response(partner_message_id=None)
    fhir.validate_bundle(bundle)
    assert "extension" not in fhir.resource(bundle, "OperationOutcome")


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def mutate(bundle: fhir.FhirDict) -> None:
        target: Any = bundle
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("path", "bad_value"),
    [
        (("entry", 2, "resource", "birthDate"), "2014-13-45"),
        (("timestamp",), "gisteren-999990019"),
        (("entry", 1, "resource", "authoredOn"), "999990019"),
        (("entry", 1, "resource", "intent"), 999990019),
    ],
)
def test_invalid_bundle_raises_without_the_value(path: tuple[Any, ...], bad_value: Any) -> None:
    bundle = copy.deepcopy(_referral())
    _set(path, bad_value)(bundle)
    with pytest.raises(fhir.FhirInvalidError) as caught:
        fhir.validate_bundle(bundle)
    text = str(caught.value)
    assert str(bad_value) not in text
    assert BSN not in text
    assert ".".join(str(p) for p in path) in text


def test_missing_required_element_is_invalid() -> None:
    bundle = _referral()
    del bundle["entry"][1]["resource"]["subject"]
    with pytest.raises(fhir.FhirInvalidError, match=r"entry\.1\.resource\.subject"):
        fhir.validate_bundle(bundle)


def _assert_urn_uuids(bundle: fhir.FhirDict) -> None:
    for entry in bundle["entry"]:
        url = entry["fullUrl"]
        assert url.startswith("urn:uuid:")
        parsed = uuid.UUID(url.removeprefix("urn:uuid:"))
        assert str(parsed) == url.removeprefix("urn:uuid:")
        assert entry["resource"]["id"] == str(parsed)


def test_full_urls_are_urn_uuids() -> None:
    _assert_urn_uuids(_referral())
    _assert_urn_uuids(_response())
    _assert_urn_uuids(_response(reject=RejectReason.MALFORMED))


def test_resource_ids_are_distinct_within_a_bundle() -> None:
    bundle = _referral()
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(urls)) == len(urls)


def test_ids_are_stable_for_the_same_hub_message_id() -> None:
    message_id = str(uuid.uuid4())
    first, second = _referral(message_id), _referral(message_id)
    assert first["id"] == second["id"] == message_id
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]
    other = _referral(str(uuid.uuid4()))
    assert {e["fullUrl"] for e in other["entry"]}.isdisjoint(e["fullUrl"] for e in first["entry"])


def test_response_ids_are_stable_for_the_same_hub_message_id() -> None:
    message_id = str(uuid.uuid4())
    first, second = _response(message_id), _response(message_id)
    assert first["id"] == second["id"] == message_id
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]


def test_resource_lookup_raises_key_error_when_absent() -> None:
    with pytest.raises(KeyError):
        fhir.resource(_response(), "Patient")


def test_partner_endpoint_round_trip() -> None:
    assert fhir.partner_id_of(partner_endpoint("aanbieder-kompas")) == "aanbieder-kompas"
