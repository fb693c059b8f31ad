"""One broker per checkout: commands reach the broker this checkout started, or refuse."""

from __future__ import annotations

import io
import json
import os
import shlex
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from hub.cli.main import app
from hub.context import (
    broker_disagreement,
    local_kafka,
    resolve_bootstrap,
    shell_exports,
)
from hub.kafka.local import LocalKafkaError
from hub.settings import Settings

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("KETENHUB_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KETENHUB_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def running(home: Path) -> Iterator[int]:
    """This checkout's broker, as its pid file records it: this process, on a port that
    listens (not the default 19092, as with `make run` on KETENHUB_KAFKA_PORT=39192)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = int(server.getsockname()[1])
        (home / "kafka").mkdir()
        (home / "kafka" / "kafka.pid").write_text(json.dumps({"pid": os.getpid(), "port": port}))
        yield port


def test_a_second_shell_without_the_port_reaches_the_recorded_broker(running: int) -> None:
    settings = Settings()
    assert local_kafka(settings).port == running
    assert resolve_bootstrap(settings) == f"127.0.0.1:{running}"
    assert broker_disagreement(settings) is None


def test_a_port_setting_that_disagrees_is_refused_in_one_line(
    running: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETENHUB_KAFKA_PORT", "19092")
    with pytest.raises(LocalKafkaError) as info:
        resolve_bootstrap(Settings())
    line = str(info.value)
    assert "\n" not in line
    assert f"runs at 127.0.0.1:{running} (pid {os.getpid()}" in line
    assert f"export KETENHUB_KAFKA_PORT={running}" in line


def test_a_loopback_bootstrap_of_another_broker_is_refused(
    running: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETENHUB_BOOTSTRAP", "localhost:19092")
    with pytest.raises(LocalKafkaError, match="KETENHUB_BOOTSTRAP=localhost:19092 is another"):
        resolve_bootstrap(Settings())
    monkeypatch.setenv("KETENHUB_BOOTSTRAP", f"127.0.0.1:{running}")
    assert resolve_bootstrap(Settings()) == f"127.0.0.1:{running}"


def test_a_bootstrap_elsewhere_is_a_cluster_chosen_on_purpose(
    running: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETENHUB_BOOTSTRAP", "kafka-1:9092,127.0.0.1:19092")
    assert resolve_bootstrap(Settings()) == "kafka-1:9092,127.0.0.1:19092"


def test_without_a_running_broker_the_settings_decide(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETENHUB_BOOTSTRAP", "127.0.0.1:19092")
    assert resolve_bootstrap(Settings()) == "127.0.0.1:19092"


def test_kafka_status_shows_one_brokers_pid_and_port_and_warns_of_a_setting(
    running: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = runner.invoke(app, ["kafka", "status"])
    assert plain.exit_code == 0, plain.output
    assert f"running at 127.0.0.1:{running} (pid {os.getpid()})" in plain.stdout
    assert plain.stderr == ""
    monkeypatch.setenv("KETENHUB_KAFKA_PORT", "19092")
    mismatch = runner.invoke(app, ["kafka", "status", "--json"])
    [status] = [json.loads(line) for line in mismatch.stdout.splitlines()]
    assert status["bootstrap"] == f"127.0.0.1:{running}" and status["pid"] == os.getpid()
    assert "warning: KETENHUB_KAFKA_PORT=19092, but this checkout's Kafka" in mismatch.stderr


def test_the_export_line_gives_a_second_shell_the_broker_and_no_secret(
    running: int, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETENHUB_TOPIC_PREFIX", "demo")
    monkeypatch.setenv("KETENHUB_PSEUDONYM_SECRET", "a-secret-of-sufficient-length")
    line = shell_exports(Settings())
    assert line.startswith("export ")
    exported = dict(word.split("=", 1) for word in shlex.split(line)[1:])
    assert exported == {
        "KETENHUB_HOME": str(home.resolve()),
        "KETENHUB_KAFKA_PORT": str(running),
        "KETENHUB_TOPIC_PREFIX": "demo",
    }


def test_the_demo_prints_the_export_line_whole(running: int, home: Path) -> None:
    from hub.tools.demo import _say_second_shell

    buffer = io.StringIO()
    _say_second_shell(Settings(), Console(file=buffer, width=40))
    [export] = [line.strip() for line in buffer.getvalue().splitlines() if "export " in line]
    assert export == f"export KETENHUB_HOME={home.resolve()} KETENHUB_KAFKA_PORT={running}"


def test_check_reports_the_disagreement_instead_of_checking_another_broker(
    running: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETENHUB_KAFKA_PORT", "19092")
    result = runner.invoke(app, ["check", "--json"])
    assert result.exit_code == 1, result.output
    findings = {f["check"]: f for f in map(json.loads, result.stdout.splitlines())}
    assert not findings["kafka"]["ok"]
    assert f"export KETENHUB_KAFKA_PORT={running}" in findings["kafka"]["detail"]
