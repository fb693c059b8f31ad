"""What ``ketenhub adapters new`` writes: a standalone adapter package, from text templates.

The templates are ``string.Template`` files beside this module (``${name}`` is a value, a
literal dollar sign is ``$$``). ``render`` is pure: it returns every file of the new package
by its path inside it; ``create`` writes them and never overwrites anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from pathlib import Path, PurePosixPath
from string import Template

from hub.context import ConfigError
from schemas.partners import PartnerKind

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,40}$")

TEMPLATES: tuple[tuple[str, str], ...] = (
    ("pyproject.toml", "pyproject.toml.tmpl"),
    ("README.md", "README.md.tmpl"),
    (".gitignore", "gitignore.tmpl"),
    ("${module}/__init__.py", "package_init.py.tmpl"),
    ("${module}/adapter.py", "adapter.py.tmpl"),
    ("${module}/py.typed", "py.typed.tmpl"),
    ("examples/valid.json", "valid.json.tmpl"),
    ("examples/invalid-bsn.json", "invalid-bsn.json.tmpl"),
    ("tests/partners.toml", "partners.toml.tmpl"),
    ("tests/test_conformance.py", "test_conformance.py.tmpl"),
)
"""(path in the new package, template file) pairs; paths are templates too."""


class ScaffoldError(ConfigError):
    """The package cannot be created as asked; the message says why and what to do."""


@dataclass(frozen=True)
class AdapterPackage:
    """The names of a new adapter package, all derived from the adapter's ``name``."""

    name: str
    kind: PartnerKind = PartnerKind.HUISARTS

    def __post_init__(self) -> None:
        if not NAME_PATTERN.fullmatch(self.name):
            raise ScaffoldError(
                f"adapter name {self.name!r} must match {NAME_PATTERN.pattern}: lower-case "
                "letters, digits and hyphens, starting with a letter, 2 to 41 characters "
                "(for example demo-school)"
            )

    @property
    def distribution(self) -> str:
        """The package's directory and distribution name: ``ketenhub-adapter-<name>``."""
        return f"ketenhub-adapter-{self.name}"

    @property
    def module(self) -> str:
        """The import name: ``ketenhub_adapter_<name>`` with hyphens as underscores."""
        return "ketenhub_adapter_" + self.name.replace("-", "_")

    @property
    def entry_point(self) -> str:
        return f"{self.module}.adapter:Adapter"

    def values(self) -> dict[str, str]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "distribution": self.distribution,
            "module": self.module,
            "entry_point": self.entry_point,
            "sender_id": f"{self.kind.value}-voorbeeld",
            "agb": "01999001",
            "ketenhub_version": _ketenhub_version(),
        }


def render(package: AdapterPackage) -> dict[PurePosixPath, str]:
    """Every file of the new package, by its path inside the package directory."""
    values = package.values()
    root = files(__name__)
    return {
        PurePosixPath(Template(path).substitute(values)): Template(
            root.joinpath(template).read_text(encoding="utf-8")
        ).substitute(values)
        for path, template in TEMPLATES
    }


def create(package: AdapterPackage, parent: Path) -> tuple[Path, list[PurePosixPath]]:
    """Write the package into ``parent/<distribution>``; refuse if that exists already."""
    rendered = render(package)
    target = parent / package.distribution
    if target.exists():
        raise ScaffoldError(
            f"{target} already exists; remove it or choose another --dir (nothing was written)"
        )
    try:
        parent.mkdir(parents=True, exist_ok=True)
        target.mkdir()
    except FileExistsError:
        raise ScaffoldError(f"{target} already exists (nothing was written)") from None
    except OSError as exc:
        raise ScaffoldError(f"cannot create {target}: {exc.strerror}") from None
    for path, text in rendered.items():
        destination = target.joinpath(*path.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
    return target, sorted(rendered)


def _ketenhub_version() -> str:
    try:
        return version("ketenhub")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.1.0"
