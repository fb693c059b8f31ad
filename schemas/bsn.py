"""The Dutch citizen service number (BSN) and its elfproef check.

A BSN never leaves this module in an error message: callers get a reason, not the value.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def is_valid_bsn(value: str) -> bool:
    """True when ``value`` is nine digits that pass the elfproef (weighted sum divisible by 11)."""
    if len(value) != 9 or not value.isascii() or not value.isdigit():
        return False
    d = value.encode()  # ASCII digits: byte - 48 is the digit; the weights sum to 43
    total = 9 * d[0] + 8 * d[1] + 7 * d[2] + 6 * d[3] + 5 * d[4] + 4 * d[5] + 3 * d[6]
    total += 2 * d[7] - d[8] - 48 * 43
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
