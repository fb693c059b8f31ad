"""The startup check names what a broker lacks, for every broker, and passes a modern one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from hub.kafka import broker_features
from hub.kafka.broker_features import (
    NEEDS,
    BrokerTooOld,
    broker_versions,
    check_brokers,
    missing,
    require_broker_features,
)
from hub.kafka.connection import KafkaConnection

KAFKA_4_1 = {28: (0, 5), 9: (0, 10)}
KAFKA_2_4 = {28: (0, 2), 9: (0, 6)}


def test_the_needs_are_the_kip_447_requests() -> None:
    assert [(n.api_key, n.version) for n in NEEDS] == [(28, 3), (9, 7)]
    assert [n.name for n in NEEDS] == ["TxnOffsetCommitRequestV3", "OffsetFetchRequestV7"]


def test_a_modern_broker_lacks_nothing() -> None:
    assert missing(KAFKA_4_1) == []
    check_brokers({"kafka-1:9092": KAFKA_4_1, "kafka-2:9092": KAFKA_4_1})


def test_an_old_broker_lacks_both() -> None:
    assert missing(KAFKA_2_4) == list(NEEDS)
    assert missing({}) == list(NEEDS), "an API not listed at all is not spoken"
    assert missing({28: (4, 5), 9: (0, 10)}) == [NEEDS[0]], "v3 no longer spoken"


def test_one_old_broker_among_new_ones_is_named() -> None:
    with pytest.raises(BrokerTooOld) as caught:
        check_brokers({"kafka-1:9092": KAFKA_4_1, "kafka-2:9092": {28: (0, 2), 9: (0, 10)}})
    text = str(caught.value)
    assert "broker kafka-2:9092 lacks TxnOffsetCommitRequestV3 (API 28 v3" in text
    assert "kafka-1" not in text and "OffsetFetch" not in text
    assert "Kafka 2.5+" in text


class _Cluster:
    """Brokers as metadata lists them; ``answers`` says what each one's connection gives."""

    def __init__(self, answers: dict[int, dict[int, tuple[int, int]] | str | None]) -> None:
        self.answers = answers
        brokers = [SimpleNamespace(nodeId=n, host=f"kafka-{n}", port=9092) for n in answers]
        self.cluster = SimpleNamespace(brokers=lambda: brokers)

    async def _get_conn(self, node_id: int) -> Any:
        answer = self.answers[node_id]
        if answer == "hang":
            await asyncio.sleep(3600)
        return None if answer is None else SimpleNamespace(_versions=answer)


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(answers: dict[int, Any]) -> None:
        @asynccontextmanager
        async def client(kafka: KafkaConnection) -> AsyncIterator[Any]:
            yield _Cluster(answers)

        monkeypatch.setattr(broker_features, "metadata_client", client)

    monkeypatch.setattr(broker_features, "CONNECT_TIMEOUT_S", 0.2)
    return install


KAFKA = KafkaConnection("kafka-1:9092")


async def test_every_broker_is_asked_and_the_unreached_are_named(cluster: Any) -> None:
    cluster({1: KAFKA_4_1, 2: None, 3: "hang"})
    survey = await broker_versions(KAFKA)
    assert survey.versions == {"kafka-1:9092": KAFKA_4_1}
    assert survey.unreached == ["kafka-2:9092", "kafka-3:9092"], "refused, and timed out"


async def test_some_brokers_unreached_is_a_warning_not_a_stop(
    cluster: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster({1: KAFKA_4_1, 2: None})
    assert await require_broker_features(KAFKA) == 1
    assert "brokers-unchecked" in capsys.readouterr().out


async def test_no_broker_reached_is_a_connection_error_to_wait_on(cluster: Any) -> None:
    cluster({1: None, 2: "hang"})
    with pytest.raises(KafkaConnectionError, match="no broker answered of 2"):
        await require_broker_features(KAFKA)


async def test_an_old_broker_among_the_reached_stops_the_hub(cluster: Any) -> None:
    cluster({1: KAFKA_4_1, 2: KAFKA_2_4, 3: None})
    with pytest.raises(BrokerTooOld, match="broker kafka-2:9092 lacks"):
        await require_broker_features(KAFKA)
