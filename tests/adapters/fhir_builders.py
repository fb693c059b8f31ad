"""Native messages the built-in adapters accept, drawn by hypothesis, and the Bundles they make.

The hub does not validate a built-in adapter's Bundle per message (``adapters.registry``):
this is the proof that it need not. Every golden native example (each inbound type of each
built-in kind, JSON and iJw XML) is the seed of a strategy that replaces any of its values
by something drawn for that value's kind: any unicode text for a text, a BSN that passes the
elfproef, any date, any aware time, ids from the alphabet a partner might use. Whatever the
adapter accepts of that must give a valid FHIR Bundle; what it refuses is not the builders'
business (the hostile-input tests cover refusals).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
from hypothesis import strategies as st
from lxml import etree

from adapters.base import AdapterError, DecodeContext
from adapters.registry import AdapterRegistry, load_adapters
from schemas.fhir import FhirDict
from schemas.partners import PartnerRegistry
from tests.conftest import default_registry

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas/examples"
SENDERS = {
    "huisarts": "huisarts-wijert",
    "ojg": "ojg-wijert",
    "school": "school-montessori",
    "veiligheidshuis": "veiligheidshuis-groningen",
    "wij": "wij-zuid",
    "aanbieder": "aanbieder-noorderlicht",
    "rigg": "rigg-groningen",
}
"""The partner each kind's examples come from (their sender codes match it)."""
REGISTRY: PartnerRegistry = default_registry()
ADAPTERS: AdapterRegistry = load_adapters()


def examples() -> list[Path]:
    """Every native example: one per inbound type of every built-in kind."""
    return sorted(
        p
        for p in EXAMPLES.iterdir()
        if (p.suffix == ".xml" or p.suffix == ".json") and not p.name.endswith(".fhir.json")
    )


def bsns() -> st.SearchStrategy[str]:
    """Nine digits passing the elfproef (weights 9..2 and -1)."""

    def complete(first: list[int]) -> str | None:
        total = sum(d * w for d, w in zip(first, range(9, 1, -1), strict=True))
        last = total % 11
        return "".join(map(str, first)) + str(last) if last < 10 else None

    return (
        st.lists(st.integers(0, 9), min_size=8, max_size=8)
        .map(complete)
        .filter(lambda v: v is not None and v != "000000000")
        .map(str)
    )


def _text() -> st.SearchStrategy[str]:
    """Any text a partner might put in a field, control characters and odd spaces included."""
    return st.one_of(
        st.text(min_size=0, max_size=40),
        st.text(string.printable, min_size=1, max_size=40),
        st.sampled_from(["", " ", "\u00a0", "x\u2028y", " lead", "trail ", "a\tb", "\x00", "é"]),
    )


def _times() -> st.SearchStrategy[datetime]:
    offsets = st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))])
    return st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets
    )


def _looks_like_bsn(value: str) -> bool:
    return len(value) == 9 and value.isdigit()


def _replacement(key: str, value: str) -> st.SearchStrategy[str]:
    """Values of the kind of ``value`` (found by its key and its form), to put in its place."""
    if _looks_like_bsn(value) or key.lower() == "bsn":
        return bsns()
    if key.endswith(("birth_date", "date")) or _is_date(value):
        return st.dates(date(1900, 1, 1), date(2100, 1, 1)).map(date.isoformat)
    if _is_time(value):
        return _times().map(datetime.isoformat)
    return st.one_of(_text(), st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True))


MAX_CHANGED = 3
"""Values changed per drawn message: with more, nearly every message is refused somewhere."""


def _changed(draw: Callable[..., Any], count: int) -> set[int]:
    """Which of ``count`` values a drawn message changes: one to ``MAX_CHANGED`` of them."""
    indices = st.integers(0, count - 1)
    return set(draw(st.sets(indices, min_size=1, max_size=min(MAX_CHANGED, count))))


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_time(value: str) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


@dataclass(frozen=True)
class Built:
    """One accepted native message and the Bundle its adapter built."""

    example: str
    bundle: FhirDict


def decode(example: Path, payload: bytes, hub_message_id: str) -> FhirDict | None:
    """The Bundle a built-in adapter builds of ``payload``; None when it refuses it."""
    sender = REGISTRY.get(SENDERS[example.name.split("-", 1)[0]])
    assert sender is not None
    adapter = ADAPTERS.get(sender.adapter_name)
    assert ADAPTERS.output_trusted(sender.adapter_name), f"{sender.adapter_name} is built in"
    ctx = DecodeContext(sender, REGISTRY, hub_message_id, datetime(2026, 11, 23, 9, tzinfo=UTC))
    try:
        return adapter.decode(payload, ctx).bundle
    except AdapterError:
        return None


# --- JSON examples: every string leaf may be replaced --------------------------------------


def _json_leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(node, dict):
        for key, item in node.items():
            yield from _json_leaves(item, (*path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _json_leaves(item, (*path, index))
    elif isinstance(node, str) and path[-1:] != ("type",):  # the type picks the model
        yield path, node


def _set_path(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def json_payloads(example: Path) -> st.SearchStrategy[bytes]:
    seed = orjson.loads(example.read_bytes())
    leaves = list(_json_leaves(seed))

    @st.composite
    def payload(draw: Callable[..., Any]) -> bytes:
        body = orjson.loads(example.read_bytes())
        for index in _changed(draw, len(leaves)):
            path, value = leaves[index]
            key = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
            _set_path(body, path, draw(_replacement(key, value)))
        try:
            return orjson.dumps(body)
        except orjson.JSONEncodeError:  # a lone surrogate: not JSON a partner can send
            return example.read_bytes()

    return payload()


# --- iJw XML examples: every element's text may be replaced ---------------------------------


def xml_payloads(example: Path) -> st.SearchStrategy[bytes]:
    def leaves(root: Any) -> list[Any]:
        return [
            element
            for element in root.iter()
            if isinstance(element.tag, str) and len(element) == 0 and (element.text or "").strip()
        ]

    count = len(leaves(etree.fromstring(example.read_bytes())))

    @st.composite
    def payload(draw: Callable[..., Any]) -> bytes:
        root = etree.fromstring(example.read_bytes())
        elements = leaves(root)
        for index in _changed(draw, count):
            element = elements[index]
            key = etree.QName(element).localname.lower()
            replacement = draw(_replacement(key, element.text or ""))
            if _xml_text(replacement):
                element.text = replacement
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    return payload()


def _xml_text(value: str) -> bool:
    """Whether XML 1.0 can hold ``value`` at all (no control characters but tab, LF, CR)."""
    try:
        etree.Element("x").text = value
    except ValueError:
        return False
    return True


def payloads(example: Path) -> st.SearchStrategy[bytes]:
    return xml_payloads(example) if example.suffix == ".xml" else json_payloads(example)
