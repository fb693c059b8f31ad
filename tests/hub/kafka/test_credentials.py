"""Kafka credentials: where they come from, clear errors when missing, never shown."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from hub.context import ConfigError, kafka_password, resolve_kafka
from hub.kafka.auth import ScramCredential, ScramMechanism
from hub.kafka.connection import KafkaConnection
from hub.secret_store import SecretError, SecretStore, write_private
from hub.settings import DEFAULT_HUB_USER, Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("KETENHUB_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KETENHUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KETENHUB_BOOTSTRAP", "kafka-1:9092")


def _sasl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETENHUB_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")


# The secrets directory


def test_a_generated_password_is_private_and_stable(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "secrets")
    password, made = store.ensure_kafka_password("huisarts-wijert")
    again, made_again = store.ensure_kafka_password("huisarts-wijert")
    assert made and not made_again
    assert password.get_secret_value() == again.get_secret_value()
    assert len(password.get_secret_value()) >= 40
    path = store.kafka_password_path("huisarts-wijert")
    assert path == tmp_path / "secrets" / "kafka" / "huisarts-wijert.password"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "secrets").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "secrets" / "kafka").stat().st_mode & 0o777 == 0o700
    assert password.get_secret_value() not in repr(password)


def test_write_private_narrows_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, "new")
    assert path.read_text() == "new" and path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b", "", ".hidden", "x" * 200])
def test_user_names_cannot_escape_the_directory(tmp_path: Path, name: str) -> None:
    with pytest.raises(SecretError, match="not a valid Kafka user name"):
        SecretStore(tmp_path).kafka_password_path(name)


@pytest.mark.parametrize(("content", "error"), [("\n", "is empty"), ("short\n", "shorter than")])
def test_unusable_password_files_are_named(tmp_path: Path, content: str, error: str) -> None:
    store = SecretStore(tmp_path)
    write_private(store.kafka_password_path("wij-zuid"), content)
    with pytest.raises(SecretError, match=error):
        store.kafka_password("wij-zuid")


# Settings and connections


def test_plaintext_needs_no_credentials() -> None:
    kafka = resolve_kafka(Settings(), user="huisarts-wijert")
    assert kafka == KafkaConnection(
        "kafka-1:9092", reader_group="ketenhub.partner.huisarts-wijert.reader"
    )
    assert "sasl_mechanism" not in kafka.client_kwargs()


def test_sasl_without_any_password_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _sasl(monkeypatch)
    with pytest.raises(ConfigError) as caught:
        resolve_kafka(Settings())
    message = str(caught.value)
    assert f"no Kafka password for user {DEFAULT_HUB_USER!r}" in message
    assert "KETENHUB_KAFKA_PASSWORD" in message and "KETENHUB_KAFKA_PASSWORD_FILE" in message
    assert f"kafka/{DEFAULT_HUB_USER}.password" in message


def test_sasl_with_username_and_password(monkeypatch: pytest.MonkeyPatch) -> None:
    _sasl(monkeypatch)
    monkeypatch.setenv("KETENHUB_KAFKA_USERNAME", "hub-prod")
    monkeypatch.setenv("KETENHUB_KAFKA_PASSWORD", "a-long-enough-password")
    settings = Settings()
    kafka = resolve_kafka(settings)
    assert (kafka.security_protocol, kafka.sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    assert kafka.username == "hub-prod"
    assert kafka.client_kwargs()["sasl_plain_password"] == "a-long-enough-password"
    for text in (repr(kafka), str(kafka), repr(settings), str(settings)):
        assert "a-long-enough-password" not in text


def test_tls_verifies_the_broker_with_the_system_or_a_given_ca(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _sasl(monkeypatch)
    monkeypatch.setenv("KETENHUB_KAFKA_USERNAME", "hub")
    monkeypatch.setenv("KETENHUB_KAFKA_PASSWORD", "a-long-enough-password")
    context = resolve_kafka(Settings()).client_kwargs()["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode is ssl.CERT_REQUIRED
    monkeypatch.setenv("KETENHUB_KAFKA_SSL_CAFILE", str(tmp_path / "missing-ca.pem"))
    with pytest.raises(ValidationError, match="kafka_ssl_cafile"):
        Settings()
    monkeypatch.setenv("KETENHUB_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.delenv("KETENHUB_KAFKA_SSL_CAFILE")
    assert "ssl_context" not in resolve_kafka(Settings()).client_kwargs()


def test_the_password_file_is_read_and_stripped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _sasl(monkeypatch)
    secret = tmp_path / "pw"
    secret.write_text("  from-a-file-password \n")
    monkeypatch.setenv("KETENHUB_KAFKA_USERNAME", "hub")
    monkeypatch.setenv("KETENHUB_KAFKA_PASSWORD_FILE", str(secret))
    assert kafka_password(Settings(), "hub").get_secret_value() == "from-a-file-password"
    secret.write_text("")
    with pytest.raises(ConfigError, match=r"KETENHUB_KAFKA_PASSWORD_FILE.*is empty"):
        resolve_kafka(Settings())
    monkeypatch.setenv("KETENHUB_KAFKA_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="cannot read KETENHUB_KAFKA_PASSWORD_FILE"):
        resolve_kafka(Settings())


def test_an_empty_password_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _sasl(monkeypatch)
    monkeypatch.setenv("KETENHUB_KAFKA_USERNAME", "hub")
    monkeypatch.setenv("KETENHUB_KAFKA_PASSWORD", "")
    with pytest.raises(ConfigError, match="KETENHUB_KAFKA_PASSWORD is set but empty"):
        resolve_kafka(Settings())


def test_a_partner_logs_in_with_its_own_password_from_the_secrets_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _sasl(monkeypatch)
    monkeypatch.setenv("KETENHUB_SECRETS_DIR", str(tmp_path / "s"))
    monkeypatch.setenv("KETENHUB_KAFKA_USERNAME", "hub")
    monkeypatch.setenv("KETENHUB_KAFKA_PASSWORD", "the-hubs-own-password")
    password, _ = SecretStore(tmp_path / "s").ensure_kafka_password("school-montessori")
    kafka = resolve_kafka(Settings(), user="school-montessori")
    assert kafka.username == "school-montessori"
    assert kafka.password == password  # not the hub's password from the environment
    with pytest.raises(ConfigError, match=r"no Kafka password for user 'wij-zuid': put it in"):
        resolve_kafka(Settings(), user="wij-zuid")


def test_production_refuses_an_unauthenticated_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KETENHUB_ENV", "production")
    monkeypatch.setenv("KETENHUB_PSEUDONYM_SECRET", "s3cret-value-of-enough-length")
    with pytest.raises(ConfigError, match="production refuses an unauthenticated Kafka"):
        resolve_kafka(Settings())
    monkeypatch.setenv("KETENHUB_KAFKA_SECURITY_PROTOCOL", "SSL")  # mutual TLS is fine
    assert resolve_kafka(Settings()).security_protocol == "SSL"


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"KETENHUB_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"}, "KETENHUB_KAFKA_SECURITY_PROTOCOL"),
        ({"KETENHUB_KAFKA_PASSWORD": "x" * 20}, "KETENHUB_KAFKA_USERNAME is not"),
        (
            {
                "KETENHUB_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "KETENHUB_KAFKA_SASL_MECHANISM": "MD5",
            },
            "kafka_sasl_mechanism",
        ),
    ],
)
def test_inconsistent_kafka_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], error: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=error):
        Settings()


# SCRAM credentials


def test_a_scram_credential_is_pbkdf2_and_never_the_password() -> None:
    password = SecretStr("pencil")
    salt = b"0123456789abcdef"
    cred = ScramCredential.derive(password, ScramMechanism.SHA_512, 4096, salt)
    import hashlib

    assert cred.salted_password == hashlib.pbkdf2_hmac("sha512", b"pencil", salt, 4096)
    argument = cred.storage_tool_argument("alice")
    assert argument.startswith('SCRAM-SHA-512=[name=alice,iterations=4096,salt="MDEyMzQ1')
    assert "pencil" not in argument
    other = ScramCredential.derive(password)
    assert other.salt != cred.salt and len(other.salt) == 32
