"""Every command, given bad input, answers with one line that says what to do: no traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.main import app

runner = CliRunner()
GP = "huisarts-wijert"
GOLDEN = "schemas/examples/huisarts-verwijzing.json"


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No Kafka, no settings from the shell; an empty file and a directory to hand over."""
    for name in list(os.environ):
        if name.startswith("KETENHUB_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KETENHUB_HOME", str(tmp_path / "home"))
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "blank.toml").write_text("\n  \n")
    (tmp_path / "dir").mkdir()
    return tmp_path


# (arguments with {tmp} for the fixture's directory, extra environment, what the line says)
CASES: list[tuple[str, dict[str, str], str]] = [
    ("validate --as huisarts-wijert {tmp}/empty.json", {}, "payload is empty"),
    ("validate --as huisarts-wijert {tmp}/dir", {}, "Is a directory"),
    ("validate --as nobody " + GOLDEN, {}, "unknown partner 'nobody'; known partners: "),
    ("send --as huisarts-wijert {tmp}/missing.json", {}, "cannot read"),
    ("policy check {tmp}/empty.json", {}, "the file is empty"),
    ("policy check {tmp}/blank.toml", {}, "the file is empty"),
    ("policy check {tmp}/dir", {}, "Is a directory"),
    ("policy explain referral nobody aanbieder", {}, "Invalid value"),
    ("partners", {"KETENHUB_PARTNERS_FILE": "{tmp}/empty.json"}, "the file is empty"),
    ("adapters list", {"KETENHUB_PARTNERS_FILE": "{tmp}/missing.toml"}, "No such file"),
    ("dlq show x", {"KETENHUB_BOOTSTRAP": "unused:9092"}, "not a DLQ reference"),
    ("dlq show 0:1 --payload --json", {}, "choose one"),
    ("dlq list --since yesterday", {}, "not an ISO 8601 time"),
    ("dlq replay", {}, "say what to replay"),
    ("audit", {}, "exactly one of --bsn, --household, --message or --disclosures"),
    ("audit --bsn 123456789", {}, "not a valid BSN"),
    ("audit --disclosures", {}, "no Kafka to talk to: start the local one"),
    ("trace 3f2c", {}, "no Kafka to talk to"),
    ("inbox huisarts-wijert", {}, "no Kafka to talk to"),
    ("topics list", {}, "no Kafka to talk to"),
    ("state show --bsn 1", {}, "not a valid BSN"),
    ("state show", {}, "exactly one of --household or --bsn"),
    ("kafka status", {"KETENHUB_KAFKA_PORT": "high"}, "configuration error: kafka_port"),
    ("kafka start", {"KETENHUB_PARTITIONS": "0"}, "configuration error: partitions"),
    ("run --log-level loud", {}, "unknown log level 'loud'"),
    ("run --log-format xml", {}, "unknown log format 'xml'"),
    ("partners provision --dry-run", {}, "no Kafka to talk to"),
    ("adapters new X", {}, "must match"),
    ("chaos --scenario nope", {}, "unknown scenario(s): nope"),
    ("demo", {"KETENHUB_REPLICATION_FACTOR": "0"}, "configuration error: replication_factor"),
    ("bench --state", {"KETENHUB_MAX_PAYLOAD_BYTES": "1"}, "configuration error"),
]


@pytest.mark.parametrize(("command", "env", "says"), CASES, ids=[c for c, _, _ in CASES])
def test_bad_input_is_one_clear_line(
    files: Path, monkeypatch: pytest.MonkeyPatch, command: str, env: dict[str, str], says: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace("{tmp}", str(files)))
    result = runner.invoke(app, command.replace("{tmp}", str(files)).split())
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    assert says in result.stderr, result.output
    if "Usage:" not in result.stderr:  # typer's own usage errors come with the usage
        assert len(result.stderr.splitlines()) == 1, f"not one line: {result.stderr!r}"
    assert result.stdout == "", "an error puts nothing on stdout"
