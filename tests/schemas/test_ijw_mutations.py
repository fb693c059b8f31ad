"""Mutated iJw 3.2 messages of every type: the hub's XSDs give the verdict the release gives.

The expected verdicts come from ``tests/schemas/ijw_mutations.py`` (mutation semantics plus the
fact table of the release), not from the hub's schema files.
"""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest
from lxml import etree

from schemas.ijw import XSD_DIR
from tests.schemas import ijw_mutations
from tests.schemas.ijw_facts import MESSAGES

MIN_CASES = 2_000


@cache
def _cases() -> tuple[ijw_mutations.Case, ...]:
    return tuple(ijw_mutations.cases())


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
