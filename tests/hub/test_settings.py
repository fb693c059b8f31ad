"""Settings from ``KETENHUB_*`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.settings import DEVELOPMENT_SECRET, Environment, Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KETENHUB_"):
            monkeypatch.delenv(name)


def test_development_defaults_use_the_development_key() -> None:
    settings = Settings()
    assert settings.env is Environment.DEVELOPMENT
    assert settings.topic_prefix == "ketenhub"
    assert settings.secret_bytes() == DEVELOPMENT_SECRET.encode()


def test_production_without_a_secret_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETENHUB_ENV", "production")
    with pytest.raises(ValidationError, match="KETENHUB_PSEUDONYM_SECRET"):
        Settings()


def test_production_with_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETENHUB_ENV", "production")
    monkeypatch.setenv("KETENHUB_PSEUDONYM_SECRET", "s3cret-value-of-enough-length")
    settings = Settings()
    assert settings.secret_bytes() == b"s3cret-value-of-enough-length"
    assert "s3cret-value-of-enough-length" not in repr(settings)
    assert "s3cret-value-of-enough-length" not in str(settings)


def test_production_with_an_empty_secret_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETENHUB_ENV", "production")
    monkeypatch.setenv("KETENHUB_PSEUDONYM_SECRET", "")
    with pytest.raises(ValidationError):
        Settings()


def test_secret_file_content_is_stripped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"  file-secret-of-enough-length\n\n")
    monkeypatch.setenv("KETENHUB_ENV", "production")
    monkeypatch.setenv("KETENHUB_PSEUDONYM_SECRET_FILE", str(secret))
    settings = Settings()
    assert settings.pseudonym_secret_file == secret
    assert settings.secret_bytes() == b"file-secret-of-enough-length"


def test_secret_takes_precedence_over_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"from-file-long-enough-key")
    monkeypatch.setenv("KETENHUB_PSEUDONYM_SECRET_FILE", str(secret))
    monkeypatch.setenv("KETENHUB_PSEUDONYM_SECRET", "from-env-long-enough-key")
    assert Settings().secret_bytes() == b"from-env-long-enough-key"


def test_production_with_an_empty_secret_file_refuses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An empty (or whitespace-only) file must not become an empty HMAC key in production."""
    secret = tmp_path / "secret"
    secret.write_bytes(b" \n")
    monkeypatch.setenv("KETENHUB_ENV", "production")
    monkeypatch.setenv("KETENHUB_PSEUDONYM_SECRET_FILE", str(secret))
    with pytest.raises(ValueError):
        Settings().secret_bytes()


@pytest.mark.parametrize("prefix", ["ketenhub", "t", "keten-hub-2"])
def test_good_topic_prefixes(monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    monkeypatch.setenv("KETENHUB_TOPIC_PREFIX", prefix)
    assert Settings().topic_prefix == prefix


@pytest.mark.parametrize(
    "prefix", ["", "Ketenhub", "1hub", "-hub", "keten.hub", "keten_hub", "k h"]
)
def test_bad_topic_prefixes(monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    monkeypatch.setenv("KETENHUB_TOPIC_PREFIX", prefix)
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KETENHUB_ENV", "staging"),
        ("KETENHUB_PARTITIONS", "0"),
        ("KETENHUB_MAX_PAYLOAD_BYTES", "100"),
        ("KETENHUB_MAX_PAYLOAD_BYTES", str(901 * 1024)),
        ("KETENHUB_METRICS_PORT", "70000"),
    ],
)
def test_out_of_range_values_are_rejected(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETENHUB_BOOTSTRAP", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("KETENHUB_PARTITIONS", "12")
    monkeypatch.setenv("KETENHUB_MAX_PAYLOAD_BYTES", "2048")
    settings = Settings()
    assert settings.bootstrap == "kafka-1:9092,kafka-2:9092"
    assert settings.partitions == 12
    assert settings.max_payload_bytes == 2048
    assert settings.partner_partitions == 1, "partner topics are sized apart from the hub's"
    monkeypatch.setenv("KETENHUB_PARTNER_PARTITIONS", "2")
    assert Settings().partner_partitions == 2


def test_a_short_secret_is_refused_in_any_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETENHUB_PSEUDONYM_SECRET", "short")
    with pytest.raises(ValueError, match="at least 16 bytes"):
        Settings().secret_bytes()
