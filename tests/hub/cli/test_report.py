"""``ketenhub report indicators``: argument errors are one line and exit 2, before any Kafka."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hub.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--from", "2026-13-01"], "--from takes a date as YYYY-MM-DD"),
        (["--to", "december"], "--to takes a date as YYYY-MM-DD"),
        (["--from", "2026-12-01", "--to", "2026-11-01"], "--from is after --to"),
        (["--json", "--csv"], "give --json or --csv, not both"),
    ],
)
def test_a_wrong_argument_is_one_line_and_exit_2(args: list[str], says: str) -> None:
    result = runner.invoke(app, ["report", "indicators", *args])
    assert result.exit_code == 2
    assert says in result.output
    assert "Traceback" not in result.output
