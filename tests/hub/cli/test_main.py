"""Every command explains itself with --help; user errors are one clear line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hub.cli.main import app

runner = CliRunner()


def _command_paths(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for command in group.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        paths.append((*prefix, name.replace("_", "-")))
    for sub in group.registered_groups:
        assert sub.typer_instance is not None and sub.name is not None
        paths.extend(_command_paths(sub.typer_instance, (*prefix, sub.name)))
    return paths


COMMANDS = _command_paths(app)


def test_all_commands_are_found() -> None:
    expected = {("run",), ("send",), ("inbox",), ("demo",), ("partners",),
                ("kafka", "start"), ("kafka", "stop"), ("kafka", "status"), ("kafka", "fetch"),
                ("topics", "create"), ("topics", "list")}  # fmt: skip
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "ketenhub")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) > 3


def test_no_kafka_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KETENHUB_BOOTSTRAP", raising=False)
    monkeypatch.setenv("KETENHUB_HOME", str(tmp_path))
    result = runner.invoke(app, ["topics", "list"])
    assert result.exit_code == 2
    assert "no Kafka to talk to" in result.output
    assert "Traceback" not in result.output


def test_bad_settings_are_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETENHUB_PARTITIONS", "zero")
    result = runner.invoke(app, ["partners"])
    assert result.exit_code == 2
    assert "configuration error" in result.output and "partitions" in result.output


def test_partners_lists_the_registry_and_topics() -> None:
    result = runner.invoke(app, ["partners"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "huisarts-wijert" in result.output
    assert "ketenhub.partner.huisarts-wijert.out" in result.output


def test_a_missing_file_to_send_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["send", "--as", "huisarts-wijert", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.output


@pytest.mark.parametrize("command", ["send", "validate"])
def test_an_unknown_partner_is_a_clear_error_naming_the_known_ones(command: str) -> None:
    result = runner.invoke(
        app, [command, "--as", "nobody", "schemas/examples/huisarts-verwijzing.json"]
    )
    assert result.exit_code == 2
    assert "unknown partner 'nobody'; known partners: " in result.output
    assert "huisarts-wijert" in result.output


def test_policy_check_lists_the_flows() -> None:
    result = runner.invoke(app, ["policy", "check"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "policy OK" in result.output
    assert "referral" in result.output and "statutory" in result.output


def test_policy_check_refuses_an_invalid_file(tmp_path: Path) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text('[[flow]]\nevent = "referral"\nsender = "ojg"\nrecipient = "aanbieder"\n'
                   'bases = ["consent"]\nwhy = "no purpose given"\n')  # fmt: skip
    result = runner.invoke(app, ["policy", "check", str(bad)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "basis consent needs a purpose" in result.output


def test_policy_explain_says_why_and_what_consent_needs() -> None:
    result = runner.invoke(
        app, ["policy", "explain", "referral", "ojg", "aanbieder"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "An referral" not in result.output and "A referral from an ojg" in result.output
    assert "only with consent" in result.output and "age 12-15: child and parent" in result.output


def test_policy_explain_of_an_unlisted_flow_says_never() -> None:
    result = runner.invoke(app, ["policy", "explain", "referral", "school", "aanbieder"])
    assert result.exit_code == 0
    assert "never delivered" in result.output


def test_validate_prints_the_bundle_or_the_nack_reason() -> None:
    golden = "schemas/examples/huisarts-verwijzing.json"
    ok = runner.invoke(app, ["validate", "--as", "huisarts-wijert", golden])
    assert ok.exit_code == 0
    assert '"resourceType": "Bundle"' in ok.output
    spoofed = runner.invoke(app, ["validate", "--as", "huisarts-hoogkerk", golden])
    assert spoofed.exit_code == 1
    assert "sender-mismatch" in spoofed.output
    assert "999990019" not in spoofed.output


def test_state_show_needs_exactly_one_key() -> None:
    result = runner.invoke(app, ["state", "show"])
    assert result.exit_code == 2
    assert "exactly one of --household or --bsn" in result.output


def test_a_broker_too_old_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import hub.app
    import hub.cli.main
    from hub.kafka.broker_features import BrokerTooOld

    async def too_old(kafka: object) -> int:
        raise BrokerTooOld("broker kafka-1:9092 lacks TxnOffsetCommitRequestV3 (API 28 v3)")

    monkeypatch.setattr(hub.app, "start_checks", too_old)
    # `run` would point the process's logging at the runner's stdout, closed after invoke
    monkeypatch.setattr(hub.cli.main, "configure_logging", lambda **kwargs: None)
    monkeypatch.setenv("KETENHUB_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("KETENHUB_HOME", str(tmp_path))
    result = runner.invoke(app, ["run", "--metrics-port", "0", "--log-format", "console"])
    assert result.exit_code == 2, result.output
    assert "error: broker kafka-1:9092 lacks TxnOffsetCommitRequestV3" in result.output
    assert "Traceback" not in result.output
