"""The provider adapter: referrals and notices out, nothing accepted in yet."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from adapters.aanbieder import AanbiederAdapter
from adapters.base import AdapterError
from adapters.huisarts import HuisartsAdapter
from schemas import fhir
from schemas.aanbieder import ReferralReceived
from schemas.codes import CareCategory, RejectReason, Urgency
from schemas.notices import Ack, Nack
from schemas.partners import PartnerRegistry
from tests.conftest import GOLDEN_BSN, GOLDEN_REFERRAL, GP, PROVIDER, decode_context

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


def test_requester_not_identified_by_agb_is_schema_invalid(registry: PartnerRegistry) -> None:
    bundle = _referral_bundle(registry, str(uuid.uuid4()))
    request = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    )
    request["requester"]["identifier"]["system"] = "urn:oid:2.16.528.1.1007.3.1"
    with pytest.raises(AdapterError) as caught:
        ADAPTER.encode(bundle)
    assert caught.value.code is RejectReason.SCHEMA_INVALID


@pytest.mark.parametrize(
    "payload",
    [
        GOLDEN_REFERRAL.read_bytes(),
        b"<JW315/>",
        b"",
        b"{}",
        b"\x00\x01",
    ],
)
def test_decode_of_anything_is_unsupported(registry: PartnerRegistry, payload: bytes) -> None:
    with pytest.raises(AdapterError) as caught:
        ADAPTER.decode(payload, decode_context(registry, PROVIDER))
    assert caught.value.code is RejectReason.UNSUPPORTED_TYPE
    assert caught.value.partner_message_id is None


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
