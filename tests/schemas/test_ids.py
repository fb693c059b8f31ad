import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.ids import derived_id


@given(st.uuids(), st.text(max_size=40))
def test_derived_id_is_uuid5(base: uuid.UUID, part: str) -> None:
    expected = str(uuid.uuid5(base, part))
    assert derived_id(str(base), part) == expected
    assert derived_id(base, part) == expected
    assert derived_id(base.hex, part) == expected


def test_a_base_that_is_no_uuid_is_refused() -> None:
    with pytest.raises(ValueError):
        derived_id("not-a-uuid", "nack")
    with pytest.raises(ValueError):
        derived_id("z" * 32, "nack")


def test_an_odd_uuid_text_means_what_uuid_makes_of_it() -> None:
    """``bytes.fromhex`` skips whitespace where ``uuid.UUID`` reads a shorter number."""
    text = "0123456789abcdef0123456789abcd  "
    assert derived_id(text, "nack") == str(uuid.uuid5(uuid.UUID(text), "nack"))
