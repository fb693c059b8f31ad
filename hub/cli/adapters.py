"""``ketenhub adapters``: the installed partner adapters, and a scaffold for a new one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Annotated

import typer

from adapters.base import Adapter
from adapters.registry import ENTRY_POINT_GROUP
from hub.cli.support import Listing, console, err, friendly, show
from hub.context import load_registry
from hub.scaffold import NAME_PATTERN, AdapterPackage, create
from hub.settings import Settings
from schemas.partners import PartnerKind, PartnerRegistry

adapters_app = typer.Typer(
    help="Partner adapters: list the installed ones, scaffold a new adapter package.",
    no_args_is_help=True,
)


@dataclass(frozen=True)
class InstalledAdapter:
    """One entry point of the ``ketenhub.adapters`` group, as ``adapters list`` shows it."""

    name: str
    object: str
    distribution: str | None
    version: str | None
    partners: tuple[str, ...]
    status: str


def installed_adapters(registry: PartnerRegistry) -> list[InstalledAdapter]:
    """Every adapter entry point, each loaded and checked on its own.

    Unlike ``adapters.registry.load_adapters``, a broken plugin shows up as broken here
    instead of stopping the listing of the others.
    """
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name, ep.value))
    names = [ep.name for ep in found]
    return [
        InstalledAdapter(
            name=ep.name,
            object=ep.value,
            distribution=ep.dist.name if ep.dist else None,
            version=ep.dist.version if ep.dist else None,
            partners=tuple(p.id for p in registry.partners if p.adapter_name == ep.name),
            status="duplicate name" if names.count(ep.name) > 1 else _load_status(ep),
        )
        for ep in found
    ]


def _load_status(ep: EntryPoint) -> str:
    try:
        adapter = ep.load()()
    except Exception as exc:  # a third-party plugin may fail in any way
        return f"fails to load: {type(exc).__name__}"
    if not isinstance(adapter, Adapter):
        return "not an Adapter"
    if adapter.name != ep.name:
        return f"named {adapter.name!r}, not {ep.name!r}"
    return "ok"


@adapters_app.command("list")
@friendly
def list_adapters(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per adapter.")] = False,
) -> None:
    """List the adapters installed through the `ketenhub.adapters` entry points.

    Shows each adapter's object (module:attr), the distribution that provides it and its
    version, and which partners of the registry (KETENHUB_PARTNERS_FILE) use it.
    """
    settings = Settings()
    registry = load_registry(settings)
    adapters = installed_adapters(registry)
    installed = {a.name for a in adapters}
    orphans = [p for p in registry.partners if p.adapter_name not in installed]
    rows = [
        {**asdict(a), "distribution": a.distribution or "?", "version": a.version or "?",
         "partners": ", ".join(a.partners) or "-"}
        for a in adapters
    ]  # fmt: skip
    title = f"adapters (entry points {ENTRY_POINT_GROUP!r}, partners from {settings.partners_file})"
    listing = Listing(title, ADAPTER_COLUMNS, rows, [asdict(a) for a in adapters],
                      styles={"status": {"ok": "green"}})  # fmt: skip
    show(listing, as_json=as_json)
    for p in orphans:
        err.print(
            f"[yellow]warning:[/yellow] partner {p.id} uses adapter {p.adapter_name!r}, "
            "which is not installed",
            highlight=False,
        )


ADAPTER_COLUMNS = {"name": "name", "object": "object", "distribution": "distribution",
                   "version": "version", "partners": "partners", "status": "status"}  # fmt: skip


def _check_name(name: str) -> str:
    """Accept Python-style names too: ``demo_partner`` becomes ``demo-partner``."""
    name = name.replace("_", "-")
    if not NAME_PATTERN.fullmatch(name):
        raise typer.BadParameter(
            f"must match {NAME_PATTERN.pattern}: lower-case letters, digits and hyphens, "
            "starting with a letter, 2 to 41 characters (for example demo-school)"
        )
    return name


@adapters_app.command("new")
@friendly
def new_adapter(
    name: Annotated[
        str,
        typer.Argument(
            help="Adapter name, also the entry-point name (e.g. demo-school).",
            metavar="NAME",
            callback=_check_name,
        ),
    ],
    directory: Annotated[
        Path,
        typer.Option("--dir", help="Where to create ketenhub-adapter-NAME/ (default: here)."),
    ] = Path("."),
    kind: Annotated[
        PartnerKind, typer.Option(help="The partner kind the adapter is for.")
    ] = PartnerKind.HUISARTS,
) -> None:
    """Scaffold a standalone adapter package whose conformance tests pass at once.

    Creates ketenhub-adapter-NAME/ with a pyproject.toml that registers the entry point NAME
    in the `ketenhub.adapters` group, a working JSON adapter for a concern signal (melding ->
    FHIR Flag, and back), examples, conformance tests and a README. Never overwrites.
    """
    package = AdapterPackage(name, kind)
    target, written = create(package, directory)
    lines = [
        f"Created {target}/ for adapter {name}:",
        *(f"  {path}" for path in written),
        "",
        "Next steps:",
        f"  cd {target}",
        "  python -m pytest              # the conformance kit; passes as generated",
        f"  edit {package.module}/adapter.py and examples/ for your partner's format",
        "  pip install --no-deps -e .    # in the hub's environment: registers the entry point",
        f"  ketenhub adapters list        # shows {name}",
        f'  add a [[partner]] with adapter = "{name}" to KETENHUB_PARTNERS_FILE (see README.md)',
    ]
    console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)
