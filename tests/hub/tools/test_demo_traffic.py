"""Demo traffic: valid messages decode, deliberate mistakes are rejected by ingest."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.registry import load_adapters
from hub.context import HubContext
from hub.stages.ingest import IngestStage
from hub.stages.records import InRecord
from hub.tools.demo_traffic import DemoTraffic, Mistake, broken_bsn
from observability.metrics import HubMetrics
from schemas.bsn import is_valid_bsn
from schemas.partners import PartnerKind, PartnerRegistry
from tests.conftest import decode_context, default_registry, without_memberships

REGISTRY = default_registry()


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_good_traffic_always_decodes(seed: int) -> None:
    """Every message of the mix, from every kind, is accepted by its sender's adapter."""
    traffic = DemoTraffic(REGISTRY, random.Random(seed), bad_share=0)
    adapters = load_adapters()
    for _ in range(30):
        message = traffic.next_message()
        assert message.mistake is Mistake.NONE
        adapter = adapters.get(message.sender.adapter_name)
        decoded = adapter.decode(message.payload, decode_context(REGISTRY, message.sender.id))
        if message.sender.kind is PartnerKind.HUISARTS and decoded.recipient is not None:
            assert decoded.recipient.kind is PartnerKind.AANBIEDER


def test_the_mix_covers_the_chain() -> None:
    traffic = DemoTraffic(REGISTRY, random.Random(3), bad_share=0)
    kinds = Counter(traffic.next_message().sender.kind for _ in range(400))
    assert {PartnerKind.HUISARTS, PartnerKind.SCHOOL, PartnerKind.OJG, PartnerKind.WIJ,
            PartnerKind.AANBIEDER} <= set(kinds)  # fmt: skip


def test_bad_traffic_is_rejected_except_resends(
    hub_context: HubContext, metrics: HubMetrics
) -> None:
    traffic = DemoTraffic(hub_context.registry, random.Random(20261123), bad_share=1, other_share=0)
    stage = IngestStage(hub_context, metrics)
    seen: Counter[Mistake] = Counter()
    for offset in range(300):
        message = traffic.next_message()
        seen[message.mistake] += 1
        topic = hub_context.names.partner_out(message.sender.id)
        out = without_memberships(stage.handle(InRecord(topic, 0, offset, message.payload)))
        accepted = [r.topic for r in out] == [hub_context.names.canonical]
        # A RESEND of a GP that sent nothing before is a fresh valid message (mistake NONE).
        assert accepted == (message.mistake in (Mistake.NONE, Mistake.RESEND)), message.mistake
    bad = set(Mistake) - {Mistake.NONE}
    assert bad <= set(seen), seen


def test_needs_gps_and_providers() -> None:
    only_gps = PartnerRegistry(partners=REGISTRY.of_kind(PartnerKind.HUISARTS))
    with pytest.raises(ValueError, match="at least one huisarts and one aanbieder"):
        DemoTraffic(only_gps, random.Random(1))


def test_same_seed_gives_the_same_children() -> None:
    a = DemoTraffic(REGISTRY, random.Random(7))
    b = DemoTraffic(REGISTRY, random.Random(7))
    assert a.children == b.children
    assert all(is_valid_bsn(bsn) for bsn, _ in a.children)


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_broken_bsn_is_never_valid(seed: int) -> None:
    value = broken_bsn(random.Random(seed))
    assert len(value) == 9
    assert value.isdigit()
    assert not is_valid_bsn(value)
