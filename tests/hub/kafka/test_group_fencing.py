"""Membership snapshots and OffsetFetch error handling (the wire itself: tests/e2e)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import errors as kafka_errors

from hub.kafka.group_fencing import (
    UNSTABLE_OFFSET_COMMIT,
    Membership,
    UnstableOffsets,
    membership_of,
    raise_for_fetch_error,
)


def _consumer(**coordinator: Any) -> Any:
    return SimpleNamespace(_coordinator=SimpleNamespace(**coordinator) if coordinator else None)


def test_a_member_is_its_generation_member_id_and_instance_id() -> None:
    consumer = _consumer(generation=4, member_id="m-1", _group_instance_id="hub-a")
    assert membership_of(consumer) == Membership(4, "m-1", "hub-a")


@pytest.mark.parametrize(
    "coordinator",
    [
        {},  # not started: no coordinator yet
        {"generation": -1, "member_id": ""},  # thrown out: aiokafka forgot both
        {"generation": 3, "member_id": ""},
        {"generation": -1, "member_id": "m-1"},
    ],
)
def test_a_consumer_without_generation_or_member_id_is_no_member(
    coordinator: dict[str, Any],
) -> None:
    assert membership_of(_consumer(**coordinator)) is None


class _Coordinator:
    group_id = "g"

    def __init__(self) -> None:
        self.dead = 0

    def coordinator_dead(self) -> None:
        self.dead += 1


def test_an_unstable_offset_is_asked_for_again() -> None:
    with pytest.raises(UnstableOffsets) as raised:
        raise_for_fetch_error(_Coordinator(), UNSTABLE_OFFSET_COMMIT)
    assert raised.value.retriable


def test_a_moved_coordinator_is_looked_up_again_and_the_read_retried() -> None:
    coordinator = _Coordinator()
    with pytest.raises(kafka_errors.NotCoordinatorForGroupError) as raised:
        raise_for_fetch_error(coordinator, kafka_errors.NotCoordinatorForGroupError.errno)
    assert raised.value.retriable and coordinator.dead == 1


def test_a_refused_group_and_unknown_errors_are_not_retried() -> None:
    with pytest.raises(kafka_errors.GroupAuthorizationFailedError):
        raise_for_fetch_error(_Coordinator(), kafka_errors.GroupAuthorizationFailedError.errno)
    with pytest.raises(kafka_errors.KafkaError, match="InvalidRequestError") as raised:
        raise_for_fetch_error(_Coordinator(), kafka_errors.InvalidRequestError.errno)
    assert not raised.value.retriable
