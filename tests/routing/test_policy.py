"""The routing policy file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from hub.settings import DEFAULTS
from routing.policy import Flow, Policy
from schemas.audit import LegalBasis
from schemas.codes import MessageEvent
from schemas.partners import PartnerKind


def _flow(**changes: Any) -> dict[str, Any]:
    flow: dict[str, Any] = {
        "event": "referral",
        "sender": "huisarts",
        "recipient": "aanbieder",
        "bases": ["statutory"],
        "why": "Jeugdwet art. 2.6",
    }
    flow.update(changes)
    return flow


def test_default_policy_loads() -> None:
    policy = Policy.from_toml(DEFAULTS / "policy.toml")
    assert policy.flows
    assert all(flow.why for flow in policy.flows)


def test_referral_from_gp_to_provider_is_statutory() -> None:
    policy = Policy.from_toml(DEFAULTS / "policy.toml")
    flow = policy.flow(MessageEvent.REFERRAL, PartnerKind.HUISARTS, PartnerKind.AANBIEDER)
    assert flow is not None
    assert LegalBasis.STATUTORY in flow.bases


@pytest.mark.parametrize(
    ("event", "sender", "recipient"),
    [
        (MessageEvent.REFERRAL, PartnerKind.AANBIEDER, PartnerKind.HUISARTS),
        (MessageEvent.REFERRAL, PartnerKind.HUISARTS, PartnerKind.HUISARTS),
        (MessageEvent.REFERRAL, PartnerKind.SCHOOL, PartnerKind.AANBIEDER),
        (MessageEvent.ACKNOWLEDGEMENT, PartnerKind.HUISARTS, PartnerKind.AANBIEDER),
    ],
)
def test_unlisted_flows_are_absent(
    event: MessageEvent, sender: PartnerKind, recipient: PartnerKind
) -> None:
    assert Policy.from_toml(DEFAULTS / "policy.toml").flow(event, sender, recipient) is None


def test_duplicate_flows_are_rejected() -> None:
    with pytest.raises(ValidationError, match="only once"):
        Policy.model_validate(
            {"flows": [_flow(), _flow(bases=["consent"], purpose="verwijzing", why="other")]}
        )


def test_same_kinds_with_another_event_are_not_duplicates() -> None:
    policy = Policy.model_validate({"flows": [_flow(), _flow(event="acknowledgement")]})
    assert len(policy.flows) == 2


def test_empty_bases_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Flow.model_validate(_flow(bases=[]))


@pytest.mark.parametrize(
    "changes",
    [
        {"why": ""},
        {"bases": ["because"]},
        {"sender": "tandarts"},
        {"event": "discharge"},
        {"note": "extra"},
    ],
)
def test_invalid_flows_are_rejected(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Flow.model_validate(_flow(**changes))


def test_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[[flow]]\nevent = "referral"\nsender = "school"\nrecipient = "aanbieder"\n'
        'bases = ["consent", "statutory"]\npurpose = "verwijzing"\nwhy = "test"\n'
    )
    flow = Policy.from_toml(path).flow(
        MessageEvent.REFERRAL, PartnerKind.SCHOOL, PartnerKind.AANBIEDER
    )
    assert flow is not None
    assert flow.bases == (LegalBasis.CONSENT, LegalBasis.STATUTORY)


def test_empty_toml_allows_nothing(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("")
    policy = Policy.from_toml(path)
    assert policy.flow(MessageEvent.REFERRAL, PartnerKind.HUISARTS, PartnerKind.AANBIEDER) is None
