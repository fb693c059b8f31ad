"""Write the contracts: ``<kind>.asyncapi.json``, ``schemas/<Model>.schema.json``, ``xsd/``.

Deterministic (sorted keys, fixed example ids and times), so the committed files can be
compared with a fresh generation: a model that changes without its contract fails a test.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from adapters.registry import AdapterRegistry
from hub.contracts.asyncapi import document
from hub.contracts.catalog import KindContract, contract_of
from hub.contracts.examples import examples_for
from routing.policy import Policy
from schemas.ijw import XSD_DIR
from schemas.partners import PartnerKind, PartnerRegistry

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "docs" / "contracts"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A standalone JSON Schema (2020-12) of one native message model."""
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"{model.__name__}.schema.json",
        **model.model_json_schema(mode="validation"),
    }


def generate(
    out: Path, kinds: Iterable[PartnerKind], registry: PartnerRegistry,
    adapters: AdapterRegistry, policy: Policy,
) -> list[Path]:  # fmt: skip
    """Write the documents and schemas of ``kinds`` into ``out``; the paths written."""
    written: list[Path] = []
    contracts: list[KindContract] = []
    for kind in kinds:
        contract = contract_of(kind, adapters)
        contracts.append(contract)
        sent, received = examples_for(contract, registry, adapters, policy)
        written.append(_write(out / f"{kind.value}.asyncapi.json",
                              document(contract, sent, received)))  # fmt: skip
    models = {t.model for c in contracts for t in (*c.sends, *c.receives) if t.model is not None}
    for model in sorted(models, key=lambda m: m.__name__):
        written.append(
            _write(out / "schemas" / f"{model.__name__}.schema.json", json_schema(model))
        )
    if any(t.bericht is not None for c in contracts for t in (*c.sends, *c.receives)):
        (out / "xsd").mkdir(parents=True, exist_ok=True)
        for xsd in sorted(XSD_DIR.glob("*.xsd")):
            written.append(Path(shutil.copyfile(xsd, out / "xsd" / xsd.name)))
    return written


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    return path
