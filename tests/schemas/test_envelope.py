"""The routing envelope: Kafka headers there and back, pseudonyms only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hub.context import HubContext
from hub.stages.ingest import IngestStage
from hub.stages.records import InRecord
from hub.tools.bench_inprocess import bench_context
from hub.tools.bench_mix import BenchMix
from observability.metrics import HubMetrics
from schemas.codes import MessageEvent
from schemas.envelope import (
    ConsentFacts,
    ConsentParty,
    RoutingEnvelope,
    RoutingFacts,
    envelope_headers,
    header_value,
)
from schemas.partners import PartnerKind
from tests.conftest import GOLDEN_BIRTH_DATE, GOLDEN_BSN, GP, without_memberships


def _envelope(**changes: object) -> RoutingEnvelope:
    values: dict[str, object] = {
        "message_id": str(uuid.uuid4()),
        "event": MessageEvent.REFERRAL,
        "sender_id": "huisarts-wijert",
        "sender_kind": PartnerKind.HUISARTS,
        "partner_message_id": "HIS-1",
        "household": "a" * 32,
        "child": "b" * 32,
        "recipient_id": "aanbieder-noorderlicht",
        "recipient_kind": PartnerKind.AANBIEDER,
        "received_at": datetime(2026, 11, 23, 9, 15, 30, 123456, tzinfo=UTC),
    }
    values.update(changes)
    return RoutingEnvelope.model_validate(values)


def test_header_round_trip() -> None:
    envelope = _envelope()
    headers = envelope.to_headers()
    assert all(name.startswith("kh-") for name, _ in headers)
    assert all(isinstance(value, bytes) for _, value in headers)
    assert RoutingEnvelope.from_headers(headers) == envelope


def test_header_round_trip_without_recipient() -> None:
    envelope = _envelope(recipient_id=None, recipient_kind=None)
    headers = envelope.to_headers()
    names = {name for name, _ in headers}
    assert {name for name, _ in _envelope().to_headers()} - names == {
        "kh-recipient-id",
        "kh-recipient-kind",
    }
    assert RoutingEnvelope.from_headers(headers) == envelope


def test_default_facts_travel_as_no_header_at_all() -> None:
    envelope = _envelope(facts=RoutingFacts())
    assert "kh-facts" not in {name for name, _ in envelope.to_headers()}
    assert RoutingEnvelope.from_headers(envelope.to_headers()) == envelope
    aged = _envelope(facts=RoutingFacts(child_age=9))
    assert dict(aged.to_headers())["kh-facts"] == b'{"child_age":9}'


def test_header_round_trip_keeps_the_instant_of_a_non_utc_time() -> None:
    envelope = _envelope(received_at=datetime(2026, 3, 1, 8, tzinfo=timezone(timedelta(hours=1))))
    assert RoutingEnvelope.from_headers(envelope.to_headers()).received_at == envelope.received_at


def test_from_headers_ignores_foreign_headers() -> None:
    envelope = _envelope()
    headers = [("traceparent", b"00-abc"), *envelope.to_headers(), ("x-other", b"1")]
    assert RoutingEnvelope.from_headers(headers) == envelope


def test_from_headers_rejects_missing_fields() -> None:
    headers = [(k, v) for k, v in _envelope().to_headers() if k != "kh-household"]
    with pytest.raises(ValidationError):
        RoutingEnvelope.from_headers(headers)


def test_received_at_must_be_aware() -> None:
    with pytest.raises(ValidationError):
        _envelope(received_at=datetime(2026, 11, 23, 9, 15))


def test_header_value_gives_the_first_match() -> None:
    headers = [("a", b"1"), ("b", b"2"), ("a", b"3")]
    assert header_value(headers, "a") == "1"
    assert header_value(headers, "c") is None


def test_envelope_built_by_ingest_holds_no_bsn(
    hub_context: HubContext, metrics: HubMetrics, golden_payload: bytes
) -> None:
    stage = IngestStage(hub_context, metrics)
    [record] = without_memberships(
        stage.handle(InRecord(f"t.partner.{GP}.out", 0, 7, golden_payload))
    )
    assert record.topic == "t.canonical"
    for name, value in record.headers:
        assert GOLDEN_BSN.encode() not in value, name
        assert GOLDEN_BIRTH_DATE.encode() not in value, name
        assert GOLDEN_BSN not in name
    envelope = RoutingEnvelope.from_headers(record.headers)
    assert envelope.to_headers() == record.headers
    assert envelope.household == hub_context.pseudonyms.household_of(GOLDEN_BSN)
    assert envelope.child == hub_context.pseudonyms.child(GOLDEN_BSN)
    assert envelope.household != envelope.child
    assert envelope.sender_id == GP
    assert envelope.partner_message_id == "HIS-WIJERT-2026-000123"


def _headers_of_the_dump(envelope: RoutingEnvelope) -> list[tuple[str, bytes]]:
    """What ``to_headers`` promises, the generic way: ``model_dump(mode="json")``."""
    dumped = envelope.model_dump(mode="json", exclude={"facts"})
    headers = [
        (f"kh-{k.replace('_', '-')}", str(v).encode()) for k, v in dumped.items() if v is not None
    ]
    facts = envelope.facts.model_dump_json(exclude_defaults=True)
    return headers + ([("kh-facts", facts.encode())] if facts != "{}" else [])


@pytest.mark.parametrize(
    "received_at",
    [
        datetime(2026, 11, 23, 9, 15, 30, 123456, tzinfo=UTC),
        datetime(2026, 11, 23, 9, 15, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 8, 0, 0, 5, tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_the_headers_are_the_generic_dump_of_the_fields(received_at: datetime) -> None:
    for envelope in (
        _envelope(received_at=received_at),
        _envelope(received_at=received_at, recipient_id=None, recipient_kind=None),
        _envelope(received_at=received_at, source="t.partner.x.out:0:7"),
        _envelope(received_at=received_at, facts=RoutingFacts(child_age=9, area="zuid")),
    ):
        assert envelope.to_headers() == _headers_of_the_dump(envelope)


def test_every_bench_mix_envelope_s_headers_are_the_generic_dump() -> None:
    ctx = bench_context()
    ingest = IngestStage(ctx, HubMetrics())
    seen = set()
    for offset, message in enumerate(BenchMix(ctx.registry).messages(300)):
        topic = ctx.names.partner_out(message.sender.id)
        for out in ingest.handle(InRecord(topic, 0, offset, message.payload)):
            if out.topic == ctx.names.canonical:
                envelope = RoutingEnvelope.from_headers(out.headers)
                assert out.headers == _headers_of_the_dump(envelope)
                seen.add(envelope.event)
    assert len(seen) >= 8


_pseudonym = st.text("0123456789abcdef", min_size=32, max_size=32)
_text = st.one_of(st.none(), st.text(max_size=12))
_facts = st.builds(
    RoutingFacts,
    child_age=st.one_of(st.none(), st.integers(0, 130)),
    area=_text,
    related_partner_message_id=_text,
    household_members=st.lists(_pseudonym, max_size=3).map(tuple),
    concern_category=_text,
    consent=st.one_of(
        st.none(),
        st.builds(
            ConsentFacts,
            consent_id=st.text(min_size=1, max_size=8),
            given_by=st.lists(st.sampled_from(ConsentParty), max_size=2).map(tuple),
            purposes=st.lists(st.text(max_size=6), max_size=2).map(tuple),
        ),
    ),
    verzoek_antwoord=st.one_of(st.none(), st.sampled_from(["1", "2"])),
    handover=st.booleans(),
    renamed_children=st.lists(st.tuples(_pseudonym, _pseudonym), max_size=2).map(tuple),
)
_updates = st.fixed_dictionaries(
    {},
    optional={
        "child_age": st.one_of(st.none(), st.integers(0, 130)),
        "household_members": st.lists(_pseudonym, max_size=3).map(tuple),
        "area": _text,
        "merge_into": st.one_of(st.none(), _pseudonym),
        "merge_from": st.lists(_pseudonym, max_size=2).map(tuple),
        "split_children": st.lists(_pseudonym, max_size=2).map(tuple),
        "split_household": st.one_of(st.none(), _pseudonym),
        "key_migration": st.one_of(st.none(), _pseudonym),
        "renamed_children": st.lists(st.tuples(_pseudonym, _pseudonym), max_size=2).map(tuple),
    },
)


@given(_facts, _updates, st.booleans(), st.sampled_from(list(MessageEvent)))
def test_ingest_s_headers_are_the_generic_dump_of_the_model_it_no_longer_makes(
    facts: RoutingFacts, update: dict[str, object], addressed: bool, event: MessageEvent
) -> None:
    fields: dict[str, object] = {
        "message_id": str(uuid.uuid4()),
        "event": event,
        "sender_id": "huisarts-wijert",
        "sender_kind": PartnerKind.HUISARTS,
        "partner_message_id": "HIS-1",
        "household": "a" * 32,
        "child": "b" * 32,
        "recipient_id": "aanbieder-noorderlicht" if addressed else None,
        "recipient_kind": PartnerKind.AANBIEDER if addressed else None,
        "received_at": datetime(2026, 11, 23, 9, 15, 30, 123456, tzinfo=UTC),
        "source": "t.partner.huisarts-wijert.out:0:7",
    }
    envelope = RoutingEnvelope.model_validate({**fields, "facts": facts.model_copy(update=update)})
    headers = envelope_headers(fields, facts, update)
    assert headers == _headers_of_the_dump(envelope)
    assert RoutingEnvelope.from_headers(headers) == envelope
