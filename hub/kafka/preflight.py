"""Is this hub ready to run? The checks ``ketenhub run`` makes at start, and ``ketenhub check``.

``run`` needs the cluster to accept its login and to speak the requests it builds; it stops
on either (``start_checks``). ``check`` asks more, for an operator before a deployment or
after a change, and reports every answer instead of stopping at the first: the
configuration, Kafka, the login, the brokers, and the topics with their partition counts
(``topics create`` makes what is missing but never changes a topic that exists).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aiokafka.errors import KafkaError
from pydantic import ValidationError

from hub.context import ConfigError, load_context
from hub.kafka.backoff import KAFKA_ERRORS
from hub.kafka.broker_features import (
    BrokerTooOld,
    broker_versions,
    check_brokers,
    require_broker_features,
)
from hub.kafka.connection import KafkaConnection
from hub.kafka.local import LocalKafkaError
from hub.kafka.login import LoginRefused, check_login
from hub.kafka.topics import TopicSpec, partition_counts, topic_specs
from hub.settings import Settings, settings_problems


async def start_checks(kafka: KafkaConnection) -> int:
    """Before ``run`` reads anything: the login is accepted (else LoginRefused) and every
    reachable broker speaks the hub's requests (else BrokerTooOld). How many were checked."""
    await check_login(kafka)
    return await require_broker_features(kafka)


@dataclass(frozen=True)
class Finding:
    """One answer of ``ketenhub check``: what was checked, whether it is fine, and why."""

    check: str
    ok: bool
    detail: str


def topic_findings(specs: Sequence[TopicSpec], found: Mapping[str, int]) -> list[Finding]:
    """The design's topics against the cluster's (name -> partitions): one finding for what
    is missing, one per partition count that differs, or one that all is well."""
    missing = [spec.name for spec in specs if spec.name not in found]
    differ = [spec for spec in specs if spec.name in found and found[spec.name] != spec.partitions]
    findings = []
    if missing:
        findings.append(Finding(
            "topics", False,
            f"{len(missing)} of {len(specs)} missing ({', '.join(missing[:3])}"
            f"{', ...' if len(missing) > 3 else ''}): run `ketenhub topics create`",
        ))  # fmt: skip
    for spec in differ:
        findings.append(Finding(
            "topics", False,
            f"{spec.name} has {found[spec.name]} partitions, the settings say {spec.partitions} "
            "(KETENHUB_PARTITIONS / KETENHUB_PARTNER_PARTITIONS); `topics create` does not "
            "change a topic that exists",
        ))  # fmt: skip
    if not findings:
        findings.append(Finding("topics", True, f"all {len(specs)} there, partitions as set"))
    return findings


async def check_setup(settings: Callable[[], Settings] = Settings) -> list[Finding]:
    """Every check, in order; a check that others depend on ends the list when it fails.

    Nothing the operator can fix escapes as an exception: it is a failed finding.
    """
    try:
        ctx = load_context(settings())
        ctx.kafka.client_kwargs()  # builds the TLS context: a bad CA bundle shows here
    except LocalKafkaError as exc:
        return [Finding("kafka", False, str(exc))]
    except (ConfigError, ValueError, OSError) as exc:  # settings, secrets, files, TLS
        return [Finding("configuration", False, _one_line(exc))]
    kafka = ctx.kafka
    findings = [Finding(
        "configuration", True,
        f"{len(ctx.registry.partners)} partners, {len(ctx.policy.flows)} flows, "
        f"topic prefix {ctx.names.prefix!r}",
    )]  # fmt: skip
    try:
        accepted = await check_login(kafka)
    except LoginRefused as exc:
        return [*findings, Finding("login", False, str(exc))]
    if accepted:
        findings.append(Finding("login", True, f"{kafka.username} ({kafka.sasl_mechanism})"))
    try:
        survey = await broker_versions(kafka)
    except KafkaError as exc:
        return [*findings, Finding("kafka", False, f"{kafka.bootstrap}: {type(exc).__name__}")]
    findings.append(Finding("kafka", True, f"{kafka.bootstrap} ({kafka.security_protocol})"))
    try:
        check_brokers(survey.versions)
        findings.append(Finding("brokers", bool(survey.versions), (
            f"{len(survey.versions)} of {len(survey.versions) + len(survey.unreached)} "
            "answered, each with what the hub needs"
            if survey.versions else "none answered"
        )))  # fmt: skip
    except BrokerTooOld as exc:
        findings.append(Finding("brokers", False, str(exc)))
    if survey.unreached:
        findings.append(Finding("brokers", False, f"not reached: {', '.join(survey.unreached)}"))
    try:
        found = await partition_counts(kafka)
    except KAFKA_ERRORS as exc:
        return [*findings, Finding("topics", False, f"cannot list them: {type(exc).__name__}")]
    return findings + topic_findings(topic_specs(ctx.names, ctx.registry, ctx.settings), found)


def _one_line(exc: Exception) -> str:
    return settings_problems(exc) if isinstance(exc, ValidationError) else str(exc)
