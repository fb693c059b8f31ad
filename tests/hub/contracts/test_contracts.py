"""The published partner contracts: up to date, valid AsyncAPI 3.0, examples that validate.

The AsyncAPI check runs the official parser (``@asyncapi/parser`` from npm, installed by
``scripts/ensure-asyncapi-parser.sh`` into the git-ignored ``.ketenhub/asyncapi``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from adapters.registry import load_adapters
from hub.contracts.catalog import contract_of
from hub.contracts.examples import golden_files, kind_of_file, message_of
from hub.contracts.files import CONTRACTS_DIR, generate
from routing.policy import Policy
from schemas.partners import PartnerKind, PartnerRegistry

REPO = Path(__file__).resolve().parents[3]
DOCUMENTS = sorted(CONTRACTS_DIR.glob("*.asyncapi.json"))


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_the_committed_contracts_are_what_the_models_generate(
    tmp_path: Path, registry: PartnerRegistry, policy: Policy
) -> None:
    generate(tmp_path, list(PartnerKind), registry, load_adapters(), policy)
    fresh, committed = _files(tmp_path), _files(CONTRACTS_DIR)
    stale = sorted(n for n in fresh.keys() | committed.keys() if fresh.get(n) != committed.get(n))
    assert not stale, f"contracts out of date, run `ketenhub docs gen`: {stale}"


def test_there_is_one_document_per_partner_kind() -> None:
    assert [d.name for d in DOCUMENTS] == sorted(f"{k.value}.asyncapi.json" for k in PartnerKind)


def test_the_official_parser_accepts_every_document() -> None:
    subprocess.run([str(REPO / "scripts/ensure-asyncapi-parser.sh")], check=True)
    result = subprocess.run(
        ["node", str(REPO / ".ketenhub/asyncapi/validate.mjs"), *map(str, DOCUMENTS)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("valid AsyncAPI 3.0.0") == len(DOCUMENTS), result.stdout


def _schema(name: str) -> Draft202012Validator:
    schema = json.loads((CONTRACTS_DIR / "schemas" / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _xsd(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(CONTRACTS_DIR / "xsd" / f"{name}.xsd")))


@pytest.mark.parametrize("file", golden_files(), ids=lambda f: f.name)
def test_every_golden_example_validates_against_its_published_schema(file: Path) -> None:
    contract = contract_of(kind_of_file(file))
    raw = file.read_bytes()
    message = message_of(raw, contract.sends)
    assert message is not None, f"{file.name} is no message a {contract.kind.value} sends"
    if message.bericht is not None:
        assert _xsd(message.name).validate(etree.fromstring(raw)), file.name
    else:
        errors = [e.message for e in _schema(message.name).iter_errors(json.loads(raw))]
        assert errors == [], file.name


def _examples() -> list[tuple[str, str, dict[str, Any], Any]]:
    found = []
    for document in DOCUMENTS:
        data = json.loads(document.read_text())
        for name, message in data["components"]["messages"].items():
            for example in message.get("examples", []):
                found.append((document.stem, name, message, example))
    return found


@pytest.mark.parametrize(
    ("document", "name", "message", "example"), _examples(),
    ids=lambda v: v if isinstance(v, str) else "",
)  # fmt: skip
def test_every_message_example_validates_against_its_schema(
    document: str, name: str, message: dict[str, Any], example: dict[str, Any]
) -> None:
    payload = example["payload"]
    if message["contentType"] == "application/xml":
        assert _xsd(message["name"]).validate(etree.fromstring(payload.encode()))
    else:
        assert [e.message for e in _schema(message["name"]).iter_errors(payload)] == []


def test_every_kind_documents_its_answers_headers_key_and_login() -> None:
    for document in DOCUMENTS:
        data = json.loads(document.read_text())
        inbox = data["channels"]["inbox"]["messages"]
        assert {"inbox.Ack", "inbox.Nack", "inbox.HubNotice"} <= set(inbox), document.name
        for name, message in data["components"]["messages"].items():
            assert message["bindings"]["kafka"]["key"]["type"] == "string"
            assert message["examples"], f"{document.name}: {name} has no example"
            if name.startswith("inbox."):
                assert {"kh-message-id", "kh-kind", "kh-event"} <= set(
                    message["headers"]["properties"]
                )
        schemes = data["components"]["securitySchemes"].values()
        assert [s["type"] for s in schemes] == ["scramSha512"]
        nack = data["components"]["messages"]["inbox.Nack"]
        assert nack["correlationId"]["location"] == "$message.payload#/source"
