"""Exactly-once across rebalances with one producer per instance (KIP-447), for aiokafka 0.14.

Each hub instance has one transactional producer, not one per input partition, so a new
owner of a partition does not fence the transactions of its old owner. aiokafka 0.14 speaks
TxnOffsetCommit v0 and OffsetFetch v3, which leaves two ways to deliver a batch twice when an
instance stalls past its session timeout (a *zombie*) while its partitions go to another:

1. the zombie's transaction, once it wakes, still commits its outputs and its offsets;
2. the new owner reads the committed offsets while a transaction of the old owner that moves
   them is still open, redoes that batch, and the old transaction commits as well.

Kafka 2.5+ closes both. TxnOffsetCommit v3 carries the group generation the batch was read
under, and the group coordinator refuses a stale one, which fails the transaction. OffsetFetch
v7 with ``require_stable`` makes the read wait (UNSTABLE_OFFSET_COMMIT) until no open
transaction holds offsets of the partition. This module adds both requests and installs them
on a producer and a consumer; aiokafka keeps doing the rest (coordinators, retries, state).
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka import errors as kafka_errors
from aiokafka.client import CoordinationType
from aiokafka.producer.sender import TxnOffsetCommitHandler
from aiokafka.protocol.api import RequestStruct, Response
from aiokafka.protocol.types import (
    Boolean,
    CompactArray,
    CompactString,
    Int16,
    Int32,
    Int64,
    Schema,
    TaggedFields,
)
from aiokafka.structs import OffsetAndMetadata

from hub.kafka.wire import PreparedRequest

ILLEGAL_GENERATION = 22
UNKNOWN_MEMBER_ID = 25
FENCED_INSTANCE_ID = 82
UNSTABLE_OFFSET_COMMIT = 88
FENCING_ERRORS = frozenset({ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID})
NO_OFFSET = -1
KIP_447_KAFKA = "Kafka 2.5+"


@dataclass(frozen=True)
class Membership:
    """Who read a batch: the consumer's group generation and member id at that moment."""

    generation: int
    member_id: str
    group_instance_id: str | None = None


class OffsetsFenced(kafka_errors.KafkaError):  # type: ignore[misc]
    """The group no longer has the member that read this batch under this generation (it
    stalled past its session timeout, and its partitions may be another instance's now): the
    transaction is aborted, and the batch is left to whoever owns the partitions."""

    retriable = True


class UnstableOffsets(kafka_errors.KafkaError):  # type: ignore[misc]
    """An open transaction still holds offsets of a partition being read: ask again soon."""

    retriable = True


def membership_of(consumer: AIOKafkaConsumer) -> Membership | None:
    """The consumer's current group membership; None when it has none (never joined, or the
    group threw it out and it has not joined again)."""
    coordinator = getattr(consumer, "_coordinator", None)
    generation = getattr(coordinator, "generation", -1)
    member_id = getattr(coordinator, "member_id", "")
    if not isinstance(generation, int) or generation < 0 or not member_id:
        return None
    return Membership(generation, member_id, getattr(coordinator, "_group_instance_id", None))


# TxnOffsetCommit v3 (the first flexible version; generation, member and instance id added)


