"""A mutation generator for iJw 3.2 messages, with an expected verdict that does not trust
the hub's XSD.

Seeds: for every message type two messages built from the fact table in
``tests/schemas/ijw_facts.py`` (the release's structure, transcribed as test data): a *full*
one (every optional element present, unbounded elements twice) and a *minimal* one (only
what is required). Every element of every seed is then mutated:

- structure: ``drop`` one occurrence, ``duplicate`` it, ``swap`` it with its next sibling,
  move it to the ``wrong-namespace``, insert an ``unknown`` element after it;
- value (leaf elements): empty, blank, padded, one past the maximum length, exactly the
  maximum length, a code outside its list, letters in a number, one past the range, a
  negative number, impossible dates (2026-02-30, month 13), dates and times with a zone,
  a truncated value and a value with a broken pattern.

The expected verdict comes from the mutation's own semantics plus the fact table, never
from an XSD: a drop is valid iff the remaining count still reaches minOccurs, a duplicate
iff it stays within maxOccurs, a swap of two different elements in an XSD sequence is never
valid, nor is an element in the wrong namespace or one the structure does not know. A value
is judged by ``accepts`` below: the XSD built-in lexical rules (whitespace preserved for
strings, collapsed for numbers and dates), real calendar dates, then the lengths, range,
patterns and codes of the fact table. The test compares that verdict with what the hub's
XSD says; in the session that wrote the schemas the same cases also ran against the
published iJw XSDs (see ``schemas/ijw/README.md``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from lxml import etree

from tests.schemas.ijw_facts import COMPOSITES, MESSAGES, TYPES, Child, Children, Type

BASIS_NS = "http://www.istandaarden.nl/ijw/3_2/basisschema/schema"
"""The basisschema namespace as the release defines it (restated, not imported from the hub)."""


def message_ns(bericht: str) -> str:
    return f"http://www.istandaarden.nl/ijw/3_2/{bericht.lower()}/schema"


@dataclass(frozen=True)
class Case:
    bericht: str
    name: str
    payload: bytes
    expected_valid: bool


# ---- the oracle ---------------------------------------------------------------------------

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(Z|[+-](\d{2}):(\d{2}))?")
_TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))?")
_INT = re.compile(r"[+-]?[0-9]+")
_XML_SPACE = " \t\n\r"


def _zone_ok(hours: str | None, minutes: str | None) -> bool:
    if hours is None or minutes is None:
        return True
    return int(hours) * 60 + int(minutes) <= 14 * 60 and int(minutes) < 60


def _lexical_ok(kind: str, value: str) -> bool:
    if kind == "int":
        return _INT.fullmatch(value) is not None
    if kind == "date":
        found = _DATE.fullmatch(value)
        if found is None or not _zone_ok(found.group(5), found.group(6)):
            return False
        try:
            date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            return False
        return found.group(1) != "0000"
    if kind == "time":
        found = _TIME.fullmatch(value)
        if found is None or not _zone_ok(found.group(6), found.group(7)):
            return False
        h, m, s = (int(found.group(i)) for i in (1, 2, 3))
        return h < 24 and m < 60 and s < 60
    return True


def split_type(type_name: str) -> tuple[Type, str | None]:
    """A simple type of the fact table, and the pattern of an inline restriction on it."""
    base, _, pattern = type_name.partition("=")
    return TYPES[base], (pattern or None)


def accepts(type_name: str, text: str) -> bool:
    """Whether the release accepts ``text`` as a value of this simple type."""
    facts, extra = split_type(type_name)
    value = text if facts.kind == "str" else text.strip(_XML_SPACE)
    if facts.kind != "str" and re.search(r"[\t\n\r ]{2,}|[\t\n\r]", value):
        value = " ".join(value.split())
    if not _lexical_ok(facts.kind, value):
        return False
    if facts.kind == "str":
        if facts.min_length is not None and len(value) < facts.min_length:
            return False
        if facts.max_length is not None and len(value) > facts.max_length:
            return False
    if facts.kind == "int":
        number = int(value)
        if facts.low is not None and number < facts.low:
            return False
        if facts.high is not None and number > facts.high:
            return False
    if facts.patterns and not any(re.fullmatch(p, value) for p in facts.patterns):
        return False
    if extra is not None and re.fullmatch(extra, value) is None:
        return False
    return not facts.codes or value in facts.codes


# ---- seeds --------------------------------------------------------------------------------


def _children_of(bericht: str, type_name: str) -> tuple[Children, str] | None:
    if type_name.startswith("."):
        return MESSAGES[bericht][type_name[1:]], message_ns(bericht)
    if type_name in COMPOSITES:
        return COMPOSITES[type_name], BASIS_NS
    return None


def _sample(type_name: str) -> str:
    facts, extra = split_type(type_name)
    return extra if extra is not None and re.fullmatch(r"[0-9]+", extra) else facts.sample


@dataclass
class Seed:
    bericht: str
    kind: str
    root: etree._Element
    facts: dict[int, Child]
    """Fact of each element, keyed by its index in document order (``root.iter()``)."""


def build(bericht: str, full: bool) -> Seed:
    ns = message_ns(bericht)
    prefix = bericht.lower()
    root = etree.Element(f"{{{ns}}}Bericht", nsmap={prefix: ns, "ijw": BASIS_NS})
    facts_by_element: dict[etree._Element, Child] = {}

    def fill(parent: etree._Element, children: Children, child_ns: str) -> None:
        for child in children:
            name, low, high, type_name = child
            count = (2 if high is None else 1) if full else low
            for _ in range(count):
                element = etree.SubElement(parent, f"{{{child_ns}}}{name}")
                facts_by_element[element] = child
                nested = _children_of(bericht, type_name)
                if nested is None:
                    element.text = _sample(type_name)
                else:
                    fill(element, *nested)

    fill(root, MESSAGES[bericht]["Root"], ns)
    index = {e: i for i, e in enumerate(root.iter())}
    facts = {index[e]: f for e, f in facts_by_element.items()}
    return Seed(bericht, "full" if full else "minimal", root, facts)


# ---- mutations ----------------------------------------------------------------------------


def _values(type_name: str) -> Iterator[tuple[str, str]]:
    facts, extra = split_type(type_name)
    sample = _sample(type_name)
    yield "empty", ""
    yield "blank", "   "
    yield "padded", f" {sample} "
    yield "truncated", sample[:-1]
    if facts.max_length is not None:
        filler = sample[-1] if sample else "1"
        yield "too-long", sample + filler * (facts.max_length + 1 - len(sample))
        if len(sample) < facts.max_length:
            yield "max-length", sample + filler * (facts.max_length - len(sample))
    if facts.codes:
        yield "not-a-code", "Q"
        yield "code-like", "99" if "99" not in facts.codes else "98"
        yield "code-lowercase", facts.codes[-1].lower() + ("x" if facts.codes[-1].isdigit() else "")
    if facts.kind == "int":
        yield "letters", "12a"
        yield "negative", "-1"
        yield "decimal", "1.5"
        if facts.high is not None:
            yield "above-range", str(facts.high + 1)
            yield "at-range", str(facts.high)
    if facts.kind == "date":
        yield "impossible-date", "2026-02-30"
        yield "leap-day-non-leap", "2026-02-29"
        yield "leap-day", "2028-02-29"
        yield "month-13", "2026-13-01"
        yield "zulu", "2026-12-07Z"
        yield "offset", "2026-12-07+01:00"
        yield "short-year", "26-12-07"
    if facts.kind == "time":
        yield "zulu", "10:15:00Z"
        yield "hour-25", "25:00:00"
        yield "no-seconds", "10:15"
        yield "fraction", "10:15:00.5"
    if facts.patterns or extra:
        yield "broken-pattern", sample[:1] + "#" + sample[2:]
        yield "space-inside", sample[:1] + " " + sample[1:] if len(sample) > 1 else "1 "
    if facts.kind == "str" and not facts.codes:
        yield "letters-only", "abcdefgh"[: facts.max_length or 8]
        yield "digits-only", "12345678"[: facts.max_length or 8]


def _serialise(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _cases_of(seed: Seed) -> Iterator[Case]:
    elements = list(seed.root.iter())
    for index, fact in seed.facts.items():
        name, low, high, type_name = fact
        element = elements[index]
        parent = element.getparent()
        assert parent is not None
        siblings = [c for c in parent if c.tag == element.tag]
        label = f"{seed.bericht}/{seed.kind}/{index}:{name}"

        def mutated(change: Callable[[etree._Element], None], at: int = index) -> bytes:
            copy_root = copy.deepcopy(seed.root)
            change(list(copy_root.iter())[at])
            return _serialise(copy_root)

        def drop(target: etree._Element) -> None:
            target.getparent().remove(target)  # type: ignore[union-attr]

        yield Case(seed.bericht, f"{label}/drop", mutated(drop), len(siblings) - 1 >= low)

        def duplicate(target: etree._Element) -> None:
            target.addnext(copy.deepcopy(target))

        within = high is None or len(siblings) + 1 <= high
        yield Case(seed.bericht, f"{label}/duplicate", mutated(duplicate), within)

        following = element.getnext()
        if following is not None and following.tag != element.tag:

            def swap(target: etree._Element) -> None:
                nxt = target.getnext()
                assert nxt is not None
                nxt.addnext(target)

            yield Case(seed.bericht, f"{label}/swap", mutated(swap), False)

        def wrong_namespace(target: etree._Element) -> None:
            qname = etree.QName(target)
            other = message_ns(seed.bericht) if qname.namespace == BASIS_NS else BASIS_NS
            target.tag = f"{{{other}}}{qname.localname}"

        yield Case(seed.bericht, f"{label}/wrong-namespace", mutated(wrong_namespace), False)

        def unknown(target: etree._Element) -> None:
            extra = etree.Element(f"{{{etree.QName(target).namespace}}}Onbekend")
            extra.text = "1"
            target.addnext(extra)

        yield Case(seed.bericht, f"{label}/unknown", mutated(unknown), False)

        if _children_of(seed.bericht, type_name) is None:
            for kind, value in _values(type_name):

                def set_value(target: etree._Element, value: str = value) -> None:
                    target.text = value

                yield Case(
                    seed.bericht,
                    f"{label}/{kind}",
                    mutated(set_value),
                    accepts(type_name, value),
                )


def seeds() -> list[Seed]:
    return [build(b, full) for b in MESSAGES for full in (True, False)]


def cases() -> list[Case]:
    """Every mutation of every seed (the seeds themselves first, each expected valid)."""
    found: list[Case] = []
    for seed in seeds():
        name = f"{seed.bericht}/{seed.kind}/seed"
        found.append(Case(seed.bericht, name, _serialise(seed.root), True))
        found.extend(_cases_of(seed))
    return found
