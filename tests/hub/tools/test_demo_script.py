"""The demo's script: everything it sends decodes (or is refused, when meant), and its
partners react to what the hub really delivers, through the real adapters."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

from pydantic import BaseModel

from adapters.base import Decoded
from adapters.registry import load_adapters
from hub.context import HubContext
from hub.stages.ingest import IngestStage, age_on
from hub.stages.records import InRecord
from hub.tools.demo_script import DemoScript, Kid, Outgoing
from observability.metrics import HubMetrics
from routing.minimise import minimise
from routing.policy import Policy
from schemas.envelope import ConsentParty
from schemas.partners import Partner, PartnerKind, PartnerRegistry
from tests.conftest import decode_context, default_registry, without_memberships

REGISTRY = default_registry()
ADAPTERS = load_adapters()


def _bytes(out: Outgoing) -> bytes:
    if isinstance(out.payload, BaseModel):
        return out.payload.model_dump_json(exclude_none=True).encode()
    return out.payload


def _decode(out: Outgoing) -> Decoded:
    adapter = ADAPTERS.get(out.sender.adapter_name)
    return adapter.decode(_bytes(out), decode_context(REGISTRY, out.sender.id))


def _delivered(out: Outgoing, to: Partner, policy: Policy) -> bytes:
    """What the hub delivers of ``out`` to ``to``: decoded, minimised, encoded."""
    bundle = minimise(_decode(out).bundle, policy.minimisation_for(to.kind))
    return ADAPTERS.get(to.adapter_name).encode(bundle)


def _chain(out: Outgoing) -> list[Outgoing]:
    return [out, *(_chain(out.then) if out.then else [])]


def test_every_initiative_and_its_follow_up_decodes_when_not_meant_to_fail() -> None:
    script = DemoScript(REGISTRY, random.Random(5), bad_share=0)
    seen: Counter[tuple[PartnerKind, str]] = Counter()
    for _ in range(400):
        out = script.next_initiative()
        assert out is not None
        for one in _chain(out):
            seen[(one.sender.kind, _decode(one).event.value)] += 1
    assert {kind for kind, _ in seen} == {
        PartnerKind.HUISARTS, PartnerKind.SCHOOL, PartnerKind.OJG, PartnerKind.WIJ,
        PartnerKind.VEILIGHEIDSHUIS,
    }  # fmt: skip
    assert seen[(PartnerKind.OJG, "consent-given")] == seen[(PartnerKind.OJG, "referral")]
    assert (
        seen[(PartnerKind.VEILIGHEIDSHUIS, "escalation")]
        == seen[(PartnerKind.VEILIGHEIDSHUIS, "de-escalation")]
    )


def test_meant_mistakes_are_refused_by_ingest_and_the_rest_accepted(
    hub_context: HubContext, metrics: HubMetrics
) -> None:
    script = DemoScript(hub_context.registry, random.Random(11), bad_share=0.5)
    stage = IngestStage(hub_context, metrics)
    mistakes: Counter[str] = Counter()
    for offset in range(300):
        out = script.gp_referral()
        mistakes[out.mistake] += 1
        topic = hub_context.names.partner_out(out.sender.id)
        records = without_memberships(stage.handle(InRecord(topic, 0, offset, _bytes(out))))
        accepted = [r.topic for r in records] == [hub_context.names.canonical]
        assert accepted == (not out.meant_to_fail), out.mistake
    assert len(mistakes) == 6, mistakes  # valid + five kinds of GP mistake


def test_a_provider_asks_the_rigg_which_assigns_and_care_starts_and_stops(
    policy: Policy,
) -> None:
    script = DemoScript(REGISTRY, random.Random(2), bad_share=0)
    provider = REGISTRY.get("aanbieder-kompas")
    rigg = REGISTRY.get("rigg-groningen")
    assert provider is not None and rigg is not None
    referral = script.gp_referral()
    [jw315] = script.react(provider, _delivered(referral, provider, policy))
    assert _decode(jw315).recipient == rigg
    answers = script.react(rigg, _delivered(jw315, rigg, policy))
    assert [_decode(a).event.value for a in answers] == ["assignment-request-answer",
                                                         "assignment"]  # fmt: skip
    assert all(_decode(a).recipient == provider for a in answers)
    jw302, jw305 = script.react(provider, _delivered(answers[1], provider, policy))
    assert [_decode(jw302).event.value, _decode(jw305).event.value] == [
        "assignment-receipt", "care-start",
    ]  # fmt: skip
    assert jw305.then is not None and _decode(jw305.then).event.value == "care-end"
    assert jw305.delay_s >= 10


def test_a_wij_team_claims_a_household_it_hears_of_once(policy: Policy) -> None:
    script = DemoScript(REGISTRY, random.Random(3), bad_share=0)
    team = REGISTRY.get("wij-zuid")
    assert team is not None
    signal = next(o for o in iter(script.gp_signal, None) if o.sender.area == "zuid")
    delivered = _delivered(signal, team, policy)
    [claim] = script.react(team, delivered)
    assert _decode(claim).event.value == "regie-claim"
    assert script.react(team, delivered) == []  # the second signal finds it its regisseur


def test_children_of_an_area_are_heard_by_that_areas_team_only() -> None:
    script = DemoScript(REGISTRY, random.Random(4))
    areas = [set(k.bsn for k in pool) for pool in script.pools.values()]
    assert all(a.isdisjoint(b) for i, a in enumerate(areas) for b in areas[i + 1 :])
    registry = PartnerRegistry(partners=REGISTRY.of_kind(PartnerKind.HUISARTS))
    try:
        DemoScript(registry, random.Random(1))
    except ValueError as error:
        assert "huisarts, an aanbieder and a rigg" in str(error)
    else:
        raise AssertionError("a chain without providers must be refused")


def test_the_signers_of_a_consent_are_the_ones_the_policy_asks_for_on_either_side_of_a_birthday(
    policy: Policy,
) -> None:
    """A child a few days before its 16th birthday is 15: days // 365 once said 16, and the demo's
    consent went out signed by the child alone (consent-incomplete, a nack it did not mean)."""
    today = date(2026, 12, 2)
    script = DemoScript(REGISTRY, random.Random(1), today=today)
    for years in (12, 16):
        for shift in range(-20, 21):
            born = date(today.year - years, today.month, today.day) + timedelta(days=shift)
            signers = script._signers(Kid("000000000", born))
            age = age_on(born, today)
            assert policy.signatories_sufficient(age, tuple(ConsentParty(s) for s in signers))
