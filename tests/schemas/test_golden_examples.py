"""Golden examples: every native JSON example decodes to its stored FHIR Bundle, and back.

Each ``schemas/examples/<kind>-<type>.json`` has an expected ``<kind>-<type>.fhir.json``, made
with a fixed hub message id and receipt time. After an intended change of the FHIR mapping,
regenerate them and review the diff::

    KETENHUB_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/schemas/test_golden_examples.py

(The iJw XML examples of the rigg and aanbieder kinds have their own tests.)
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.base import DecodeContext, Decoded
from adapters.json_adapter import JsonAdapter
from adapters.registry import load_adapters
from schemas import fhir
from tests.conftest import default_registry

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas/examples"
HUB_MESSAGE_ID = "00000000-0000-4000-8000-000000000001"
RECEIVED_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REGENERATE = os.environ.get("KETENHUB_REGENERATE_GOLDEN") == "1"
SENDERS = {
    "huisarts": "huisarts-wijert",
    "ojg": "ojg-wijert",
    "school": "school-montessori",
    "veiligheidshuis": "veiligheidshuis-groningen",
    "wij": "wij-zuid",
}
"""The partner each kind's examples come from (their sender codes match it)."""

REGISTRY = default_registry()
ADAPTERS = load_adapters()


def native_examples() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*.json") if not p.name.endswith(".fhir.json"))


def golden_path(example: Path) -> Path:
    return example.with_name(example.name.removesuffix(".json") + ".fhir.json")


def adapter_of(example: Path) -> JsonAdapter:
    sender = REGISTRY.get(SENDERS[example.name.split("-", 1)[0]])
    assert sender is not None
    adapter = ADAPTERS.get(sender.adapter_name)
    assert isinstance(adapter, JsonAdapter)
    return adapter


def decode_example(example: Path) -> Decoded:
    sender = REGISTRY.get(SENDERS[example.name.split("-", 1)[0]])
    assert sender is not None
    ctx = DecodeContext(sender, REGISTRY, HUB_MESSAGE_ID, RECEIVED_AT)
    return adapter_of(example).decode(example.read_bytes(), ctx)


def regenerate_golden(example: Path) -> None:
    """Write the example's expected Bundle: only for a reviewed change of the mapping."""
    bundle = decode_example(example).bundle
    golden_path(example).write_bytes(orjson.dumps(bundle, option=orjson.OPT_INDENT_2) + b"\n")


def _load(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


EXAMPLE_PARAMS = [pytest.param(p, id=p.stem) for p in native_examples()]


def test_every_inbound_type_of_every_json_kind_has_a_golden_example() -> None:
    names = {p.name for p in native_examples()}
    for kind in SENDERS:
        adapter = ADAPTERS.get(kind)
        assert isinstance(adapter, JsonAdapter)
        for type_name in adapter.inbound:
            assert f"{kind}-{type_name}.json" in names, f"no example for {kind} {type_name}"
    for name in names:
        assert name.split("-", 1)[0] in SENDERS, f"{name}: unknown kind"


@pytest.mark.parametrize("example", EXAMPLE_PARAMS)
def test_example_decodes_to_its_golden_bundle(example: Path) -> None:
    if REGENERATE:
        regenerate_golden(example)
    golden = golden_path(example)
    assert golden.exists(), f"{golden.name} missing: run with KETENHUB_REGENERATE_GOLDEN=1"
    assert decode_example(example).bundle == _load(golden)


@pytest.mark.parametrize("example", EXAMPLE_PARAMS)
def test_golden_bundle_is_a_valid_fhir_message(example: Path) -> None:
    bundle = _load(golden_path(example))
    fhir.validate_bundle(bundle)
    assert bundle["id"] == HUB_MESSAGE_ID
    assert bundle["entry"][0]["resource"]["resourceType"] == "MessageHeader"


@pytest.mark.parametrize("example", EXAMPLE_PARAMS)
def test_golden_bundle_round_trips_to_the_example(example: Path) -> None:
    adapter = adapter_of(example)
    native = adapter.to_native(_load(golden_path(example)))
    original = type(native).model_validate_json(example.read_bytes())
    assert native.model_dump(mode="json") == original.model_dump(mode="json")
    assert adapter.encode_native(_load(golden_path(example))) == original.model_dump_json().encode()
