"""``ketenhub docs gen`` writes a kind's contract; ``docs serve`` serves it on loopback."""

from __future__ import annotations

import json
import threading
import urllib.request
from functools import partial
from http import server
from pathlib import Path

from typer.testing import CliRunner

from adapters.registry import load_adapters
from hub.cli.docs import _Pages
from hub.cli.main import app
from hub.contracts.asyncapi import document
from hub.contracts.catalog import contract_of
from hub.contracts.examples import examples_for
from routing.policy import Policy
from schemas.partners import PartnerKind, PartnerRegistry

runner = CliRunner()


def test_gen_for_one_kind_writes_its_document_and_schemas(tmp_path: Path) -> None:
    result = runner.invoke(app, ["docs", "gen", "--kind", "school", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == [
        "schemas/Ack.schema.json", "schemas/HubNotice.schema.json", "schemas/Nack.schema.json",
        "schemas/SchoolSignal.schema.json", "school.asyncapi.json",
    ]  # fmt: skip
    doc = json.loads((tmp_path / "school.asyncapi.json").read_text())
    assert doc["asyncapi"] == "3.0.0"
    assert doc["channels"]["outbox"]["address"] == "ketenhub.partner.{partnerId}.out"


def test_serve_answers_with_faststreams_page_and_the_json(
    registry: PartnerRegistry, policy: Policy
) -> None:
    adapters = load_adapters()
    contract = contract_of(PartnerKind.SCHOOL, adapters)
    pages = {"school": document(contract, *examples_for(contract, registry, adapters, policy))}
    httpd = server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Pages, pages=pages))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        html = urllib.request.urlopen(f"{base}/school", timeout=10).read().decode()
        data = json.loads(urllib.request.urlopen(f"{base}/school.json", timeout=10).read())
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert "AsyncApiStandalone.render" in html and "the school partner contract" in html
    assert data == pages["school"]
