"""``ketenhub keys``: rotate and its refusals without Kafka (status and retire read the
topics: tests/e2e/test_key_rotation_e2e.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.main import app

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KETENHUB_HOME", str(tmp_path))
    monkeypatch.delenv("KETENHUB_SECRETS_DIR", raising=False)
    monkeypatch.delenv("KETENHUB_PSEUDONYM_SECRET", raising=False)
    return tmp_path


def test_rotate_says_which_key_is_current_and_a_second_rotation_is_refused(home: Path) -> None:
    result = runner.invoke(app, ["keys", "rotate", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[0]) == {"current": 2, "previous": 1}
    assert (home / "secrets" / "pseudonym" / "v2.key").is_file()
    again = runner.invoke(app, ["keys", "rotate"])
    assert again.exit_code == 2
    assert "retire" in again.output and "Traceback" not in again.output


def test_retire_with_one_key_says_there_is_nothing_to_retire(home: Path) -> None:
    result = runner.invoke(app, ["keys", "retire", "--yes"])
    assert result.exit_code == 2
    assert "nothing to retire" in result.output
