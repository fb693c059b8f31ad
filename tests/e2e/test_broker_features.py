"""The startup check against the real broker: it asks, and Kafka 4 speaks what the hub needs."""

from __future__ import annotations

import pytest

from hub.kafka.broker_features import broker_versions, missing, require_broker_features
from hub.kafka.connection import KafkaConnection

pytestmark = pytest.mark.kafka


async def test_the_real_broker_speaks_the_hubs_requests(bootstrap: str) -> None:
    kafka = KafkaConnection(bootstrap)
    survey = await broker_versions(kafka)
    assert list(survey.versions) == [bootstrap], "the one local broker, by its advertised address"
    assert survey.unreached == []
    versions = survey.versions[bootstrap]
    assert versions[28][1] >= 3 and versions[9][1] >= 7
    assert missing(versions) == []
    assert await require_broker_features(kafka) == 1
