"""The elfproef and the pydantic ``Bsn`` type."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from hub.tools.demo_traffic import random_bsn
from schemas.aanbieder import ReferredClient
from schemas.bsn import Bsn, is_valid_bsn
from schemas.huisarts import Child

VALID = "999990019"

BSN_ADAPTER: TypeAdapter[str] = TypeAdapter(Bsn)


def _in_digits(zero: int, ascii_digits: str) -> str:
    """The same number written in another script's decimal digits (``str.isdigit`` is True)."""
    return "".join(chr(zero + int(d)) for d in ascii_digits)


def test_the_known_test_bsn_is_valid() -> None:
    assert is_valid_bsn(VALID)
    assert BSN_ADAPTER.validate_python(VALID) == VALID


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("999990018", id="wrong-check-digit"),
        pytest.param("99999001", id="8-digits"),
        pytest.param("9999900190", id="10-digits"),
        pytest.param("", id="empty"),
        pytest.param("99999001a", id="letter"),
        pytest.param("9999-0019", id="dash"),
        pytest.param(" 99990019", id="leading-space"),
        pytest.param("99999001 ", id="trailing-space"),
        pytest.param("-99990019", id="minus"),
        pytest.param("٩٩٩٩٩٠٠١٩", id="arabic-indic-digits"),
        pytest.param(_in_digits(0xFF10, VALID), id="fullwidth-digits"),
        pytest.param(_in_digits(0x0966, VALID), id="devanagari-digits"),
        pytest.param("000000000", id="all-zeros"),
    ],
)
def test_invalid_bsns_are_rejected(value: str) -> None:
    assert not is_valid_bsn(value)
    with pytest.raises(ValidationError):
        BSN_ADAPTER.validate_python(value)


def test_all_zeros_passes_the_arithmetic_but_is_still_rejected() -> None:
    # 0 is divisible by 11, so only the explicit rule keeps it out.
    assert not is_valid_bsn("000000000")


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_random_bsn_is_always_valid(seed: int) -> None:
    value = random_bsn(random.Random(seed))
    assert len(value) == 9
    assert is_valid_bsn(value)


@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    position=st.integers(min_value=0, max_value=8),
    delta=st.integers(min_value=1, max_value=9),
)
def test_every_single_digit_error_is_caught(seed: int, position: int, delta: int) -> None:
    valid = random_bsn(random.Random(seed))
    changed_digit = str((int(valid[position]) + delta) % 10)
    typo = valid[:position] + changed_digit + valid[position + 1 :]
    assert typo != valid
    assert not is_valid_bsn(typo)


@pytest.mark.parametrize("value", ["999990018", "12345678", "123456789", "99999001x"])
def test_bsn_error_messages_never_contain_the_value(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        BSN_ADAPTER.validate_python(value)
    for error in caught.value.errors(include_input=False):
        assert value not in error["msg"]
        assert value not in str(error.get("ctx", ""))


def _gp_child(value: str) -> object:
    return Child(bsn=value, birth_date=date(2014, 3, 2))


def _provider_client(value: str) -> object:
    return ReferredClient(bsn=value, birth_date=date(2014, 3, 2))


@pytest.mark.parametrize("build", [_gp_child, _provider_client])
def test_bsn_validation_error_text_never_contains_the_value(
    build: Callable[[str], object],
) -> None:
    """What a traceback or a log line shows when a BSN field fails (the promise of bsn.py)."""
    value = "999990018"
    with pytest.raises(ValidationError) as caught:
        build(value)
    assert value not in str(caught.value)
    assert value not in repr(caught.value)
