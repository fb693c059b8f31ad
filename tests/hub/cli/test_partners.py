"""``ketenhub partners provision`` without a broker: secrets, printing, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.main import app
from hub.secret_store import SecretStore

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: "" for k in os.environ if k.startswith("KETENHUB_")}
    return clean | {
        "KETENHUB_HOME": str(tmp_path / "home"),
        "KETENHUB_SECRETS_DIR": str(tmp_path / "secrets"),
        "KETENHUB_BOOTSTRAP": "127.0.0.1:1",
        "COLUMNS": "200",
    }


def _unset(env: dict[str, str]) -> dict[str, str | None]:
    return {k: (None if v == "" else v) for k, v in env.items()}


def test_secrets_only_writes_private_files_and_prints_no_password(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["partners", "provision", "--secrets-only"], env=_unset(env))
    assert result.exit_code == 0, result.output
    store = SecretStore(tmp_path / "secrets")
    for user in ("ketenhub-hub", "ketenhub-admin", "ketenhub-broker", "huisarts-wijert"):
        password = store.kafka_password(user)
        assert password is not None, user
        assert password.get_secret_value() not in result.output
        assert store.kafka_password_path(user).stat().st_mode & 0o777 == 0o600
    again = runner.invoke(app, ["partners", "provision", "--secrets-only"], env=_unset(env))
    assert "generated" not in again.output


def test_show_prints_the_passwords_with_a_warning(env: dict[str, str], tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["partners", "provision", "--secrets-only", "--show"], env=_unset(env)
    )
    assert result.exit_code == 0, result.output
    password = SecretStore(tmp_path / "secrets").kafka_password("huisarts-wijert")
    assert password is not None and password.get_secret_value() in result.output
    assert "printing passwords" in result.output


def test_provisioning_an_unauthenticated_cluster_is_a_clear_error(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["partners", "provision"], env=_unset(env))
    assert result.exit_code == 2
    assert "provisioning needs an authenticated cluster" in result.output
    assert "Traceback" not in result.output


def test_a_missing_admin_password_is_a_clear_error(env: dict[str, str]) -> None:
    env["KETENHUB_KAFKA_SECURITY_PROTOCOL"] = "SASL_PLAINTEXT"
    result = runner.invoke(app, ["partners", "provision"], env=_unset(env))
    assert result.exit_code == 2
    assert "no Kafka password for user 'ketenhub-admin'" in result.output


def test_partners_without_a_subcommand_still_lists_the_registry(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["partners"], env=_unset(env))
    assert result.exit_code == 0
    assert "ketenhub.partner.huisarts-wijert.out" in result.output
