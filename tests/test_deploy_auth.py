"""docker-compose with authentication: the same users, ACL plan and secrets as local Kafka.

No Docker engine runs here, so the compose file is checked statically and the Kafka start
script is run with stand-ins for the Kafka binaries.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.kafka.local import ADMIN_USER, AUTHORIZER, BROKER_USER, KafkaDistribution, LocalKafka

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
START_SCRIPT = ROOT / "deploy" / "kafka" / "kafka-start.sh"
KAFKA_SERVICES = ("kafka-1", "kafka-2", "kafka-3")
HUB_SERVICES = ("topics-init", "hub-1", "hub-2")


def _env(service: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in SERVICES[service].get("environment", {}).items()}


def test_kafka_nodes_authenticate_every_listener_and_deny_by_default() -> None:
    for name in KAFKA_SERVICES:
        env = _env(name)
        assert "PLAINTEXT://" not in env["KAFKA_LISTENERS"].replace("SASL_PLAINTEXT://", "")
        assert env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] == (
            "CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
        )
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"SASL_PLAINTEXT://{name}:9092"
        assert env["KAFKA_AUTHORIZER_CLASS_NAME"] == AUTHORIZER
        assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
        assert env["KAFKA_SUPER_USERS"] == f"User:{BROKER_USER};User:{ADMIN_USER}"
        assert SERVICES[name]["secrets"] == ["kafka_broker_password", "kafka_admin_password"]
        assert SERVICES[name]["entrypoint"] == ["/bin/sh", "/opt/ketenhub/kafka-start.sh"]


def test_the_compose_brokers_match_the_local_brokers_security_settings(tmp_path: Path) -> None:
    local = LocalKafka(KafkaDistribution(tmp_path / "cache"), tmp_path / "run", auth=True)
    config = local._auth_config(9093)
    env = _env("kafka-1")
    for key in (
        "sasl.enabled.mechanisms",
        "sasl.mechanism.inter.broker.protocol",
        "sasl.mechanism.controller.protocol",
        "listener.name.controller.sasl.enabled.mechanisms",
        "authorizer.class.name",
        "super.users",
        "allow.everyone.if.no.acl.found",
    ):
        assert env["KAFKA_" + key.upper().replace(".", "_")] == config[key], key


def test_hubs_log_in_as_the_hub_user_with_a_password_file() -> None:
    for name in HUB_SERVICES:
        env = _env(name)
        assert env["KETENHUB_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert env["KETENHUB_KAFKA_USERNAME"] == "ketenhub-hub"
        assert env["KETENHUB_KAFKA_PASSWORD_FILE"] == "/run/secrets/kafka_hub_password"
        assert "KETENHUB_KAFKA_PASSWORD" not in env
        assert "kafka_hub_password" in SERVICES[name]["secrets"]
        assert "kafka_admin_password" not in SERVICES[name]["secrets"]
    assert SERVICES["topics-init"]["depends_on"] == {
        "kafka-provision": {"condition": "service_completed_successfully"}
    }


def test_provisioning_runs_from_the_same_registry_and_secrets_dir() -> None:
    provision = SERVICES["kafka-provision"]
    assert provision["command"] == ["partners", "provision"]
    env = _env("kafka-provision")
    assert env["KETENHUB_SECRETS_DIR"] == "/run/ketenhub-secrets"
    assert "./deploy/secrets:/run/ketenhub-secrets:ro" in provision["volumes"]
    assert "KETENHUB_PARTNERS_FILE" not in env  # the image's registry, as `ketenhub run` uses


def test_password_files_are_generated_and_git_ignored() -> None:
    secrets = COMPOSE["secrets"]
    for key, user in [
        ("kafka_broker_password", BROKER_USER),
        ("kafka_admin_password", ADMIN_USER),
        ("kafka_hub_password", "ketenhub-hub"),
    ]:
        path = secrets[key]["file"]
        assert path == f"./deploy/secrets/kafka/{user}.password"
        git = shutil.which("git")
        if git is None:
            continue
        ignored = subprocess.run(
            [git, "check-ignore", "-q", path], cwd=ROOT, capture_output=True, check=False
        )
        assert ignored.returncode == 0, f"{path} is not git-ignored"
    text = (ROOT / "docker-compose.yml").read_text()
    assert "password=" not in text.lower() and "KAFKA_PASSWORD:" not in text


def _run_start_script(tmp_path: Path, broker: str = "broker-secret-1234") -> Path:
    secrets, bin_dir, conf = tmp_path / "secrets", tmp_path / "bin", tmp_path / "conf"
    secrets.mkdir()
    bin_dir.mkdir()
    (secrets / "kafka_broker_password").write_text(f"{broker}\n")
    (secrets / "kafka_admin_password").write_text("admin-secret-5678\n")
    for tool in ("kafka-storage.sh", "kafka-server-start.sh"):
        stub = bin_dir / tool
        stub.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path}/{tool}.args"\n')
        stub.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "KETENHUB_SECRETS": str(secrets),
           "KETENHUB_KAFKA_BIN": str(bin_dir), "KETENHUB_KAFKA_CONF": str(conf),
           "KAFKA_NODE_ID": "2", "CLUSTER_ID": "JzYOXIEkQZKAmHuSISQFJg"}  # fmt: skip
    env |= {k: v for k, v in _env("kafka-2").items() if k.startswith("KAFKA_")}
    subprocess.run(
        ["/bin/sh", str(START_SCRIPT)], env=env, check=True, capture_output=True, timeout=30
    )
    return conf


def test_the_start_script_writes_private_properties_and_formats_with_both_users(
    tmp_path: Path,
) -> None:
    conf = _run_start_script(tmp_path)
    properties = conf / "server.properties"
    props = dict(line.split("=", 1) for line in properties.read_text().splitlines())
    assert properties.stat().st_mode & 0o777 == 0o600
    assert props["node.id"] == "2"
    assert props["listeners"] == "SASL_PLAINTEXT://:9092,CONTROLLER://:9093"
    assert props["authorizer.class.name"] == AUTHORIZER
    assert props["listener.name.controller.sasl.enabled.mechanisms"] == "PLAIN"
    assert (
        'password="broker-secret-1234";'
        in props["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"]
    )
    assert "admin-secret" not in properties.read_text()
    storage = (tmp_path / "kafka-storage.sh.args").read_text().splitlines()
    assert storage[:5] == ["format", "--ignore-formatted", "-t", "JzYOXIEkQZKAmHuSISQFJg", "-c"]
    assert "SCRAM-SHA-512=[name=ketenhub-broker,password=broker-secret-1234]" in storage
    assert "SCRAM-SHA-512=[name=ketenhub-admin,password=admin-secret-5678]" in storage
    client = (conf / "client.properties").read_text()
    assert "security.protocol=SASL_PLAINTEXT" in client
    assert (tmp_path / "kafka-server-start.sh.args").read_text().strip() == str(properties)


def test_the_start_script_refuses_an_empty_secret(tmp_path: Path) -> None:
    with pytest.raises(subprocess.CalledProcessError) as failed:
        _run_start_script(tmp_path, broker="   ")
    assert b"kafka_broker_password is empty" in failed.value.stderr
