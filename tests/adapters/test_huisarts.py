"""The GP adapter: native JSON referrals in, notices and referrals out."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import AdapterError
from adapters.huisarts import HuisartsAdapter
from hub.tools.demo_traffic import random_bsn
from schemas import fhir
from schemas.codes import AGB_SYSTEM, BSN_SYSTEM, CareCategory, MessageEvent, RejectReason, Urgency
from schemas.huisarts import Child, HuisartsReferral, HuisartsSignal, Referrer
from schemas.native import SignalReceived
from schemas.notices import Ack, Nack
from schemas.partners import PartnerRegistry
from tests.conftest import (
    GOLDEN_BIRTH_DATE,
    GOLDEN_BSN,
    GOLDEN_REFERRAL,
    GP,
    PROVIDER,
    decode_context,
    default_registry,
)

ADAPTER = HuisartsAdapter()
REGISTRY = default_registry()
GOLDEN_ID = "HIS-WIJERT-2026-000123"


def _golden() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(GOLDEN_REFERRAL.read_bytes())
    return data


def _decode_error(payload: bytes, sender: str = GP) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        ADAPTER.decode(payload, decode_context(REGISTRY, sender))
    return caught.value


def _with(**changes: Any) -> bytes:
    data = _golden()
    data.update(changes)
    return orjson.dumps(data)


def test_golden_referral_decodes(registry: PartnerRegistry) -> None:
    hub_message_id = str(uuid.uuid4())
    decoded = ADAPTER.decode(
        GOLDEN_REFERRAL.read_bytes(), decode_context(registry, GP, hub_message_id)
    )
    fhir.validate_bundle(decoded.bundle)
    assert decoded.event is MessageEvent.REFERRAL
    assert fhir.event_of(decoded.bundle) == MessageEvent.REFERRAL
    assert decoded.partner_message_id == GOLDEN_ID
    assert decoded.child_bsn == GOLDEN_BSN
    assert decoded.recipient is not None
    assert decoded.recipient.id == PROVIDER
    assert decoded.bundle["id"] == hub_message_id
    header = fhir.resource(decoded.bundle, "MessageHeader")
    assert fhir.partner_id_of(header["source"]["endpoint"]) == GP
    assert fhir.partner_id_of(header["destination"][0]["endpoint"]) == PROVIDER
    patient = fhir.resource(decoded.bundle, "Patient")
    assert patient["identifier"] == [{"system": BSN_SYSTEM, "value": GOLDEN_BSN}]
    assert patient["birthDate"] == GOLDEN_BIRTH_DATE


def test_decoded_repr_hides_the_bsn(registry: PartnerRegistry) -> None:
    decoded = ADAPTER.decode(GOLDEN_REFERRAL.read_bytes(), decode_context(registry))
    assert GOLDEN_BSN not in repr(decoded)


def test_golden_referral_round_trips(registry: PartnerRegistry) -> None:
    original = HuisartsReferral.model_validate_json(GOLDEN_REFERRAL.read_bytes())
    decoded = ADAPTER.decode(GOLDEN_REFERRAL.read_bytes(), decode_context(registry))
    encoded = ADAPTER.encode(decoded.bundle)
    assert HuisartsReferral.model_validate_json(encoded) == original


_REASON_CHARS = st.characters(categories=["L", "N", "P", "S", "Zs"])


@st.composite
def referrals(draw: st.DrawFn) -> HuisartsReferral:
    offset = draw(st.integers(min_value=-12 * 4, max_value=14 * 4)) * 15
    sent_at = draw(
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))
    ).replace(tzinfo=timezone(timedelta(minutes=offset)))
    provider = draw(st.sampled_from(["73000001", "73000002"]))
    return HuisartsReferral(
        type="verwijzing",
        message_id=draw(st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)),
        sent_at=sent_at,
        referrer=Referrer(agb="01000001"),
        child=Child(
            bsn=random_bsn(random.Random(draw(st.integers(0, 2**32)))),
            birth_date=draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 1, 1))),
        ),
        urgency=draw(st.sampled_from(list(Urgency))),
        care_category=draw(st.sampled_from(list(CareCategory))),
        addressed_to_agb=provider,
        reason=draw(st.text(_REASON_CHARS, min_size=1, max_size=200)).strip() or "x",
    )


@settings(max_examples=50, deadline=None)
@given(referrals())
def test_referrals_round_trip(original: HuisartsReferral) -> None:
    decoded = ADAPTER.decode(original.model_dump_json().encode(), decode_context(REGISTRY))
    fhir.validate_bundle(decoded.bundle)
    assert HuisartsReferral.model_validate_json(ADAPTER.encode(decoded.bundle)) == original


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x00\x17MSH|^~\\&|HIS|not json", b"{", b"\xff\xfe{}", b"verwijzing"],
)
def test_not_json_is_malformed(payload: bytes) -> None:
    error = _decode_error(payload)
    assert error.code is RejectReason.MALFORMED
    assert error.partner_message_id is None


@pytest.mark.parametrize("payload", [b"", b" \n\t "])
def test_an_empty_message_is_called_empty(payload: bytes) -> None:
    error = _decode_error(payload)
    assert (error.code, error.message) == (RejectReason.MALFORMED, "payload is empty")
    assert _decode_error(b"{").message == "payload is not valid UTF-8 JSON"


@pytest.mark.parametrize("payload", [b"[]", b'[{"type": "verwijzing"}]', b'"verwijzing"', b"42"])
def test_json_that_is_not_an_object_is_malformed(payload: bytes) -> None:
    assert _decode_error(payload).code is RejectReason.MALFORMED


@pytest.mark.parametrize("kind", ["ontslag", "", None, 7, ["verwijzing"]])
def test_unknown_type_is_unsupported(kind: object) -> None:
    error = _decode_error(_with(type=kind))
    assert error.code is RejectReason.UNSUPPORTED_TYPE
    assert "verwijzing" in error.message
    assert error.partner_message_id == GOLDEN_ID


def test_missing_type_is_unsupported() -> None:
    data = _golden()
    del data["type"]
    assert _decode_error(orjson.dumps(data)).code is RejectReason.UNSUPPORTED_TYPE


@pytest.mark.parametrize("field", ["reason", "urgency", "addressed_to_agb", "sent_at", "child"])
def test_missing_field_is_schema_invalid_and_named(field: str) -> None:
    data = _golden()
    del data[field]
    error = _decode_error(orjson.dumps(data))
    assert error.code is RejectReason.SCHEMA_INVALID
    assert field in error.message
    assert error.partner_message_id == GOLDEN_ID


def test_missing_nested_field_is_named_by_its_path() -> None:
    data = _golden()
    del data["child"]["birth_date"]
    error = _decode_error(orjson.dumps(data))
    assert error.code is RejectReason.SCHEMA_INVALID
    assert "child.birth_date" in error.message
    assert GOLDEN_BSN not in error.message


def test_schema_errors_do_not_echo_the_bad_values() -> None:
    error = _decode_error(
        _with(urgency="spoed-xyz", sent_at="2026-11-23T09:15:00", care_category="tandarts-qq")
    )
    assert error.code is RejectReason.SCHEMA_INVALID
    for value in ("spoed-xyz", "tandarts-qq", GOLDEN_BSN):
        assert value not in error.message


@pytest.mark.parametrize("bad_bsn", ["999990018", "99999001", "9999900190", "abcdefghi", 999990019])
def test_invalid_bsn_is_rejected_without_personal_data(bad_bsn: object) -> None:
    data = _golden()
    data["child"]["bsn"] = bad_bsn
    error = _decode_error(orjson.dumps(data))
    assert error.code is RejectReason.INVALID_BSN
    assert error.partner_message_id == GOLDEN_ID
    for text in (error.message, str(error)):
        assert str(bad_bsn) not in text
        assert GOLDEN_BIRTH_DATE not in text


def test_invalid_bsn_wins_over_other_schema_errors() -> None:
    data = _golden()
    data["child"]["bsn"] = "999990018"
    del data["reason"]
    assert _decode_error(orjson.dumps(data)).code is RejectReason.INVALID_BSN


def test_sender_mismatch() -> None:
    error = _decode_error(GOLDEN_REFERRAL.read_bytes(), sender="huisarts-hoogkerk")
    assert error.code is RejectReason.SENDER_MISMATCH
    assert error.partner_message_id == GOLDEN_ID


def test_unknown_provider_agb() -> None:
    error = _decode_error(_with(addressed_to_agb="99999999"))
    assert error.code is RejectReason.UNKNOWN_RECIPIENT
    assert "99999999" not in error.message
    assert error.partner_message_id == GOLDEN_ID


@pytest.mark.parametrize("gp_agb", ["01000002", "01000001"])
def test_addressing_a_gp_is_an_unknown_recipient(gp_agb: str) -> None:
    assert _decode_error(_with(addressed_to_agb=gp_agb)).code is RejectReason.UNKNOWN_RECIPIENT


def test_second_provider_is_routed_by_agb(registry: PartnerRegistry) -> None:
    decoded = ADAPTER.decode(_with(addressed_to_agb="73000002"), decode_context(registry))
    assert decoded.recipient is not None
    assert decoded.recipient.id == "aanbieder-kompas"


@pytest.mark.parametrize(
    ("message_id", "echoed"),
    [
        ("HIS-1", "HIS-1"),
        ("x" * 64, "x" * 64),
        ("x" * 65, None),
        ("", None),
        ("line\nbreak", None),
        ("tab\there", None),
        ("bél-1", None),
        ("\u202eHIS", None),
        (12345, None),
        (None, None),
        (["HIS-1"], None),
    ],
)
def test_partner_message_id_is_echoed_only_when_sane(
    message_id: object, echoed: str | None
) -> None:
    # Fails on the type, after the message id has been looked at.
    error = _decode_error(_with(message_id=message_id, type="ontslag"))
    assert error.code is RejectReason.UNSUPPORTED_TYPE
    assert error.partner_message_id == echoed


def test_partner_message_id_on_schema_error_is_echoed_only_when_sane() -> None:
    sane = _decode_error(_with(message_id="HIS-2", urgency="nope"))
    assert sane.partner_message_id == "HIS-2"
    insane = _decode_error(_with(message_id="y" * 100, urgency="nope"))
    assert insane.code is RejectReason.SCHEMA_INVALID
    assert insane.partner_message_id is None


def _response(
    reject: RejectReason | None, partner_message_id: str | None = "HIS-9"
) -> fhir.FhirDict:
    return fhir.response_bundle(
        hub_message_id=str(uuid.uuid4()),
        in_response_to="hub-original-id",
        partner_message_id=partner_message_id,
        recipient_id=GP,
        at=datetime(2026, 11, 23, 10, tzinfo=UTC),
        delivered_to=() if reject else (PROVIDER,),
        reject=reject,
        reason="" if reject is None else "child.bsn fails the elfproef",
    )


def test_ack_bundle_encodes_to_an_ack_notice() -> None:
    notice = Ack.model_validate_json(ADAPTER.encode(_response(None)))
    assert notice == Ack(
        in_response_to="HIS-9",
        hub_message_id="hub-original-id",
        delivered_to=(PROVIDER,),
        at=datetime(2026, 11, 23, 10, tzinfo=UTC),
    )


def test_nack_bundle_encodes_to_a_nack_notice() -> None:
    notice = Nack.model_validate_json(ADAPTER.encode(_response(RejectReason.INVALID_BSN)))
    assert notice == Nack(
        in_response_to="HIS-9",
        hub_message_id="hub-original-id",
        reason_code=RejectReason.INVALID_BSN,
        reason="child.bsn fails the elfproef",
        at=datetime(2026, 11, 23, 10, tzinfo=UTC),
    )


def test_nack_without_partner_id_has_null_in_response_to() -> None:
    raw = orjson.loads(ADAPTER.encode(_response(RejectReason.MALFORMED, partner_message_id=None)))
    assert raw["type"] == "nack"
    assert raw["in_response_to"] is None
    assert raw["reason_code"] == "malformed"


def test_encoding_an_unknown_event_is_unsupported() -> None:
    bundle = _response(None)
    bundle["entry"][0]["resource"]["eventCoding"]["code"] = "discharge"
    with pytest.raises(AdapterError) as caught:
        ADAPTER.encode(bundle)
    assert caught.value.code is RejectReason.UNSUPPORTED_TYPE


# The concern signal (signaal).

GOLDEN_SIGNAL = GOLDEN_REFERRAL.with_name("huisarts-signaal.json")


def _signal_with(**changes: Any) -> bytes:
    data = orjson.loads(GOLDEN_SIGNAL.read_bytes())
    data.update(changes)
    return orjson.dumps(data)


def test_golden_signal_decodes_to_a_flag(registry: PartnerRegistry) -> None:
    decoded = ADAPTER.decode(GOLDEN_SIGNAL.read_bytes(), decode_context(registry))
    fhir.validate_bundle(decoded.bundle)
    assert decoded.event is MessageEvent.SIGNAL
    assert decoded.partner_message_id == "HIS-WIJERT-2026-000124"
    assert decoded.child_bsn == GOLDEN_BSN
    assert decoded.recipient is None
    assert decoded.facts.concern_category == "welzijn"
    flag = fhir.resource(decoded.bundle, "Flag")
    assert flag["author"] == {"identifier": {"system": AGB_SYSTEM, "value": "01000001"}}
    assert flag["code"]["coding"][0]["code"] == "welzijn"


def test_golden_signal_round_trips(registry: PartnerRegistry) -> None:
    original = HuisartsSignal.model_validate_json(GOLDEN_SIGNAL.read_bytes())
    decoded = ADAPTER.decode(GOLDEN_SIGNAL.read_bytes(), decode_context(registry))
    assert ADAPTER.to_native(decoded.bundle) == original
    assert HuisartsSignal.model_validate_json(ADAPTER.encode_native(decoded.bundle)) == original


def test_signal_sender_mismatch() -> None:
    error = _decode_error(_signal_with(sender={"agb": "01000002"}))
    assert error.code is RejectReason.SENDER_MISMATCH
    assert error.message == "sender.agb is not the identifier registered for the sending partner"
    assert _decode_error(GOLDEN_SIGNAL.read_bytes(), "huisarts-hoogkerk").code is (
        RejectReason.SENDER_MISMATCH
    )


def test_signal_with_invalid_bsn_or_category() -> None:
    bad_bsn = _decode_error(_signal_with(child={"bsn": "999990018", "birth_date": "2014-03-02"}))
    assert bad_bsn.code is RejectReason.INVALID_BSN
    assert "999990018" not in bad_bsn.message
    bad_category = _decode_error(_signal_with(concern_category="depressie"))
    assert bad_category.code is RejectReason.SCHEMA_INVALID
    assert "depressie" not in bad_category.message


def test_a_gp_receives_a_signal_as_signaal_ontvangen(registry: PartnerRegistry) -> None:
    decoded = ADAPTER.decode(GOLDEN_SIGNAL.read_bytes(), decode_context(registry))
    received = SignalReceived.model_validate_json(ADAPTER.encode(decoded.bundle))
    assert received.signaller == GP
    assert received.signal_id == "HIS-WIJERT-2026-000124"
    assert received.concern_category == "welzijn"
