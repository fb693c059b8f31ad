"""Every one of the fourteen iJw messages is wired through: its own XSD, model and event, a
sender and a receiving adapter, a statutory flow in the policy, a golden example."""

from __future__ import annotations

import pytest

from adapters import aanbieder, rigg
from routing.policy import Policy
from schemas.audit import LegalBasis
from schemas.ijw import RETOUR_OF, Bericht
from schemas.ijw.models import model_of
from schemas.partners import PartnerKind
from tests.adapters.ijw_cases import GOLDEN
from tests.conftest import default_policy

POLICY: Policy = default_policy()
FROM_PROVIDER = {"JW315", "JW317", "JW305", "JW307", "JW323", "JW302", "JW320"}


def test_the_release_has_fourteen_messages_and_the_hub_speaks_them_all() -> None:
    assert len(Bericht) == 14
    assert {b.value for b in Bericht} == set(GOLDEN)
    assert len({b.code for b in Bericht}) == 14
    assert len({b.event for b in Bericht}) == 14


@pytest.mark.parametrize("bericht", list(Bericht), ids=str)
def test_each_message_is_wired_through(bericht: Bericht) -> None:
    assert bericht.xsd.exists()
    assert model_of(bericht.value).__name__ == bericht.value.capitalize()
    provider_sends = bericht.value in FROM_PROVIDER
    sender, receiver = (aanbieder, rigg) if provider_sends else (rigg, aanbieder)
    assert bericht in sender.SENDS and bericht not in sender.RECEIVES
    assert bericht in receiver.RECEIVES and bericht not in receiver.SENDS
    kinds = (PartnerKind.AANBIEDER, PartnerKind.RIGG)
    flow = POLICY.flow(bericht.event, *(kinds if provider_sends else kinds[::-1]))
    assert flow is not None and flow.bases == (LegalBasis.STATUTORY,)
    assert bericht.value in flow.why
    assert GOLDEN[bericht.value].name.startswith("aanbieder" if provider_sends else "rigg")


@pytest.mark.parametrize("retour", sorted(RETOUR_OF, key=str), ids=str)
def test_each_retour_goes_back_the_way_its_heenbericht_came(retour: Bericht) -> None:
    heen = RETOUR_OF[retour]
    assert (retour.value in FROM_PROVIDER) != (heen.value in FROM_PROVIDER)
    assert retour.answers is heen and retour.is_retour
    assert heen.answers is None
