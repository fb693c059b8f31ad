"""``ketenhub chaos`` keeps to the output contract: the figures on stdout, progress and the
broker's lines on stderr, and the simulated partners' client noise out of both (the real
scenarios run against a broker in ``tests/e2e/test_chaos.py``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli import chaos as cli_chaos
from hub.cli.main import app
from hub.tools.chaos import ScenarioResult

runner = CliRunner()
RECONNECT = "Unable connect to node with id 1: [Errno 111] Connect call failed"


@pytest.fixture
def scenarios(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Scenarios that log as aiokafka does while the broker is down, instead of running."""
    for name in list(os.environ):
        if name.startswith("KETENHUB_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KETENHUB_BOOTSTRAP", "unused:9092")
    monkeypatch.setenv("KETENHUB_HOME", str(tmp_path / "home"))
    ran: list[str] = []

    async def run_scenario(scenario: str, **kwargs: Any) -> ScenarioResult:
        logging.getLogger("aiokafka.conn").error(RECONNECT)
        kwargs["progress"](scenario, kwargs["messages"])
        ran.append(scenario)
        return ScenarioResult(scenario, 10, 10, 0, 0, 1.0, 10.0)

    monkeypatch.setattr(cli_chaos, "run_scenario", run_scenario)
    return ran


def test_the_figures_alone_go_to_stdout(scenarios: list[str]) -> None:
    result = runner.invoke(app, ["chaos", "--messages", "10", "--scenario", "hub-kill"])
    assert result.exit_code == 0, result.output
    assert scenarios == ["hub-kill"]
    header, row = result.stdout.splitlines()
    assert header.split("\t")[:5] == ["scenario", "sent", "delivered", "lost", "duplicated"]
    assert row.split("\t")[:5] == ["hub-kill", "10", "10", "0", "0"]
    assert RECONNECT not in result.stderr


def test_the_partners_client_lines_are_kept_under_logs(
    scenarios: list[str], tmp_path: Path
) -> None:
    logs = tmp_path / "chaos-logs"
    result = runner.invoke(app, ["chaos", "--messages", "10", "--logs", str(logs)])
    assert result.exit_code == 0, result.output
    assert (logs / "partners.log").read_text().count(RECONNECT) == 3
    assert RECONNECT not in result.stdout + result.stderr
    library = logging.getLogger("aiokafka")
    assert library.propagate and not library.handlers  # as it was, for whatever runs next
