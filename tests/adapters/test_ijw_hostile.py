"""Hostile iJw input of the newer message types gets its own reject code, never a traceback
and never a value of the message in the text."""

from __future__ import annotations

import pytest

from adapters.aanbieder import AanbiederAdapter
from adapters.base import AdapterError
from adapters.rigg import RiggAdapter
from adapters.testing import decode_context
from tests.adapters.ijw_cases import PERSONAL, PROVIDER
from tests.adapters.ijw_hostile import IJW_HOSTILE, IjwHostile
from tests.conftest import default_registry

REGISTRY = default_registry()


@pytest.mark.parametrize("case", IJW_HOSTILE, ids=[c.id for c in IJW_HOSTILE])
def test_hostile_ijw_input_is_refused_with_its_own_code(case: IjwHostile) -> None:
    adapter = AanbiederAdapter() if case.partner == PROVIDER else RiggAdapter()
    with pytest.raises(AdapterError) as caught:
        adapter.decode(case.payload, decode_context(REGISTRY, case.partner))
    assert caught.value.code is case.reason, caught.value.message
    for value in (*PERSONAL, "DECL2027001XYZ", "9999"):
        assert value not in caught.value.message


def test_every_new_message_type_has_a_hostile_case() -> None:
    covered = {c.id.split("-", 1)[0].upper() for c in IJW_HOSTILE}
    assert {"JW306", "JW308", "JW317", "JW318", "JW319", "JW320", "JW323", "JW325"} <= covered
