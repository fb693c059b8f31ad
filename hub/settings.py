"""Configuration from the environment (``KETENHUB_*``), with defaults that run locally."""

from __future__ import annotations

import socket
from enum import StrEnum
from pathlib import Path

from pydantic import Field, FilePath, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULTS = Path(__file__).parent / "defaults"
DEVELOPMENT_SECRET = "ketenhub-development-only-not-a-secret"
DEFAULT_HUB_USER = "ketenhub-hub"
MIN_SECRET_BYTES = 16


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Each field is also an environment variable: ``KETENHUB_`` + its name in capitals."""

    model_config = SettingsConfigDict(env_prefix="KETENHUB_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    bootstrap: str | None = Field(
        default=None,
        description="Kafka bootstrap servers; unset means the project's own local Kafka",
    )
    kafka_security_protocol: str = Field(
        default="PLAINTEXT", pattern=r"^(PLAINTEXT|SASL_PLAINTEXT|SASL_SSL|SSL)$"
    )
    kafka_sasl_mechanism: str | None = Field(
        default=None,
        pattern=r"^(SCRAM-SHA-512|SCRAM-SHA-256|PLAIN)$",
        description="SASL mechanism; SCRAM-SHA-512 when a SASL protocol is set without one",
    )
    kafka_username: str | None = Field(
        default=None, description=f"the hub's Kafka user; {DEFAULT_HUB_USER} when unset"
    )
    kafka_password: SecretStr | None = None
    kafka_password_file: Path | None = None
    kafka_ssl_cafile: FilePath | None = Field(
        default=None, description="CA bundle for SSL/SASL_SSL; unset: the system's CAs"
    )
    secrets_dir: Path | None = Field(
        default=None,
        description="Kafka passwords as kafka/<user>.password; default $KETENHUB_HOME/secrets",
    )
    home: Path = Field(default=Path(".ketenhub"), description="local Kafka, logs, caches")
    kafka_port: int = Field(default=19092, description="port of the local Kafka broker")
    topic_prefix: str = Field(default="ketenhub", pattern=r"^[a-z][a-z0-9-]*$")
    partitions: int = Field(
        default=6, ge=1, le=1000,
        description="partitions of the hub's own topics (canonical, state, audit, ...): how "
        "many instances can share the routing",
    )  # fmt: skip
    partner_partitions: int = Field(
        default=1, ge=1, le=1000,
        description="partitions of each partner's inbox and outbox topic: one keeps a partner's "
        "messages in order and is ample for one partner's volume; every partition costs the "
        "hub a fetch slot and, per transaction that writes to it, a marker",
    )  # fmt: skip
    replication_factor: int = Field(default=1, ge=1)
    partners_file: Path = DEFAULTS / "partners.toml"
    policy_file: Path = DEFAULTS / "policy.toml"
    pseudonym_secret: SecretStr | None = None
    pseudonym_secret_file: Path | None = None
    max_payload_bytes: int = Field(default=512 * 1024, ge=1024, le=900 * 1024)
    batch_linger_ms: int = Field(
        default=0, ge=0, le=1000,
        description="how long a busy stage waits for more records after the first of a batch. "
        "0: none; records that come while a transaction commits make the next batch, so "
        "batches grow with the load by themselves. More trades latency for fewer, larger "
        "transactions (less CPU at a steady few hundred msg/s)",
    )  # fmt: skip
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    metrics_host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="address /metrics listens on: loopback unless a scraper elsewhere needs "
        "it (0.0.0.0 inside a container)",
    )
    instance_id: str = Field(default_factory=socket.gethostname)

    @model_validator(mode="after")
    def _production_needs_a_secret(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            if not (self.pseudonym_secret or self.pseudonym_secret_file):
                raise ValueError(
                    "KETENHUB_PSEUDONYM_SECRET or KETENHUB_PSEUDONYM_SECRET_FILE must be set "
                    "when KETENHUB_ENV=production"
                )
            self.secret_bytes()
        return self

    @model_validator(mode="after")
    def _kafka_auth_is_consistent(self) -> Settings:
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if self.kafka_sasl_mechanism and not sasl:
            raise ValueError(
                "KETENHUB_KAFKA_SASL_MECHANISM is set but KETENHUB_KAFKA_SECURITY_PROTOCOL is "
                f"{self.kafka_security_protocol}; use SASL_SSL or SASL_PLAINTEXT"
            )
        if (self.kafka_password or self.kafka_password_file) and not self.kafka_username:
            raise ValueError(
                "a Kafka password is set but KETENHUB_KAFKA_USERNAME is not; name the user"
            )
        return self

    @property
    def secrets_path(self) -> Path:
        """Where Kafka passwords are kept (``kafka/<user>.password``)."""
        return self.secrets_dir or self.home / "secrets"

    def secret_bytes(self) -> bytes:
        """The HMAC key for pseudonyms; the fixed development key only outside production.

        A short key would make pseudonyms reversible by trying all ~10^8 valid BSNs, so a
        configured key must have at least ``MIN_SECRET_BYTES`` bytes.
        """
        if self.pseudonym_secret is not None:
            key = self.pseudonym_secret.get_secret_value().encode()
            source = "KETENHUB_PSEUDONYM_SECRET"
        elif self.pseudonym_secret_file is not None:
            try:
                key = self.pseudonym_secret_file.read_bytes().strip()
            except OSError as exc:
                raise ValueError(
                    f"cannot read KETENHUB_PSEUDONYM_SECRET_FILE: {exc.strerror}"
                ) from None
            source = "KETENHUB_PSEUDONYM_SECRET_FILE"
        else:
            return DEVELOPMENT_SECRET.encode()
        if len(key) < MIN_SECRET_BYTES:
            raise ValueError(f"{source} must hold at least {MIN_SECRET_BYTES} bytes")
        return key


def settings_problems(exc: ValidationError) -> str:
    """What is wrong with the settings, in one line (pydantic's own text spans several and
    would echo the values, which may be secrets)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
        for e in exc.errors(include_input=False)
    )