class _TxnOffsetCommitResponseV3(Response):  # type: ignore[misc]
    API_KEY = 28
    API_VERSION = 3
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                (
                    "partitions",
                    CompactArray(
                        ("partition", Int32), ("error_code", Int16), ("tags", TaggedFields)
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _TxnOffsetCommitRequestV3(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 28
    API_VERSION = 3
    RESPONSE_TYPE = _TxnOffsetCommitResponseV3
    SCHEMA = Schema(
        ("transactional_id", CompactString("utf-8")),
        ("group_id", CompactString("utf-8")),
        ("producer_id", Int64),
        ("producer_epoch", Int16),
        ("generation_id", Int32),
        ("member_id", CompactString("utf-8")),
        ("group_instance_id", CompactString("utf-8")),
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                (
                    "partitions",
                    CompactArray(
                        ("partition", Int32),
                        ("committed_offset", Int64),
                        ("committed_leader_epoch", Int32),
                        ("committed_metadata", CompactString("utf-8")),
                        ("tags", TaggedFields),
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _FencedTxnOffsetCommitHandler(TxnOffsetCommitHandler):  # type: ignore[misc]
    """aiokafka's handler with the v3 request; a fencing answer fails the transaction (an
    abortable error, as aiokafka treats a refused group), every other answer is aiokafka's."""

    def __init__(
        self, sender: Any, offsets: Any, group_id: str, membership: Membership | None
    ) -> None:
        super().__init__(sender, offsets, group_id)
        self._membership = membership

    def create_request(self) -> PreparedRequest:
        manager = self._sender._txn_manager
        by_topic: dict[str, list[tuple[int, int, int, str, dict[int, bytes]]]] = (
            collections.defaultdict(list)
        )
        for tp, offset in sorted(self._offsets.items()):
            by_topic[tp.topic].append((tp.partition, offset.offset, -1, offset.metadata, {}))
        member = self._membership
        return PreparedRequest(
            _TxnOffsetCommitRequestV3(
                manager.transactional_id,
                self._group_id,
                manager.producer_id,
                manager.producer_epoch,
                member.generation if member else -1,
                member.member_id if member else "",
                member.group_instance_id if member else None,
                [(topic, partitions, {}) for topic, partitions in by_topic.items()],
                {},
            ),
            needs=KIP_447_KAFKA,
        )

    def handle_response(self, resp: Any) -> float | None:
        errors = [
            (topic, [(partition, code) for partition, code, _ in partitions])
            for topic, partitions, _ in resp.topics
        ]
        fenced = {code for _, partitions in errors for _, code in partitions} & FENCING_ERRORS
        if fenced:
            reason = kafka_errors.for_code(min(fenced)).__name__
            manager = self._sender._txn_manager
            waiter = manager._transaction_waiter
            manager.error_transaction(
                OffsetsFenced(f"group {self._group_id} refused the batch's offsets: {reason}")
            )
            waiter.exception()  # read here: the abort replaces it, the stage hears via the offsets
            return None
        result: float | None = super().handle_response(SimpleNamespace(errors=errors))
        return result


def fence_offset_commits(
    producer: AIOKafkaProducer, membership: Callable[[], Membership | None]
) -> AIOKafkaProducer:
    """Make ``producer`` send its transactional offset commits with the group membership that
    ``membership`` gives at the time (the membership the batch was read under)."""
    sender = producer._sender

    async def txn_offset_commit(offsets: Any, group_id: str) -> None:
        if not offsets:
            return
        try:
            node_id = await sender._find_coordinator(CoordinationType.GROUP, group_id)
        except kafka_errors.GroupAuthorizationFailedError as exc:
            sender._txn_manager.error_transaction(exc)
            return
        await _FencedTxnOffsetCommitHandler(sender, offsets, group_id, membership()).do(node_id)

    sender._do_txn_offset_commit = txn_offset_commit
    return producer


# OffsetFetch v7 (require_stable)


class _OffsetFetchResponseV7(Response):  # type: ignore[misc]
    API_KEY = 9
    API_VERSION = 7
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                (
                    "partitions",
                    CompactArray(
                        ("partition", Int32),
                        ("committed_offset", Int64),
                        ("committed_leader_epoch", Int32),
                        ("metadata", CompactString("utf-8")),
                        ("error_code", Int16),
                        ("tags", TaggedFields),
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("error_code", Int16),
        ("tags", TaggedFields),
    )


class _OffsetFetchRequestV7(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 9
    API_VERSION = 7
    RESPONSE_TYPE = _OffsetFetchResponseV7
    SCHEMA = Schema(
        ("group_id", CompactString("utf-8")),
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("partitions", CompactArray(Int32)),
                ("tags", TaggedFields),
            ),
        ),
        ("require_stable", Boolean),
        ("tags", TaggedFields),
    )


def raise_for_fetch_error(coordinator: Any, error_code: int) -> None:
    """aiokafka's handling of OffsetFetch errors, plus UNSTABLE_OFFSET_COMMIT (retried)."""
    if error_code == UNSTABLE_OFFSET_COMMIT:
        raise UnstableOffsets("an open transaction holds offsets of this group")
    error_type = kafka_errors.for_code(error_code)
    if error_type is kafka_errors.NotCoordinatorForGroupError:
        coordinator.coordinator_dead()
    if error_type is kafka_errors.GroupAuthorizationFailedError:
        raise error_type(coordinator.group_id)
    if error_type.retriable:
        raise error_type()
    raise kafka_errors.KafkaError(f"offset fetch failed: {error_type.__name__}")


def read_stable_offsets(consumer: AIOKafkaConsumer) -> AIOKafkaConsumer:
    """Make a started group consumer wait for open transactions before it trusts a committed
    offset (before it joins its group, so before it first reads one)."""
    coordinator = consumer._coordinator

    async def fetch_committed(partitions: list[TopicPartition]) -> dict[Any, Any]:
        by_topic: dict[str, list[int]] = collections.defaultdict(list)
        for tp in partitions:
            by_topic[tp.topic].append(tp.partition)
        request = _OffsetFetchRequestV7(
            coordinator.group_id, [(t, ps, {}) for t, ps in by_topic.items()], True, {}
        )
        response = await coordinator._send_req(PreparedRequest(request, needs=KIP_447_KAFKA))
        if response.error_code:
            raise_for_fetch_error(coordinator, response.error_code)
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for topic, topic_partitions, _ in response.topics:
            for partition, offset, _epoch, metadata, error_code, _ in topic_partitions:
                if error_code == kafka_errors.UnknownTopicOrPartitionError.errno:
                    continue
                if error_code:
                    raise_for_fetch_error(coordinator, error_code)
                if offset != NO_OFFSET:
                    offsets[TopicPartition(topic, partition)] = OffsetAndMetadata(
                        offset, metadata or ""
                    )
        return offsets

    coordinator._do_fetch_commit_offsets = fetch_committed
    return consumer


REQUESTS: tuple[type[RequestStruct], ...] = (_TxnOffsetCommitRequestV3, _OffsetFetchRequestV7)
"""The requests this module sends, for a startup check that the brokers speak them."""
