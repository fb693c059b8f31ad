"""Topic names and specs of the design, and their idempotent creation."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from hub.kafka.connection import KafkaConnection
from hub.settings import Settings
from schemas.partners import PartnerRegistry

FOREVER = "-1"


@dataclass(frozen=True)
class TopicNames:
    """The design's topic names under one prefix; each fixed name is made once (the stages
    read them for every record they write)."""

    prefix: str = "ketenhub"

    @cached_property
    def canonical(self) -> str:
        return f"{self.prefix}.canonical"

    @cached_property
    def state(self) -> str:
        return f"{self.prefix}.state"

    @cached_property
    def households(self) -> str:
        return f"{self.prefix}.households"

    @cached_property
    def audit(self) -> str:
        return f"{self.prefix}.audit"

    @cached_property
    def dlq(self) -> str:
        return f"{self.prefix}.dlq"

    @cached_property
    def dlq_replays(self) -> str:
        """Compacted: which DLQ records ``ketenhub dlq replay`` re-published, keyed by ref."""
        return f"{self.prefix}.dlq-replays"

    def partner_out(self, partner_id: str) -> str:
        return f"{self.prefix}.partner.{partner_id}.out"

    def partner_in(self, partner_id: str) -> str:
        return f"{self.prefix}.partner.{partner_id}.in"

    @cached_property
    def partner_out_pattern(self) -> str:
        return rf"^{re.escape(self.prefix)}\.partner\.[a-z0-9-]+\.out$"

    def partner_of_out_topic(self, topic: str) -> str | None:
        match = re.fullmatch(rf"{re.escape(self.prefix)}\.partner\.([a-z0-9-]+)\.out", topic)
        return match.group(1) if match else None


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def topic_specs(
    names: TopicNames, registry: PartnerRegistry, settings: Settings
) -> list[TopicSpec]:
    """All topics of the design.

    Partner outboxes accept a little more than the hub's own payload limit, so an oversized
    message still reaches ingest and earns a nack instead of vanishing in a producer error;
    the DLQ holds those original bytes plus headers.
    """
    partitions, max_payload_bytes = settings.partitions, settings.max_payload_bytes
    per_partner = settings.partner_partitions
    outbox = {"max.message.bytes": str(max_payload_bytes * 2)}
    specs = [
        TopicSpec(names.canonical, partitions),
        TopicSpec(names.state, partitions, {"cleanup.policy": "compact"}),
        TopicSpec(names.households, partitions, {"cleanup.policy": "compact"}),
        TopicSpec(names.audit, partitions, {"retention.ms": FOREVER}),
        TopicSpec(
            names.dlq,
            partitions,
            {"retention.ms": FOREVER, "max.message.bytes": str(max_payload_bytes * 3)},
        ),
        TopicSpec(names.dlq_replays, partitions, {"cleanup.policy": "compact"}),
    ]
    for partner in registry.partners:
        specs.append(TopicSpec(names.partner_out(partner.id), per_partner, outbox))
        specs.append(TopicSpec(names.partner_in(partner.id), per_partner))
    return specs


ADMIN_TIMEOUT_S = 30.0


async def _results(futures: Iterable[Any]) -> list[Any]:
    """Each admin future's result, or its KafkaException, in order."""
    results = []
    for future in futures:
        try:
            results.append(await asyncio.wait_for(asyncio.wrap_future(future), ADMIN_TIMEOUT_S))
        except KafkaException as exc:
            results.append(exc)
    return results


async def _metadata(admin: AdminClient) -> Any:
    """The cluster's topics the user may see (librdkafka's metadata call blocks: a thread)."""
    return await asyncio.to_thread(admin.list_topics, timeout=ADMIN_TIMEOUT_S)


async def create_topics(
    kafka: KafkaConnection, specs: list[TopicSpec], replication_factor: int
) -> dict[str, bool]:
    """Create what is missing; returns topic name -> True when created now, False if it existed."""
    admin = kafka.rdkafka_admin()
    existing = set((await _metadata(admin)).topics)
    missing = [s for s in specs if s.name not in existing]
    created: dict[str, bool] = {s.name: False for s in specs}
    if not missing:
        return created
    futures = admin.create_topics(
        [NewTopic(s.name, s.partitions, replication_factor, config=s.config) for s in missing],
        request_timeout=ADMIN_TIMEOUT_S,
    )
    for spec, result in zip(missing, await _results(futures[s.name] for s in missing), strict=True):
        if not isinstance(result, KafkaException):
            created[spec.name] = True
        elif result.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise result
    return created


async def list_topics(kafka: KafkaConnection) -> list[str]:
    return sorted((await _metadata(kafka.rdkafka_admin())).topics)


async def partition_counts(kafka: KafkaConnection) -> dict[str, int]:
    """Every topic on the cluster the user may see, and its partition count."""
    topics = (await _metadata(kafka.rdkafka_admin())).topics
    return {name: len(t.partitions) for name, t in topics.items() if t.error is None}


async def delete_topics(kafka: KafkaConnection, topics: list[str]) -> None:
    """Delete those of ``topics`` that exist (a run's own topics, when it is done)."""
    admin = kafka.rdkafka_admin()
    existing = set((await _metadata(admin)).topics)
    doomed = [t for t in topics if t in existing]
    if doomed:
        futures = admin.delete_topics(doomed, request_timeout=ADMIN_TIMEOUT_S)
        for result in await _results(futures[t] for t in doomed):
            if isinstance(result, KafkaException):
                raise result
