"""The Dutch citizen service number (BSN) and its elfproef check.

A BSN never leaves this module in an error message: callers get a reason, not the value.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def is_valid_bsn(value: str) -> bool:
    """True when ``value`` is nine digits that pass the elfproef (weighted sum divisible by 11)."""
    if len(value) != 9 or not value.isascii() or not value.isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value, _WEIGHTS, strict=True))
    return total % 11 == 0 and value != "000000000"


def _check_bsn(value: str) -> str:
    if not is_valid_bsn(value):
        raise ValueError("not a valid BSN (nine digits passing the elfproef)")
    return value


Bsn = Annotated[str, AfterValidator(_check_bsn)]
"""A BSN field, validated with the elfproef.

Use it only inside a ``schemas.base.PrivateModel``: that config keeps pydantic from putting
the rejected value into the error text.
"""
