"""The startup check names what a broker lacks, for every broker, and passes a modern one."""

from __future__ import annotations

import pytest

from hub import group_fencing
from hub.broker_features import NEEDS, BrokerTooOld, check_brokers, missing

KAFKA_4_1 = {28: (0, 5), 9: (0, 10)}
KAFKA_2_4 = {28: (0, 2), 9: (0, 6)}


def test_the_needs_are_the_requests_the_hub_builds() -> None:
    assert [(n.api_key, n.version) for n in NEEDS] == [
        (r.API_KEY, r.API_VERSION) for r in group_fencing.REQUESTS
    ]
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
