"""The GP adapter passes the adapter conformance kit, as any partner adapter must."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import orjson
import pytest

from adapters.base import AdapterError, DecodeContext, Decoded
from adapters.huisarts import HuisartsAdapter
from adapters.testing import AdapterConformance, assert_no_personal_data
from schemas.codes import RejectReason
from tests.conftest import GOLDEN_BIRTH_DATE, GOLDEN_BSN, GOLDEN_REFERRAL, GP, default_registry

GOLDEN = GOLDEN_REFERRAL.read_bytes()
BAD_BSN = "999990018"
REASON = "Aanhoudende angstklachten"


def _golden_with(**changes: Any) -> bytes:
    data = orjson.loads(GOLDEN)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = data
        for parent in parents:
            target = target[parent]
        if value is None:
            del target[leaf]
        else:
            target[leaf] = value
    return orjson.dumps(data)


class TestHuisartsConformance(AdapterConformance):
    adapter = HuisartsAdapter()
    registry = default_registry()
    sender_id = GP
    valid_examples = (
        GOLDEN,
        _golden_with(urgency="crisis", addressed_to_agb="73000002", care_category="dyslexie"),
    )
    invalid_examples = (
        (b"\x00\x17MSH|^~\\&|HIS|not json", RejectReason.MALFORMED),
        (b"[]", RejectReason.MALFORMED),
        (_golden_with(type="ontslag"), RejectReason.UNSUPPORTED_TYPE),
        (_golden_with(child__bsn=BAD_BSN), RejectReason.INVALID_BSN),
        (_golden_with(reason=None), RejectReason.SCHEMA_INVALID),
        (_golden_with(child__birth_date="2014-02-31"), RejectReason.SCHEMA_INVALID),
        (_golden_with(referrer__agb="01000002"), RejectReason.SENDER_MISMATCH),
        (_golden_with(addressed_to_agb="99999999"), RejectReason.UNKNOWN_RECIPIENT),
    )
    personal_data = (GOLDEN_BSN, BAD_BSN, GOLDEN_BIRTH_DATE, "2014-02-31", REASON)


# The kit must fail a GP adapter that regresses; each broken variant below is one way.


class _LeakyAdapter(HuisartsAdapter):
    def decode(self, payload: bytes, ctx: DecodeContext) -> Decoded:
        try:
            return super().decode(payload, ctx)
        except AdapterError as error:
            raise AdapterError(error.code, f"{error.message} (got {GOLDEN_BSN})") from None


class _ChainingAdapter(HuisartsAdapter):
    def decode(self, payload: bytes, ctx: DecodeContext) -> Decoded:
        try:
            return super().decode(payload, ctx)
        except AdapterError as error:
            raise AdapterError(error.code, error.message) from ValueError(REASON)


class _LossyAdapter(HuisartsAdapter):
    def encode(self, bundle: Mapping[str, Any]) -> bytes:
        native = orjson.loads(super().encode(bundle))
        if native.get("type") == "verwijzing":
            native["urgency"] = "routine" if native["urgency"] != "routine" else "urgent"
        return orjson.dumps(native)


class _CrashingAdapter(HuisartsAdapter):
    def decode(self, payload: bytes, ctx: DecodeContext) -> Decoded:
        raise KeyError("child")


def _kit(adapter: HuisartsAdapter) -> AdapterConformance:
    kit = type("Kit", (TestHuisartsConformance,), {"adapter": adapter})
    return cast(AdapterConformance, kit())


INVALID_BSN_CASE = TestHuisartsConformance.invalid_examples[3]


@pytest.mark.parametrize(
    ("adapter", "check", "message"),
    [
        (_LeakyAdapter(), "test_errors_contain_no_personal_data", r"contains personal_data\[0\]"),
        (_ChainingAdapter(), "test_errors_contain_no_personal_data", "chained exception 1"),
        (_CrashingAdapter(), "test_invalid_example_is_rejected_with_its_code", "raised KeyError"),
    ],
    ids=["leak-in-message", "leak-in-cause", "crash"],
)
def test_the_kit_fails_a_broken_adapter(adapter: HuisartsAdapter, check: str, message: str) -> None:
    with pytest.raises(AssertionError, match=message) as caught:
        getattr(_kit(adapter), check)(INVALID_BSN_CASE)
    assert GOLDEN_BSN not in str(caught.value)


def test_the_kit_fails_a_lossy_round_trip_and_names_the_path() -> None:
    with pytest.raises(AssertionError, match=r"Bundle\.entry\[1\]\.resource\.priority") as caught:
        _kit(_LossyAdapter()).test_valid_example_round_trips(GOLDEN)
    assert "routine" not in str(caught.value)


def test_the_kit_fails_a_wrong_reject_code() -> None:
    kit = _kit(HuisartsAdapter())
    with pytest.raises(AssertionError, match="rejected as 'invalid-bsn', expected 'malformed'"):
        kit.test_invalid_example_is_rejected_with_its_code(
            (INVALID_BSN_CASE[0], RejectReason.MALFORMED)
        )


def test_the_kit_fails_when_the_sender_uses_another_adapter() -> None:
    kit = type("Kit", (TestHuisartsConformance,), {"sender_id": "aanbieder-noorderlicht"})()
    with pytest.raises(AssertionError, match="uses adapter 'aanbieder'"):
        kit.test_configuration()


@pytest.mark.parametrize(
    ("text", "leaks"),
    [
        ("child.bsn fails the elfproef", False),
        ("message 123456789 of 1234567890", False),  # 123456789 fails the elfproef
        ("bsn 999990019 rejected", True),
        ("id=x999990019y", True),
        ("a 10-digit 9999900190 is no BSN", False),
        ("reden: aanhoudende ANGSTKLACHTEN", True),
    ],
)
def test_assert_no_personal_data(text: str, leaks: bool) -> None:
    if leaks:
        with pytest.raises(AssertionError):
            assert_no_personal_data(text, [REASON])
    else:
        assert_no_personal_data(text, [REASON])
