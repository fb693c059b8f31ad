"""The local broker's files and its error messages, without starting Java."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.kafka.local import KafkaDistribution, LocalKafka, LocalKafkaError


def _kafka(tmp_path: Path) -> LocalKafka:
    return LocalKafka(KafkaDistribution(tmp_path / "cache"), tmp_path / "run", port=29092)


def test_server_properties_are_a_single_node_kraft_broker_on_loopback(tmp_path: Path) -> None:
    kafka = _kafka(tmp_path)
    kafka.run_dir.mkdir(parents=True)
    text = kafka._write_config(29093).read_text()
    props = dict(line.split("=", 1) for line in text.splitlines())
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:29093"
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["auto.create.topics.enable"] == "false"
    assert Path(props["log.dirs"]).is_absolute()


def test_missing_java_or_maven_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LocalKafkaError, match="java not found on PATH: install a Java 17"):
        _kafka(tmp_path).start(say=lambda _: None)
    (tmp_path / "java").write_text("#!/bin/sh\n")
    (tmp_path / "java").chmod(0o755)
    with pytest.raises(LocalKafkaError, match="mvn not found on PATH: install Apache Maven"):
        KafkaDistribution(tmp_path / "cache").fetch(say=lambda _: None)


def test_status_of_a_broker_never_started(tmp_path: Path) -> None:
    status = _kafka(tmp_path).status()
    assert not status.running and status.pid is None
    assert status.bootstrap == "127.0.0.1:29092"


def test_stop_when_not_running_says_so(tmp_path: Path) -> None:
    said: list[str] = []
    _kafka(tmp_path).stop(say=said.append)
    assert said == ["Kafka is not running."]


def test_a_stale_pid_file_is_not_a_running_broker(tmp_path: Path) -> None:
    kafka = _kafka(tmp_path)
    kafka.run_dir.mkdir(parents=True)
    (kafka.run_dir / "kafka.pid").write_text('{"pid": 999999999, "port": 29092}')
    assert kafka.status().pid is None


def test_the_local_broker_skips_transactional_produce_verification(tmp_path: Path) -> None:
    """With the check on, Kafka answers a client without KIP-890 part 2 NOT_ENOUGH_REPLICAS
    while the previous transaction's markers are written: retries that filled a demo's log."""
    kafka = _kafka(tmp_path)
    kafka.run_dir.mkdir(parents=True)
    text = kafka._write_config(29093).read_text()
    props = dict(line.split("=", 1) for line in text.splitlines())
    assert props["transaction.partition.verification.enable"] == "false"
    assert props.get("min.insync.replicas", "1") == "1"


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something listens on, standing in for a running broker."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])


def _record(kafka: LocalKafka, port: int, pid: int | None = None) -> None:
    kafka.run_dir.mkdir(parents=True, exist_ok=True)
    (kafka.run_dir / "kafka.pid").write_text(json.dumps({"pid": pid or os.getpid(), "port": port}))


def test_status_reports_the_recorded_broker_never_another_port(
    tmp_path: Path, listening: int
) -> None:
    kafka = _kafka(tmp_path)  # made with port 29092, as a shell without the variable would
    _record(kafka, listening)
    status = kafka.status()
    assert status.running and status.pid == os.getpid()
    assert status.port == listening and status.bootstrap == f"127.0.0.1:{listening}"


def test_start_refuses_a_second_port_while_the_recorded_broker_runs(
    tmp_path: Path, listening: int
) -> None:
    kafka = _kafka(tmp_path)
    _record(kafka, listening)
    with pytest.raises(LocalKafkaError, match=f"already runs at 127.0.0.1:{listening}") as info:
        kafka.start(say=lambda _: None)
    assert f"KETENHUB_KAFKA_PORT={listening}" in str(info.value)
