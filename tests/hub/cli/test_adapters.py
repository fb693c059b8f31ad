"""``ketenhub adapters list|new``: installed adapters, and a scaffold whose tests pass at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli import adapters as cli_adapters
from hub.cli.main import app
from hub.scaffold import AdapterPackage, ScaffoldError
from hub.settings import Settings

runner = CliRunner()
WIDE = {"COLUMNS": "200"}
# Offline: no index, no build isolation (the environment's setuptools builds the wheel).
PIP_INSTALL_OFFLINE = (sys.executable, "-m", "pip", "install", "-q",
                       "--no-deps", "--no-build-isolation", "--no-index")  # fmt: skip
SCAFFOLD_FILES = {
    ".gitignore",
    "README.md",
    "pyproject.toml",
    "ketenhub_adapter_demo_school/__init__.py",
    "ketenhub_adapter_demo_school/adapter.py",
    "ketenhub_adapter_demo_school/py.typed",
    "examples/valid.json",
    "examples/invalid-bsn.json",
    "tests/partners.toml",
    "tests/test_conformance.py",
}


def _listed(output: str) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in map(json.loads, output.splitlines())}


def _env(**extra: str) -> dict[str, str]:
    """This process's environment without KETENHUB_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETENHUB_")}
    return {**env, **extra}


# -- adapters list ---------------------------------------------------------------------------


def test_list_shows_the_builtin_adapters_with_their_module_paths(settings: Settings) -> None:
    result = runner.invoke(app, ["adapters", "list"], env=WIDE)
    assert result.exit_code == 0, result.output
    for text in ("huisarts", "adapters.huisarts:HuisartsAdapter",
                 "aanbieder", "adapters.aanbieder:AanbiederAdapter",
                 "ketenhub", "huisarts-wijert", "aanbieder-noorderlicht"):  # fmt: skip
        assert text in result.output


def test_list_as_json(settings: Settings) -> None:
    result = runner.invoke(app, ["adapters", "list", "--json"])
    assert result.exit_code == 0, result.output
    listed = _listed(result.stdout)
    huisarts = listed["huisarts"]
    assert huisarts["object"] == "adapters.huisarts:HuisartsAdapter"
    assert huisarts["distribution"] == "ketenhub"
    assert huisarts["version"]
    assert huisarts["status"] == "ok"
    assert {"huisarts-wijert", "huisarts-hoogkerk"} <= set(huisarts["partners"])
    assert listed["aanbieder"]["object"] == "adapters.aanbieder:AanbiederAdapter"


