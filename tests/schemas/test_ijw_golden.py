"""Golden iJw examples: each of the fourteen messages decodes to its stored FHIR Bundle, and
the Bundle encodes back to the same message.

``schemas/examples/<kind>-jw3NN.xml`` has an expected ``<kind>-jw3NN.fhir.json``, made with a
fixed hub message id and receipt time. After an intended change of the mapping, regenerate
them and review the diff::

    KETENHUB_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/schemas/test_ijw_golden.py
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters import ijw
from adapters.base import DecodeContext, Decoded
from adapters.registry import load_adapters
from schemas import fhir, fhir_ijw
from schemas.ijw import Bericht
from tests.conftest import default_registry

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas/examples"
HUB_MESSAGE_ID = "00000000-0000-4000-8000-000000000001"
RECEIVED_AT = datetime(2027, 2, 10, 9, 0, tzinfo=UTC)
REGENERATE = os.environ.get("KETENHUB_REGENERATE_GOLDEN") == "1"
SENDERS = {"aanbieder": "aanbieder-noorderlicht", "rigg": "rigg-groningen"}
REGISTRY = default_registry()
ADAPTERS = load_adapters()
EXAMPLE_FILES = sorted(EXAMPLES.glob("*-jw3*.xml"))


def _decode(example: Path) -> Decoded:
    sender = REGISTRY.get(SENDERS[example.name.split("-", 1)[0]])
    assert sender is not None
    ctx = DecodeContext(sender, REGISTRY, HUB_MESSAGE_ID, RECEIVED_AT)
    return ADAPTERS.get(sender.adapter_name).decode(example.read_bytes(), ctx)


def _golden(example: Path) -> Path:
    return example.with_suffix(".fhir.json")


def _load(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def test_there_is_one_example_per_message_type() -> None:
    names = {p.stem.split("-", 1)[1].upper() for p in EXAMPLE_FILES}
    assert names == {b.value for b in Bericht}
    assert len(EXAMPLE_FILES) == 14


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_example_decodes_to_its_golden_bundle(example: Path) -> None:
    bundle = _decode(example).bundle
    if REGENERATE:
        _golden(example).write_bytes(orjson.dumps(bundle, option=orjson.OPT_INDENT_2) + b"\n")
    fhir.validate_bundle(_load(_golden(example)))
    assert orjson.loads(orjson.dumps(bundle)) == _load(_golden(example))


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_golden_bundle_encodes_back_to_the_example(example: Path) -> None:
    bericht, message = fhir_ijw.from_bundle(_load(_golden(example)))
    assert bericht.value == example.stem.split("-", 1)[1].upper()
    rendered = ijw.render(bericht, message)
    assert ijw.parse(rendered, (bericht,)) == ijw.parse(example.read_bytes(), (bericht,))
