"""Shared fixtures of the unit tests: the default configuration, loaded as the hub loads it."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.base import DecodeContext
from adapters.registry import AdapterRegistry, load_adapters
from hub.context import HubContext, load_policy, load_registry
from hub.kafka.connection import KafkaConnection
from hub.kafka.topics import TopicNames
from hub.settings import DEFAULTS, Settings
from hub.stages.pseudonyms import Pseudonymiser
from hub.stages.records import OutRecord
from observability.metrics import HubMetrics
from routing.policy import Policy
from schemas.partners import PartnerRegistry

GOLDEN_REFERRAL = Path(__file__).resolve().parents[1] / "schemas/examples/huisarts-verwijzing.json"
GOLDEN_BSN = "999990019"
GOLDEN_BIRTH_DATE = "2014-03-02"
GP = "huisarts-wijert"
PROVIDER = "aanbieder-noorderlicht"


def default_registry() -> PartnerRegistry:
    return PartnerRegistry.from_toml(DEFAULTS / "partners.toml")


def default_policy() -> Policy:
    return Policy.from_toml(DEFAULTS / "policy.toml")


def decode_context(
    registry: PartnerRegistry, sender_id: str = GP, hub_message_id: str | None = None
) -> DecodeContext:
    sender = registry.get(sender_id)
    assert sender is not None, sender_id
    return DecodeContext(
        sender=sender,
        registry=registry,
        hub_message_id=hub_message_id or str(uuid.uuid4()),
        received_at=datetime.now(UTC),
    )


@pytest.fixture(scope="session")
def registry() -> PartnerRegistry:
    return default_registry()


@pytest.fixture(scope="session")
def policy() -> Policy:
    return default_policy()


@pytest.fixture(scope="session")
def adapters() -> AdapterRegistry:
    return load_adapters()


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Default settings, whatever ``KETENHUB_*`` variables the shell running the tests has."""
    for name in list(os.environ):
        if name.startswith("KETENHUB_"):
            monkeypatch.delenv(name)
    return Settings(bootstrap="unused:9092")


@pytest.fixture
def hub_context(settings: Settings, adapters: AdapterRegistry) -> HubContext:
    return HubContext(
        settings=settings,
        kafka=KafkaConnection("unused:9092"),
        names=TopicNames("t"),
        registry=load_registry(settings),
        policy=load_policy(settings),
        adapters=adapters,
        pseudonyms=Pseudonymiser(b"test-key"),
    )


@pytest.fixture
def metrics() -> HubMetrics:
    return HubMetrics()


@pytest.fixture
def golden_payload() -> bytes:
    return GOLDEN_REFERRAL.read_bytes()


def without_memberships(records: list[OutRecord]) -> list[OutRecord]:
    """Ingest's output minus household-table records, for tests about the message itself."""
    return [r for r in records if not r.topic.endswith(".households")]