def test_list_shows_broken_plugins_and_partners_without_an_adapter(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    group = "ketenhub.adapters"
    fake = [
        EntryPoint("huisarts", "adapters.huisarts:HuisartsAdapter", group),
        EntryPoint("broken", "builtins:object", group),
        EntryPoint("gone", "ketenhub_no_such_module:Adapter", group),
        EntryPoint("alias", "adapters.aanbieder:AanbiederAdapter", group),
    ]
    monkeypatch.setattr(cli_adapters, "entry_points", lambda group: fake)
    partners = tmp_path / "partners.toml"
    partners.write_text(
        '[[partner]]\nid = "school-a"\nkind = "school"\nname = "A"\nadapter = "edifact"\n'
    )
    monkeypatch.setenv("KETENHUB_PARTNERS_FILE", str(partners))
    result = runner.invoke(app, ["adapters", "list", "--json"])
    assert result.exit_code == 0, result.output
    statuses = {name: entry["status"] for name, entry in _listed(result.stdout).items()}
    assert statuses == {
        "huisarts": "ok",
        "broken": "not an Adapter",
        "gone": "fails to load: ModuleNotFoundError",
        "alias": "named 'aanbieder', not 'alias'",
    }
    assert "partner school-a uses adapter 'edifact', which is not installed" in result.stderr


def test_list_with_a_missing_registry_is_a_clear_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KETENHUB_PARTNERS_FILE", str(tmp_path / "nope.toml"))
    result = runner.invoke(app, ["adapters", "list"], env=WIDE)
    assert result.exit_code == 2
    assert "partner registry" in result.output
    assert "Traceback" not in result.output


# -- adapters new ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ketenhub adapters new demo-school --dir <tmp>/tmp``, once for this module."""
    parent = tmp_path_factory.mktemp("scaffold") / "tmp"
    result = runner.invoke(app, ["adapters", "new", "demo-school", "--dir", str(parent)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "Next steps" in result.output
    return parent / "ketenhub-adapter-demo-school"


def test_new_creates_the_package_tree(scaffold: Path) -> None:
    created = {p.relative_to(scaffold).as_posix() for p in scaffold.rglob("*") if p.is_file()}
    assert created >= SCAFFOLD_FILES
    pyproject = (scaffold / "pyproject.toml").read_text()
    assert '[project.entry-points."ketenhub.adapters"]' in pyproject
    assert '"demo-school" = "ketenhub_adapter_demo_school.adapter:Adapter"' in pyproject
    assert '"ketenhub>=' in pyproject
    adapter = (scaffold / "ketenhub_adapter_demo_school/adapter.py").read_text()
    assert 'name = "demo-school"' in adapter


def test_the_scaffolds_own_tests_pass_at_once(scaffold: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(scaffold / "tests")],
        cwd=scaffold,
        env=_env(PYTHONPATH=str(scaffold)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_the_installed_scaffold_is_discovered_through_its_entry_point(
    scaffold: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    install = subprocess.run(
        [*PIP_INSTALL_OFFLINE, "--target", str(site), str(scaffold)],
        env=_env(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1"),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "hub", "adapters", "list", "--json"],
        env=_env(
            PYTHONPATH=str(site), KETENHUB_PARTNERS_FILE=str(scaffold / "tests/partners.toml")
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    demo = _listed(listed.stdout)["demo-school"]
    assert demo == {
        "name": "demo-school",
        "object": "ketenhub_adapter_demo_school.adapter:Adapter",
        "distribution": "ketenhub-adapter-demo-school",
        "version": "0.1.0",
        "partners": ["huisarts-voorbeeld"],
        "status": "ok",
    }


def test_new_refuses_to_overwrite(tmp_path: Path) -> None:
    existing = tmp_path / "ketenhub-adapter-demo-school"
    existing.mkdir()
    (existing / "mine.txt").write_text("keep me")
    result = runner.invoke(
        app, ["adapters", "new", "demo-school", "--dir", str(tmp_path)], env=WIDE
    )
    assert result.exit_code == 2
    assert "already exists" in result.output and "nothing was written" in result.output
    assert "Traceback" not in result.output
    assert [p.name for p in existing.iterdir()] == ["mine.txt"]


@pytest.mark.parametrize("name", ["Demo", "1demo", "d", "demo.x", "demo school", "x" * 42, "démo"])
def test_new_refuses_a_bad_name(name: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["adapters", "new", name, "--dir", str(tmp_path)], env=WIDE)
    assert result.exit_code == 2
    assert "must match" in result.output
    assert list(tmp_path.iterdir()) == []


def test_the_package_names_derive_from_the_adapter_name() -> None:
    package = AdapterPackage("demo-partner-2")
    assert package.distribution == "ketenhub-adapter-demo-partner-2"
    assert package.module == "ketenhub_adapter_demo_partner_2"
    assert package.entry_point == "ketenhub_adapter_demo_partner_2.adapter:Adapter"
    with pytest.raises(ScaffoldError, match="must match"):
        AdapterPackage("demo_partner")


def test_new_puts_the_partner_kind_into_the_test_registry(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["adapters", "new", "wissel", "--dir", str(tmp_path), "--kind", "school"], env=WIDE
    )
    assert result.exit_code == 0, result.output
    registry = (tmp_path / "ketenhub-adapter-wissel/tests/partners.toml").read_text()
    assert 'kind = "school"' in registry and 'adapter = "wissel"' in registry


def test_an_underscore_name_is_accepted_as_hyphens(tmp_path: Path) -> None:
    """The issue's own example: ``ketenhub adapters new demo_partner``."""
    result = runner.invoke(
        app, ["adapters", "new", "demo_partner", "--dir", str(tmp_path)], env=WIDE
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ketenhub-adapter-demo-partner" / "ketenhub_adapter_demo_partner").is_dir()
