"""Mutated iJw 3.2 messages of every type: the hub's XSDs give the verdict the release gives.

The expected verdicts come from ``tests/schemas/ijw_mutations.py`` (mutation semantics plus the
fact table of the release), not from the hub's schema files.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from functools import cache

import pytest
from lxml import etree

from adapters import ijw
from adapters.base import AdapterError
from schemas import fhir, fhir_ijw
from schemas.codes import RejectReason
from schemas.ijw import XSD_DIR, Bericht
from schemas.ijw.models import IjwModel
from tests.adapters.ijw_cases import GOLDEN, golden
from tests.schemas import ijw_mutations
from tests.schemas.ijw_facts import MESSAGES

MIN_CASES = 2_000


@cache
def _cases() -> tuple[ijw_mutations.Case, ...]:
    golden_seeds = [
        ijw_mutations.from_document(bericht, "golden", etree.fromstring(golden(bericht)))
        for bericht in sorted(GOLDEN)
    ]
    return tuple(ijw_mutations.cases(golden_seeds))


@cache
def _schema(bericht: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / f"{bericht}.xsd")))


def test_the_suite_is_large_and_covers_every_message_type() -> None:
    cases = _cases()
    assert len(cases) >= MIN_CASES
    per_type = Counter(c.bericht for c in cases)
    assert set(per_type) == set(MESSAGES) and len(MESSAGES) == 14
    assert min(per_type.values()) >= 100


def test_the_expected_verdicts_are_not_one_sided() -> None:
    cases = _cases()
    valid = sum(c.expected_valid for c in cases)
    assert 0.05 * len(cases) < valid < 0.5 * len(cases)
    kinds = Counter(c.name.rsplit("/", 1)[-1] for c in cases)
    for kind in ("drop", "duplicate", "swap", "impossible-date", "not-a-code", "too-long"):
        assert kinds[kind] >= 20, kind
    assert {c.expected_valid for c in cases if c.name.endswith("/drop")} == {True, False}
    assert {c.expected_valid for c in cases if c.name.endswith("/duplicate")} == {True, False}


def test_the_oracle_knows_the_calendar_and_the_code_lists() -> None:
    assert not ijw_mutations.accepts("LDT_Datum", "2026-02-30")
    assert ijw_mutations.accepts("LDT_Datum", "2028-02-29")
    assert not ijw_mutations.accepts("LDT_Datum", "2026-12-07Z")
    assert not ijw_mutations.accepts("LDT_Eenheid", "99")
    assert ijw_mutations.accepts("LDT_Eenheid", "04")
    assert not ijw_mutations.accepts("LDT_AgbCode", "7300001")
    assert ijw_mutations.accepts("LDT_Nummer", " 12 ")
    assert not ijw_mutations.accepts("LDT_Naam", " ")
    assert not ijw_mutations.accepts("LDT_BerichtCode=436", "437")


@pytest.mark.parametrize("bericht", sorted(MESSAGES))
def test_the_hub_xsd_agrees_with_the_release_on_every_mutation(bericht: str) -> None:
    schema = _schema(bericht)
    disagreements = []
    for case in _cases():
        if case.bericht != bericht:
            continue
        verdict = schema.validate(etree.fromstring(case.payload))
        if verdict != case.expected_valid:
            disagreements.append(f"{case.name}: hub {verdict}, release {case.expected_valid}")
    assert disagreements == []


HUB_REFUSALS_OF_INVALID = {RejectReason.SCHEMA_INVALID, RejectReason.INVALID_BSN}
HUB_REFUSALS_OF_VALID = {RejectReason.RULE_VIOLATION, RejectReason.INVALID_BSN}
"""What the hub may still refuse in a message the release's structure allows: a broken
single-message rule, a BSN failing the elfproef (CS002), never its structure."""
Read = tuple[ijw_mutations.Case, RejectReason | None, tuple[Bericht, IjwModel] | None]


@cache
def _read_by_the_hub() -> tuple[Read, ...]:
    """The hub's verdict on every case the release allows and every third it refuses (those
    stop at the XSD, which the test above checks in full), to keep the suite fast."""
    invalid = [c for c in _cases() if not c.expected_valid]
    read: list[Read] = []
    for case in [c for c in _cases() if c.expected_valid] + invalid[::3]:
        try:
            read.append((case, None, ijw.parse(case.payload, tuple(Bericht))))
        except AdapterError as error:
            read.append((case, error.code, None))
    return tuple(read)


def test_the_hub_reads_what_the_release_allows_and_refuses_the_rest() -> None:
    """The whole read path (XSD, model, rules), not just the XSD: a model stricter than the
    release would refuse a valid message as schema-invalid; one laxer would accept it."""
    wrong = []
    for case, verdict, _ in _read_by_the_hub():
        allowed = HUB_REFUSALS_OF_VALID | {None} if case.expected_valid else HUB_REFUSALS_OF_INVALID
        if case.expected_valid and case.name.endswith("/blank"):
            allowed = allowed | {RejectReason.SCHEMA_INVALID}  # FHIR strings cannot be blank
        if verdict not in allowed:
            wrong.append(f"{case.name}: {verdict}")
    assert wrong == []


def test_the_golden_seeds_are_mutated_too() -> None:
    assert sum(c.name.split("/")[1] == "golden" for c in _cases()) > 1_000


def test_readable_mutations_round_trip_through_fhir() -> None:
    """Valid messages beyond the golden ones (every optional element, odd but allowed values)
    map to a valid FHIR Bundle and back to the same message: nothing is lost on the way.
    Every fourth readable one, for speed (the session that wrote this ran all: 0 lost)."""
    readable = [parsed for _, _, parsed in _read_by_the_hub() if parsed is not None]
    assert len(readable) > 1_000
    for bericht, message in readable[::4]:
        bundle = fhir_ijw.to_bundle(
            message,
            bericht,
            hub_message_id="00000000-0000-4000-8000-000000000001",
            sender_id="aanbieder-noorderlicht",
            recipient_id="rigg-groningen",
            partner_message_id=f"{bericht.value}:x",
            at=datetime(2027, 2, 10, tzinfo=UTC),
        )
        fhir.validate_bundle(bundle)
        back = ijw.render(*fhir_ijw.from_bundle(bundle))
        assert ijw.parse(back, (bericht,))[1] == message
