"""``ketenhub docs``: the partner contracts (AsyncAPI 3.0 + JSON Schema), written or served."""

from __future__ import annotations

import json
from functools import partial
from http import server
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.registry import load_adapters
from hub.cli.support import console, err, friendly
from hub.context import load_policy, load_registry
from hub.settings import Settings
from schemas.partners import PartnerKind

docs_app = typer.Typer(help="The partner contracts: AsyncAPI 3.0 documents and JSON Schemas.",
                       no_args_is_help=True)  # fmt: skip

KindOption = Annotated[
    PartnerKind | None, typer.Option("--kind", help="Only this partner kind (default: all).")
]


@docs_app.command("gen")
@friendly
def gen(
    kind: KindOption = None,
    out: Annotated[Path | None, typer.Option(help="Folder to write into.")] = None,
) -> None:
    """Write one AsyncAPI 3.0 document per partner kind, the JSON Schema of every native
    message and the iJw XSDs (default folder: docs/contracts of the project)."""
    from hub.contracts.files import CONTRACTS_DIR, generate

    settings = Settings()
    kinds = [kind] if kind else list(PartnerKind)
    target = out or CONTRACTS_DIR
    written = generate(target, kinds, load_registry(settings), load_adapters(),
                       load_policy(settings))  # fmt: skip
    for path in written:
        console.print(str(path), highlight=False)
    err.print(f"{len(written)} files in {target}", highlight=False)


@docs_app.command("serve")
@friendly
def serve(
    kind: KindOption = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
) -> None:
    """Serve the contracts as faststream's AsyncAPI HTML pages on http://127.0.0.1:PORT/.

    Loopback only: the pages are for the person at this machine. Ctrl-C stops.
    """
    from hub.contracts.asyncapi import document
    from hub.contracts.catalog import contract_of
    from hub.contracts.examples import examples_for

    settings = Settings()
    registry, adapters, policy = load_registry(settings), load_adapters(), load_policy(settings)
    pages: dict[str, dict[str, Any]] = {}
    for k in [kind] if kind else list(PartnerKind):
        contract = contract_of(k, adapters)
        pages[k.value] = document(contract, *examples_for(contract, registry, adapters, policy))
    httpd = server.ThreadingHTTPServer(("127.0.0.1", port), partial(_Pages, pages=pages))
    err.print(f"contracts on http://127.0.0.1:{port}/ (Ctrl-C stops)", highlight=False)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


class _Document:
    """A ready AsyncAPI document in the shape faststream's HTML page wants."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def title(self) -> str:
        return str(self.data["info"]["title"])

    def to_json(self) -> str:
        return json.dumps(self.data)

    def to_jsonable(self) -> Any:
        return self.data

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.data, sort_keys=False)


class _Pages(server.BaseHTTPRequestHandler):
    def __init__(self, *args: Any, pages: dict[str, dict[str, Any]], **kwargs: Any) -> None:
        self.pages = pages
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        from faststream.specification.asyncapi.site import get_asyncapi_html

        name = self.path.strip("/").split("?")[0].removesuffix(".json")
        if name == "" and len(self.pages) > 1:
            links = "".join(f'<li><a href="/{k}">{k}</a></li>' for k in self.pages)
            self._send(200, "text/html", f"<h1>ketenhub partner contracts</h1><ul>{links}</ul>")
        elif (data := self.pages.get(name or next(iter(self.pages)))) is None:
            self._send(404, "text/plain", "no such partner kind")
        elif self.path.endswith(".json"):
            self._send(200, "application/json", json.dumps(data, indent=2))
        else:
            html = get_asyncapi_html(_Document(data), try_it_out_path=None)
            self._send(200, "text/html", html)

    def _send(self, status: int, content_type: str, body: str) -> None:
        encoded = body.encode()
        self.send_response(status)
        self.send_header("content-type", f"{content_type}; charset=utf-8")
        self.send_header("content-length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    def log_message(self, format: str, *args: Any) -> None:
        return  # no request log on the terminal
