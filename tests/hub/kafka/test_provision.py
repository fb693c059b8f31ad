"""The ACL plan from the registry, judged with Kafka's own matching rules, without a broker."""

from __future__ import annotations

import itertools

import pytest

from hub.context import resolve_kafka
from hub.kafka.auth import AclBinding, Operation, PatternType, Permission, ResourceType, user
from hub.kafka.provision import is_partner_resource, plan, reader_group
from hub.kafka.topics import TopicNames, topic_specs
from hub.settings import DEFAULT_HUB_USER, DEFAULTS, Settings
from schemas.partners import PartnerRegistry

NAMES = TopicNames("ketenhub")
REGISTRY = PartnerRegistry.from_toml(DEFAULTS / "partners.toml")
PLAN = plan(NAMES, REGISTRY, DEFAULT_HUB_USER)
TOPICS = [
    s.name for s in topic_specs(NAMES, REGISTRY, Settings(bootstrap="unused:9092", partitions=1))
]
PARTNERS = [p.id for p in REGISTRY.partners]
# The consumer groups and transactional ids the hub uses (hub/app.py, hub/cli/dlq.py).
HUB_GROUPS = ["ketenhub-ingest", "ketenhub-route"]
HUB_TRANSACTIONAL_IDS = ["ketenhub-ingest-host-1", "ketenhub-route-host-1", "ketenhub-dlq-replay"]
# What Kafka's authorizer lets an operation imply (AclAuthorizer / StandardAuthorizer).
IMPLIES_DESCRIBE = {Operation.READ, Operation.WRITE, Operation.DELETE, Operation.ALTER}


def allowed(
    bindings: list[AclBinding], principal: str, kind: ResourceType, name: str, op: Operation
) -> bool:
    """Kafka's decision for one request: an ALLOW that matches and no DENY (none exist here)."""

    def matches(b: AclBinding) -> bool:
        if b.principal not in (principal, "User:*") or b.resource_type is not kind:
            return False
        if b.pattern is PatternType.LITERAL and b.resource_name not in (name, "*"):
            return False
        if b.pattern is PatternType.PREFIXED and not name.startswith(b.resource_name):
            return False
        if b.operation in (op, Operation.ALL):
            return True
        return op is Operation.DESCRIBE and b.operation in IMPLIES_DESCRIBE

    assert not any(b.permission is Permission.DENY for b in bindings)
    return any(matches(b) for b in bindings)


@pytest.mark.parametrize("partner", PARTNERS)
def test_a_partner_writes_only_its_outbox_and_reads_only_its_inbox(partner: str) -> None:
    principal = user(partner)
    for topic in TOPICS:
        may_write = allowed(PLAN, principal, ResourceType.TOPIC, topic, Operation.WRITE)
        may_read = allowed(PLAN, principal, ResourceType.TOPIC, topic, Operation.READ)
        may_see = allowed(PLAN, principal, ResourceType.TOPIC, topic, Operation.DESCRIBE)
        assert may_write == (topic == NAMES.partner_out(partner)), topic
        assert may_read == (topic == NAMES.partner_in(partner)), topic
        assert may_see == (topic in (NAMES.partner_out(partner), NAMES.partner_in(partner)))
        for op in (Operation.CREATE, Operation.DELETE, Operation.ALTER, Operation.ALTER_CONFIGS):
            assert not allowed(PLAN, principal, ResourceType.TOPIC, topic, op)


@pytest.mark.parametrize(("a", "b"), list(itertools.permutations(PARTNERS[:6], 2)))
def test_a_partner_cannot_use_another_partners_or_the_hubs_groups_and_ids(a: str, b: str) -> None:
    principal = user(a)
    own = f"ketenhub.partner.{a}.reader"
    assert allowed(PLAN, principal, ResourceType.GROUP, own, Operation.READ)
    assert allowed(PLAN, principal, ResourceType.TRANSACTIONAL_ID, own, Operation.WRITE)
    for name in (f"ketenhub.partner.{b}.reader", *HUB_GROUPS):
        assert not allowed(PLAN, principal, ResourceType.GROUP, name, Operation.READ), name
    for name in (f"ketenhub.partner.{b}.tx", *HUB_TRANSACTIONAL_IDS):
        assert not allowed(PLAN, principal, ResourceType.TRANSACTIONAL_ID, name, Operation.WRITE)
    assert not allowed(PLAN, principal, ResourceType.CLUSTER, "kafka-cluster", Operation.ALTER)


