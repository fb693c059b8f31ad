"""Kafka users and ACLs from the partner registry: who may touch which topic.

The rules, for topic prefix ``P`` (``KETENHUB_TOPIC_PREFIX``):

- partner ``X`` (Kafka user ``X``, its registry id) may WRITE and DESCRIBE ``P.partner.X.out``,
  READ and DESCRIBE ``P.partner.X.in``, use consumer groups and transactional ids starting
  with ``P.partner.X.``, and nothing else: not another partner's topics, not the hub's;
- the hub's user reads, writes and creates every topic starting with ``P.`` (internal topics
  and all partner topics), uses consumer groups and transactional ids starting with ``P-``
  (``P-ingest``, ``P-route``, ``P-ingest-<instance>``, ``P-dlq-replay``) and may write
  idempotently;
- the broker's own user and the admin are super users (``super.users``, set on the broker);
  everything else is denied (``allow.everyone.if.no.acl.found=false``).

``plan`` is pure, so the rules are reviewable and unit-tested; ``provision`` applies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import SecretStr

from hub.kafka.auth import (
    CLUSTER_RESOURCE,
    AclBinding,
    Operation,
    PatternType,
    ResourceType,
    create_acls,
    delete_acls,
    describe_acls,
    describe_scram_users,
    upsert_scram_users,
    user,
)
from hub.kafka.connection import KafkaConnection
from hub.kafka.topics import TopicNames
from schemas.partners import PartnerRegistry


def partner_namespace(names: TopicNames, partner_id: str) -> str:
    """Prefix of the consumer groups and transactional ids a partner may use."""
    return f"{names.prefix}.partner.{partner_id}."


def reader_group(names: TopicNames, partner_id: str | None) -> str:
    """The group id of a group-less reader (``hub.kafka.reader``): librdkafka looks its
    coordinator up, so it lies where the ACLs below grant DESCRIBE (READ implies it), the
    hub's namespace or, for ``partner_id``, the partner's. No new ACL, nothing joined."""
    return f"{names.prefix}-reader" if partner_id is None else (
        f"{partner_namespace(names, partner_id)}reader"
    )  # fmt: skip


def partner_acls(names: TopicNames, partner_id: str) -> list[AclBinding]:
    principal = user(partner_id)
    own = partner_namespace(names, partner_id)

    def topic(name: str, op: Operation) -> AclBinding:
        return AclBinding(principal, ResourceType.TOPIC, name, PatternType.LITERAL, op)

    def prefixed(kind: ResourceType, op: Operation) -> AclBinding:
        return AclBinding(principal, kind, own, PatternType.PREFIXED, op)

    outbox, inbox = names.partner_out(partner_id), names.partner_in(partner_id)
    return [
        topic(outbox, Operation.WRITE),
        topic(outbox, Operation.DESCRIBE),
        topic(inbox, Operation.READ),
        topic(inbox, Operation.DESCRIBE),
        prefixed(ResourceType.GROUP, Operation.READ),
        prefixed(ResourceType.TRANSACTIONAL_ID, Operation.WRITE),
        prefixed(ResourceType.TRANSACTIONAL_ID, Operation.DESCRIBE),
    ]


def hub_acls(names: TopicNames, hub_user: str) -> list[AclBinding]:
    principal = user(hub_user)
    topics, ids = f"{names.prefix}.", f"{names.prefix}-"
    bindings = [
        AclBinding(principal, ResourceType.TOPIC, topics, PatternType.PREFIXED, op)
        for op in (
            Operation.READ,
            Operation.WRITE,
            Operation.DESCRIBE,
            Operation.CREATE,
            Operation.DESCRIBE_CONFIGS,
        )
    ]
    bindings += [
        AclBinding(principal, ResourceType.GROUP, ids, PatternType.PREFIXED, Operation.READ),
        AclBinding(principal, ResourceType.GROUP, ids, PatternType.PREFIXED, Operation.DESCRIBE),
        AclBinding(
            principal, ResourceType.TRANSACTIONAL_ID, ids, PatternType.PREFIXED, Operation.WRITE
        ),
        AclBinding(
            principal, ResourceType.TRANSACTIONAL_ID, ids, PatternType.PREFIXED, Operation.DESCRIBE
        ),
        AclBinding(
            principal,
            ResourceType.CLUSTER,
            CLUSTER_RESOURCE,
            PatternType.LITERAL,
            Operation.IDEMPOTENT_WRITE,
        ),
    ]
    return bindings


def plan(names: TopicNames, registry: PartnerRegistry, hub_user: str) -> list[AclBinding]:
    """Every ACL binding the hub and its partners need, and no other."""
    ids = [p.id for p in registry.partners]
    if hub_user in ids:
        raise ValueError(f"the hub's Kafka user {hub_user!r} is also a partner id")
    bindings = hub_acls(names, hub_user)
    for partner_id in ids:
        bindings += partner_acls(names, partner_id)
    return sorted(set(bindings))


def is_partner_resource(names: TopicNames, binding: AclBinding) -> bool:
    """Bindings on partner topics, groups or transactional ids: what ``plan`` owns alone."""
    return binding.resource_name.startswith(f"{names.prefix}.partner.")


@dataclass
class ProvisionReport:
    users_created: list[str] = field(default_factory=list)
    users_updated: list[str] = field(default_factory=list)
    acls_created: list[AclBinding] = field(default_factory=list)
    acls_present: int = 0
    stale: list[AclBinding] = field(default_factory=list)
    """Bindings on partner resources that the plan does not hold (a partner that left)."""
    pruned: int = 0


async def provision(
    admin: KafkaConnection,
    names: TopicNames,
    wanted: list[AclBinding],
    passwords: Mapping[str, SecretStr],
    *,
    prune: bool = False,
    dry_run: bool = False,
) -> ProvisionReport:
    """Create or update the SCRAM users in ``passwords`` and the ACL bindings in ``wanted``.

    Idempotent: bindings that exist are left alone; a user's credential is set from its
    password every time (a new salt, the same password). With ``prune`` stale bindings on
    partner resources are deleted; with ``dry_run`` nothing changes on the cluster.
    """
    report = ProvisionReport()
    client = admin.rdkafka_admin()
    existing_users = await describe_scram_users(client, passwords)
    for name in sorted(passwords):
        (report.users_updated if name in existing_users else report.users_created).append(name)
    existing = await describe_acls(client)
    report.acls_created = [b for b in wanted if b not in existing]
    report.acls_present = len(wanted) - len(report.acls_created)
    target = set(wanted)
    report.stale = sorted(b for b in existing if is_partner_resource(names, b) and b not in target)
    if dry_run:
        return report
    await upsert_scram_users(client, passwords)
    await create_acls(client, report.acls_created)
    if prune:
        report.pruned = await delete_acls(client, report.stale)
    return report
