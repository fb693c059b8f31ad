"""scripts/pick-python.sh: the interpreter `make install` builds the virtualenv from."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "pick-python.sh"
DISTRIBUTION = Path("/usr/bin/python3")


def _pick(path: str) -> str:
    env = {**os.environ, "PATH": path}
    return subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()


def _usable(python: str) -> bool:
    check = "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))"
    return subprocess.run([python, "-c", check], capture_output=True).returncode == 0


def test_the_pick_is_a_python_that_can_make_the_virtualenv() -> None:
    picked = _pick(os.environ["PATH"])
    assert _usable(picked), picked


@pytest.mark.skipif(
    not (DISTRIBUTION.exists() and _usable(str(DISTRIBUTION))),
    reason="no usable distribution Python (/usr/bin/python3 3.11+ with venv) on this machine",
)
def test_the_distributions_optimised_build_comes_before_python3_on_path(tmp_path: Path) -> None:
    """A python3 earlier on PATH (pyenv's shim, say) does not win over /usr/bin/python3."""
    shim = tmp_path / "python3"
    shim.symlink_to(DISTRIBUTION.resolve())
    assert _pick(f"{tmp_path}:/usr/bin:/bin") == str(DISTRIBUTION)


def _pick_with(distribution: Path, path: str, tmp_path: Path) -> str:
    """The script with ``distribution`` in place of /usr/bin/python3, on ``path``."""
    copy = tmp_path / "pick.sh"
    loop = "for candidate in /usr/bin/python3 "
    assert loop in SCRIPT.read_text()
    copy.write_text(SCRIPT.read_text().replace(loop, f"for candidate in {distribution} "))
    env = {**os.environ, "PATH": path}
    out = subprocess.run(["bash", str(copy)], capture_output=True, text=True, check=True, env=env)
    return out.stdout.strip()


def _fake_python(where: Path) -> Path:
    """A python3 that cannot make a virtualenv (exits 1 on every check)."""
    where.mkdir(parents=True, exist_ok=True)
    fake = where / "python3"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    return fake


def test_without_a_usable_distribution_python_python3_on_path_is_taken(tmp_path: Path) -> None:
    real = tmp_path / "bin"
    real.mkdir()
    (real / "python3").symlink_to(os.path.realpath(_pick(os.environ["PATH"])))
    broken = _fake_python(tmp_path / "distribution")
    assert _pick_with(broken, f"{real}:/bin", tmp_path) == str(real / "python3")


def test_with_no_usable_python_at_all_python3_is_handed_to_makes_version_check(
    tmp_path: Path,
) -> None:
    broken = _fake_python(tmp_path / "distribution")
    on_path = _fake_python(tmp_path / "bin")
    assert _pick_with(broken, f"{on_path.parent}:/bin", tmp_path) == "python3"