def test_the_hub_reads_writes_and_creates_every_topic() -> None:
    hub = user(DEFAULT_HUB_USER)
    for topic in TOPICS:
        for op in (Operation.READ, Operation.WRITE, Operation.CREATE, Operation.DESCRIBE):
            assert allowed(PLAN, hub, ResourceType.TOPIC, topic, op), (topic, op)
        assert not allowed(PLAN, hub, ResourceType.TOPIC, topic, Operation.DELETE)
    for group in HUB_GROUPS:
        assert allowed(PLAN, hub, ResourceType.GROUP, group, Operation.READ)
    for tid in HUB_TRANSACTIONAL_IDS:
        assert allowed(PLAN, hub, ResourceType.TRANSACTIONAL_ID, tid, Operation.WRITE)
    assert allowed(PLAN, hub, ResourceType.CLUSTER, "kafka-cluster", Operation.IDEMPOTENT_WRITE)
    assert not allowed(PLAN, hub, ResourceType.CLUSTER, "kafka-cluster", Operation.ALTER)


def test_no_wildcards_no_all_and_no_other_prefix() -> None:
    for binding in PLAN:
        assert binding.operation is not Operation.ALL, binding
        assert binding.resource_name != "*" and binding.principal != "User:*", binding
        assert binding.host == "*" and binding.permission is Permission.ALLOW
        assert binding.resource_name.startswith(("ketenhub.", "ketenhub-", "kafka-cluster"))


def test_partner_ids_that_prefix_each_other_stay_apart() -> None:
    registry = PartnerRegistry.model_validate(
        {"partners": [
            {"id": "huisarts-a", "kind": "huisarts", "name": "A", "agb": "01000001"},
            {"id": "huisarts-ab", "kind": "huisarts", "name": "AB", "agb": "01000002"},
        ]}
    )  # fmt: skip
    bindings = plan(NAMES, registry, DEFAULT_HUB_USER)
    a = user("huisarts-a")
    for kind, name in [
        (ResourceType.TOPIC, NAMES.partner_out("huisarts-ab")),
        (ResourceType.GROUP, "ketenhub.partner.huisarts-ab.g"),
        (ResourceType.TRANSACTIONAL_ID, "ketenhub.partner.huisarts-ab.t"),
    ]:
        for op in (Operation.READ, Operation.WRITE):
            assert not allowed(bindings, a, kind, name, op), (kind, name, op)


def test_the_hub_user_must_not_be_a_partner() -> None:
    with pytest.raises(ValueError, match="also a partner id"):
        plan(NAMES, REGISTRY, "huisarts-wijert")


def test_plan_is_sorted_without_duplicates_and_stale_detection_sees_partner_resources() -> None:
    assert sorted(set(PLAN)) == PLAN
    assert all(is_partner_resource(NAMES, b) == (".partner." in b.resource_name) for b in PLAN)
    hub_binding = next(b for b in PLAN if b.principal == user(DEFAULT_HUB_USER))
    assert not is_partner_resource(NAMES, hub_binding)


@pytest.mark.parametrize("partner", [None, *PARTNERS])
def test_a_group_less_reader_may_look_up_its_groups_coordinator(partner: str | None) -> None:
    """librdkafka's reader looks its ``group.id`` up (FindCoordinator: DESCRIBE on the group)
    though it never joins: the group lies where the plan already grants that, for the hub
    and for each partner, and in no other principal's namespace."""
    group = reader_group(NAMES, partner)
    principal = user(partner or DEFAULT_HUB_USER)
    assert allowed(PLAN, principal, ResourceType.GROUP, group, Operation.DESCRIBE)
    others = [p for p in [DEFAULT_HUB_USER, *PARTNERS] if p != (partner or DEFAULT_HUB_USER)]
    assert not any(allowed(PLAN, user(o), ResourceType.GROUP, group, Operation.DESCRIBE)
                   for o in others)  # fmt: skip


def test_the_hubs_connection_reads_with_the_hubs_reader_group() -> None:
    settings = Settings(bootstrap="kafka-1:9092", topic_prefix="kh")
    assert resolve_kafka(settings).reader_group == "kh-reader"
    assert resolve_kafka(settings, user="school-montessori").reader_group == (
        "kh.partner.school-montessori.reader"
    )
