"""The local broker with authentication: its configuration, without starting Java."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.kafka.local import (
    ADMIN_USER,
    AUTHORIZER,
    BROKER_USER,
    KafkaDistribution,
    LocalKafka,
    LocalKafkaError,
)


def _kafka(tmp_path: Path, auth: bool = True) -> LocalKafka:
    return LocalKafka(
        KafkaDistribution(tmp_path / "cache"), tmp_path / "run", port=29092,
        auth=auth, secrets_dir=tmp_path / "secrets",
    )  # fmt: skip


def _props(kafka: LocalKafka) -> dict[str, str]:
    kafka.run_dir.mkdir(parents=True, exist_ok=True)
    text = kafka._write_config(29093).read_text()
    return dict(line.split("=", 1) for line in text.splitlines())


def test_every_listener_authenticates_and_acls_decide(tmp_path: Path) -> None:
    props = _props(_kafka(tmp_path))
    assert props["listeners"] == "SASL_PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert props["listener.security.protocol.map"] == (
        "CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
    )
    assert props["inter.broker.listener.name"] == "SASL_PLAINTEXT"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    assert props["authorizer.class.name"] == AUTHORIZER
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == f"User:{BROKER_USER};User:{ADMIN_USER}"
    assert "ANONYMOUS" not in "".join(props.values())
    assert "PLAINTEXT://" not in props["listeners"].replace("SASL_PLAINTEXT://", "")


def test_the_broker_password_stays_private_and_stable(tmp_path: Path) -> None:
    kafka = _kafka(tmp_path)
    first = _props(kafka)
    second = _props(kafka)
    key = "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"
    assert first[key] == second[key]
    assert (kafka.run_dir / "server.properties").stat().st_mode & 0o777 == 0o600
    assert (kafka.run_dir / "broker.password").stat().st_mode & 0o777 == 0o600


def test_without_auth_nothing_changes(tmp_path: Path) -> None:
    props = _props(_kafka(tmp_path, auth=False))
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert "authorizer.class.name" not in props
    assert not (tmp_path / "run" / "broker.password").exists()


@pytest.mark.parametrize(("formatted", "wanted"), [(False, True), (True, False)])
def test_a_broker_formatted_one_way_is_not_started_the_other(
    tmp_path: Path, formatted: bool, wanted: bool
) -> None:
    kafka = _kafka(tmp_path, auth=wanted)
    kafka.data_dir.mkdir(parents=True)
    (kafka.data_dir / "meta.properties").write_text("")
    if formatted:
        (kafka.run_dir / "security.json").write_text(json.dumps({"auth": True}))
    assert kafka.formatted_auth() is formatted
    with pytest.raises(LocalKafkaError, match=r"was formatted (with|without) authentication"):
        kafka.start(say=lambda _: None)


def test_an_unformatted_broker_has_no_mode(tmp_path: Path) -> None:
    assert _kafka(tmp_path).formatted_auth() is None
    assert not _kafka(tmp_path).status().auth
