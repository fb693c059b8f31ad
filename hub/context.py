"""Everything a hub command needs, loaded once from settings and passed down explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adapters.registry import AdapterRegistry, load_adapters
from hub.kafka_io import KafkaConnection
from hub.local_kafka import KafkaDistribution, LocalKafka, LocalKafkaError
from hub.pseudonyms import Pseudonymiser
from hub.settings import Settings
from hub.topics import TopicNames
from routing.policy import Policy
from schemas.partners import Partner, PartnerRegistry


class ConfigError(RuntimeError):
    """A configuration problem with a message that says how to fix it."""


def local_kafka(
    settings: Settings, run_dir: Path | None = None, port: int | None = None
) -> LocalKafka:
    return LocalKafka(
        KafkaDistribution(settings.home / "cache"),
        run_dir or settings.home / "kafka",
        port=port or settings.kafka_port,
    )


def resolve_kafka(settings: Settings) -> KafkaConnection:
    """How to reach Kafka: bootstrap servers plus credentials from settings."""
    return KafkaConnection(
        bootstrap=resolve_bootstrap(settings),
        security_protocol=settings.kafka_security_protocol,
        sasl_mechanism=settings.kafka_sasl_mechanism,
        username=settings.kafka_username,
        password=settings.kafka_password.get_secret_value() if settings.kafka_password else None,
    )


def resolve_bootstrap(settings: Settings) -> str:
    """``KETENHUB_BOOTSTRAP`` when set, else the local broker if it runs."""
    if settings.bootstrap:
        return settings.bootstrap
    kafka = local_kafka(settings)
    if kafka.status().running:
        return kafka.bootstrap
    raise LocalKafkaError(
        "no Kafka to talk to: start the local one with `ketenhub kafka start`, "
        "or point KETENHUB_BOOTSTRAP at a cluster"
    )


@dataclass(frozen=True)
class HubContext:
    settings: Settings
    kafka: KafkaConnection
    names: TopicNames
    registry: PartnerRegistry
    policy: Policy
    adapters: AdapterRegistry
    pseudonyms: Pseudonymiser

    def partner(self, partner_id: str) -> Partner:
        partner = self.registry.get(partner_id)
        if partner is None:
            known = ", ".join(p.id for p in self.registry.partners)
            raise ConfigError(f"unknown partner {partner_id!r}; known partners: {known}")
        return partner


def load_registry(settings: Settings) -> PartnerRegistry:
    try:
        return PartnerRegistry.from_toml(settings.partners_file)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"partner registry {settings.partners_file}: {exc}") from None


def load_policy(settings: Settings) -> Policy:
    try:
        return Policy.from_toml(settings.policy_file)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"policy {settings.policy_file}: {exc}") from None


def load_context(settings: Settings, kafka: KafkaConnection | None = None) -> HubContext:
    registry = load_registry(settings)
    adapters = load_adapters()
    for partner in registry.partners:
        adapters.get(partner.adapter_name)
    return HubContext(
        settings=settings,
        kafka=kafka or resolve_kafka(settings),
        names=TopicNames(settings.topic_prefix),
        registry=registry,
        policy=load_policy(settings),
        adapters=adapters,
        pseudonyms=Pseudonymiser(settings.secret_bytes()),
    )
