"""Authentication and ACLs on a real broker: only the right partner gets in.

A broker of its own (SASL/SCRAM-SHA-512, StandardAuthorizer, no anonymous listener) on free
ports in a temporary directory, provisioned by ``ketenhub partners provision`` from the demo
registry. Every client below logs in as a partner, the hub or nobody, and the broker decides.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import errors as kafka_errors
from aiokafka.conn import create_conn

from hub.kafka.auth import (
    AclBinding,
    Operation,
    PatternType,
    ResourceType,
    create_acls,
    describe_acls,
    user,
)
from hub.kafka.connection import KafkaConnection
from hub.kafka.local import ADMIN_USER, LocalKafka
from hub.kafka.provision import reader_group
from hub.kafka.reader import NotAuthorized, Reader, assign_all, committed_reader, read_to_end
from hub.kafka.topics import TopicNames
from hub.ops.topic_reader import InboxMessage, publish, read_inbox
from hub.secret_store import SecretStore
from hub.settings import DEFAULT_HUB_USER
from hub.stages.records import HEADER_DLQ_PARTNER, HEADER_DLQ_REASON, HEADER_DLQ_SOURCE
from schemas.envelope import header_value
from tests.e2e.conftest import broker_of_our_own
from tests.e2e.test_referral_flow import GOLDEN, stop_hub, wait_for_stages

pytestmark = pytest.mark.kafka

GP = "huisarts-wijert"
OTHER_GP = "huisarts-hoogkerk"
OTHER_GP_AGB = "01000002"
PROVIDER = "aanbieder-noorderlicht"
SCHOOL = "school-montessori"


@dataclass(frozen=True)
class AuthCluster:
    kafka: LocalKafka
    secrets: SecretStore
    prefix: str
    home: Path

    @property
    def bootstrap(self) -> str:
        return self.kafka.bootstrap

    @property
    def names(self) -> TopicNames:
        return TopicNames(self.prefix)

    def login(self, user: str) -> KafkaConnection:
        password = self.secrets.kafka_password(user)
        assert password is not None, f"no password stored for {user}"
        group = reader_group(self.names, None if user == DEFAULT_HUB_USER else user)
        return KafkaConnection(
            self.bootstrap, "SASL_PLAINTEXT", "SCRAM-SHA-512", user, password, reader_group=group
        )

    def env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("KETENHUB_")}
        return (
            base
            | {
                "KETENHUB_BOOTSTRAP": self.bootstrap,
                "KETENHUB_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "KETENHUB_SECRETS_DIR": str(self.secrets.root),
                "KETENHUB_TOPIC_PREFIX": self.prefix,
                "KETENHUB_HOME": str(self.home),
                "KETENHUB_PARTITIONS": "3",
                "KETENHUB_METRICS_PORT": "0",
                "KETENHUB_INSTANCE_ID": f"auth-{self.prefix}",
            }
            | extra
        )

    def cli(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub", *args],
            env=self.env(**env), capture_output=True, text=True, check=check, timeout=120,
        )  # fmt: skip


@pytest.fixture(scope="session")
def auth_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthCluster]:
    run = tmp_path_factory.mktemp("kafka-auth")
    with broker_of_our_own(
        run / "broker", heap="512m", auth=True, secrets_dir=run / "secrets"
    ) as kafka:
        cluster = AuthCluster(kafka, kafka.secrets, "a" + uuid.uuid4().hex[:8], run / "home")
        provisioned = cluster.cli("partners", "provision")
        assert "16 created" in provisioned.stdout, provisioned.stdout + provisioned.stderr
        # Topics are created by the hub's own user: the ACLs allow it that, partners not.
        cluster.cli("topics", "create", KETENHUB_KAFKA_USERNAME=DEFAULT_HUB_USER)
        yield cluster


@pytest.fixture(scope="session")
def auth_hub(auth_cluster: AuthCluster) -> Iterator[Path]:
    """The hub, logged in as its own user with its password from a file."""
    log = auth_cluster.home / "hub.log"
    password_file = auth_cluster.secrets.kafka_password_path(DEFAULT_HUB_USER)
    env = auth_cluster.env(
        KETENHUB_KAFKA_USERNAME=DEFAULT_HUB_USER, KETENHUB_KAFKA_PASSWORD_FILE=str(password_file)
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        hub = subprocess.Popen(
            [sys.executable, "-m", "hub", "run"], env=env, stdout=handle, stderr=subprocess.STDOUT
        )
    try:
        wait_for_stages(hub, log)
        yield log
    finally:
        if hub.poll() is None:
            stop_hub(hub)


def referral(message_id: str, referrer_agb: str | None = None) -> bytes:
    body = json.loads(GOLDEN.read_text())
    body["message_id"] = message_id
    if referrer_agb is not None:
        body["referrer"]["agb"] = referrer_agb
    return json.dumps(body).encode()


def kinds(messages: list[InboxMessage]) -> list[str]:
    return [m.kind for m in messages]


# Authentication: nobody gets in without a valid SCRAM login.


async def test_an_unauthenticated_client_is_refused_on_every_listener(
    auth_cluster: AuthCluster,
) -> None:
    anonymous = KafkaConnection(auth_cluster.bootstrap)  # PLAINTEXT, no login
    with pytest.raises(kafka_errors.KafkaConnectionError):
        await publish(anonymous, auth_cluster.names.partner_out(GP), [b"{}"])
    controller = auth_cluster.kafka.controller_port
    assert controller is not None
    for port in (auth_cluster.kafka.port, controller):
        admin = KafkaConnection(f"127.0.0.1:{port}").admin()
        with pytest.raises(kafka_errors.KafkaConnectionError):
            await admin.start()
        await admin.close()


@pytest.mark.parametrize("user", [GP, "nobody-registered"])
async def test_a_wrong_password_is_refused(auth_cluster: AuthCluster, user: str) -> None:
    with pytest.raises(kafka_errors.SaslAuthenticationFailed):
        await create_conn(
            "127.0.0.1", auth_cluster.kafka.port, security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-512", sasl_plain_username=user,
            sasl_plain_password="not-the-password-of-anyone",
        )  # fmt: skip


def test_the_cli_names_a_refused_login_without_a_traceback(auth_cluster: AuthCluster) -> None:
    result = auth_cluster.cli(
        "topics", "list", check=False,
        KETENHUB_KAFKA_USERNAME=DEFAULT_HUB_USER, KETENHUB_KAFKA_PASSWORD="wrong-password-123",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "user and password" in result.stderr
    assert "wrong-password-123" not in result.stdout + result.stderr


def test_the_hub_stops_on_a_refused_login_instead_of_retrying(auth_cluster: AuthCluster) -> None:
    started = time.monotonic()
    result = auth_cluster.cli(
        "run", "--metrics-port", "0", check=False,
        KETENHUB_KAFKA_USERNAME=DEFAULT_HUB_USER, KETENHUB_KAFKA_PASSWORD="wrong-password-123",
    )  # fmt: skip
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    said = " ".join(result.stderr.split())  # the console wraps long lines
    assert f"refused the login of user '{DEFAULT_HUB_USER}' (SCRAM-SHA-512)" in said
    assert "Traceback" not in result.stderr and '"kafka-unavailable"' not in result.stdout
    assert "wrong-password-123" not in result.stdout + result.stderr
    assert time.monotonic() - started < 60, "no retries first"


def test_check_logs_in_as_the_hub_and_names_a_refused_login(auth_cluster: AuthCluster) -> None:
    password_file = str(auth_cluster.secrets.kafka_password_path(DEFAULT_HUB_USER))
    good = auth_cluster.cli(
        "check", "--json", check=False,
        KETENHUB_KAFKA_USERNAME=DEFAULT_HUB_USER, KETENHUB_KAFKA_PASSWORD_FILE=password_file,
    )  # fmt: skip
    findings = [json.loads(line) for line in good.stdout.splitlines()]
    assert good.returncode == 0, findings
    assert [f["check"] for f in findings] == [
        "configuration",
        "login",
        "kafka",
        "brokers",
        "topics",
    ]
    bad = auth_cluster.cli(
        "check", "--json", check=False,
        KETENHUB_KAFKA_USERNAME=DEFAULT_HUB_USER, KETENHUB_KAFKA_PASSWORD="wrong-password-123",
    )  # fmt: skip
    assert bad.returncode == 1
    login = [json.loads(line) for line in bad.stdout.splitlines()][-1]
    assert login["check"] == "login" and not login["ok"]
    assert "refused the login" in login["detail"] and "wrong-password-123" not in bad.stdout


# Authorisation: each partner only its own outbox (write) and inbox (read).


def test_a_partner_sees_only_its_own_topics(auth_cluster: AuthCluster) -> None:
    listed = auth_cluster.cli("topics", "list", KETENHUB_KAFKA_USERNAME=GP).stdout.split()
    names = auth_cluster.names
    assert sorted(t for t in listed if t.startswith(names.prefix)) == [
        names.partner_in(GP),
        names.partner_out(GP),
    ]


async def test_a_partner_cannot_write_another_partners_outbox(auth_cluster: AuthCluster) -> None:
    names = auth_cluster.names
    with pytest.raises(kafka_errors.TopicAuthorizationFailedError):
        await publish(auth_cluster.login(GP), names.partner_out(OTHER_GP), [referral("X-1")])


@pytest.mark.parametrize("target", ["other-inbox", "own-inbox", "canonical", "dlq", "audit"])
async def test_a_partner_cannot_write_inboxes_or_internal_topics(
    auth_cluster: AuthCluster, target: str
) -> None:
    """No forged deliveries, acks or audit records: only the hub writes there."""
    names = auth_cluster.names
    topic = {
        "other-inbox": names.partner_in(PROVIDER),
        "own-inbox": names.partner_in(GP),
        "canonical": names.canonical,
        "dlq": names.dlq,
        "audit": names.audit,
    }[target]
    with pytest.raises(kafka_errors.TopicAuthorizationFailedError):
        await publish(auth_cluster.login(GP), topic, [b'{"type": "ack"}'])


@pytest.mark.parametrize("target", ["other-inbox", "other-outbox", "canonical", "dlq", "state"])
async def test_a_partner_cannot_read_another_partners_inbox_or_internal_topics(
    auth_cluster: AuthCluster, target: str
) -> None:
    names = auth_cluster.names
    topic = {
        "other-inbox": names.partner_in(PROVIDER),
        "other-outbox": names.partner_out(OTHER_GP),
        "canonical": names.canonical,
        "dlq": names.dlq,
        "state": names.state,
    }[target]
    with pytest.raises(NotAuthorized, match=f"may not read topic {topic}"):
        await read_inbox(auth_cluster.login(SCHOOL), topic, idle_timeout_s=1)


async def test_a_partner_cannot_use_the_hubs_group_or_transactional_ids(
    auth_cluster: AuthCluster,
) -> None:
    """A partner must not fence the hub's transactions or join its consumer groups."""
    prefix = auth_cluster.prefix
    producer = auth_cluster.login(GP).producer(transactional_id=f"{prefix}-ingest-evil")
    with pytest.raises(kafka_errors.TransactionalIdAuthorizationFailed):
        await producer.start()
    await producer.stop()
    consumer = auth_cluster.login(GP).consumer(
        auth_cluster.names.partner_in(GP), group_id=f"{prefix}-route", enable_auto_commit=False
    )
    try:
        with pytest.raises(kafka_errors.GroupAuthorizationFailedError):
            await asyncio.wait_for(consumer.start(), 30)
    finally:
        await consumer.stop()


async def test_a_partner_cannot_create_topics(auth_cluster: AuthCluster) -> None:
    from aiokafka.admin import NewTopic

    admin = auth_cluster.login(GP).admin()
    await admin.start()
    try:
        topic = f"{auth_cluster.prefix}.partner.{GP}.sneaky"
        response = await admin.create_topics([NewTopic(topic, 1, 1)])
        ((_, code, *_rest),) = response.topic_errors
        assert kafka_errors.for_code(code) is kafka_errors.TopicAuthorizationFailedError
    finally:
        await admin.close()


async def test_a_partner_reads_its_own_inbox_with_a_group_of_its_own(
    auth_cluster: AuthCluster,
) -> None:
    """The positive control: the ACLs let a partner do its own work, with its own group."""
    names = auth_cluster.names
    consumer = auth_cluster.login(SCHOOL).consumer(
        names.partner_in(SCHOOL),
        group_id=f"{names.prefix}.partner.{SCHOOL}.inbox-reader",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=2000)  # joins the group; no authorisation error
        await consumer.commit()
    finally:
        await consumer.stop()
    async with committed_reader(auth_cluster.login(SCHOOL)) as reader:
        partitions = await assign_all(reader, [names.partner_in(SCHOOL)])
        assert partitions
        async for _ in read_to_end(reader, partitions, stall_s=10):
            pass
        for _ in range(4):  # long enough for librdkafka to look up the reader's group
            await reader.take(timeout_s=0.5)


async def test_a_reader_is_refused_a_group_outside_its_namespace(
    auth_cluster: AuthCluster,
) -> None:
    """A group-less reader still names a group, whose coordinator librdkafka looks up: one
    in the hub's namespace is refused to a partner, with an error that says so, at once."""
    names = auth_cluster.names
    login = auth_cluster.login(SCHOOL)
    kafka = KafkaConnection(
        login.bootstrap, login.security_protocol, login.sasl_mechanism, login.username,
        login.password, reader_group=reader_group(names, None),
    )  # fmt: skip
    async with committed_reader(kafka) as reader:
        await assign_all(reader, [names.partner_in(SCHOOL)])
        with pytest.raises(NotAuthorized, match="GROUP_AUTHORIZATION_FAILED"):
            await asyncio.wait_for(_take_for(reader, 10), 30)


async def _take_for(reader: Reader, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await reader.take(timeout_s=0.5)


def test_provisioning_again_changes_no_acls(auth_cluster: AuthCluster) -> None:
    again = auth_cluster.cli("partners", "provision")
    assert "0 created" in again.stdout and "ACLs: 0 created" in again.stdout, again.stdout
    dry = auth_cluster.cli("partners", "provision", "--dry-run")
    assert "0 would be created" in dry.stdout


async def test_prune_removes_the_acls_of_a_partner_that_left(auth_cluster: AuthCluster) -> None:
    gone = AclBinding(
        user("huisarts-left"), ResourceType.TOPIC,
        auth_cluster.names.partner_out("huisarts-left"), PatternType.LITERAL, Operation.WRITE,
    )  # fmt: skip
    admin = auth_cluster.login(ADMIN_USER).rdkafka_admin()
    await create_acls(admin, [gone])
    listed = auth_cluster.cli("partners", "provision")
    assert "1 ACLs on partner topics not in the registry" in listed.stdout, listed.stdout
    assert gone in await describe_acls(admin, principal=gone.principal)
    pruned = auth_cluster.cli("partners", "provision", "--prune")
    assert "1 ACLs on partner topics removed" in pruned.stdout, pruned.stdout
    assert await describe_acls(admin, principal=gone.principal) == set()


def test_no_password_is_printed_or_logged(auth_cluster: AuthCluster) -> None:
    again = auth_cluster.cli("partners", "provision")
    passwords = [auth_cluster.secrets.kafka_password(u) for u in (GP, DEFAULT_HUB_USER)]
    for password in passwords:
        assert password is not None
        assert password.get_secret_value() not in again.stdout + again.stderr
    files = list((auth_cluster.secrets.root / "kafka").iterdir())
    assert files and all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    admin = auth_cluster.secrets.kafka_password(ADMIN_USER)
    assert admin is not None
    broker_password = (auth_cluster.kafka.run_dir / "broker.password").read_text().strip()
    broker_log = auth_cluster.kafka.log_path.read_text(errors="replace")
    for secret in (admin.get_secret_value(), broker_password):
        assert secret not in broker_log


# The hub, logged in as its own user, does its work with the ACLs on.


async def test_the_hub_delivers_a_referral_end_to_end_with_acls_on(
    auth_cluster: AuthCluster, auth_hub: Path
) -> None:
    names = auth_cluster.names
    message_id = f"HIS-{uuid.uuid4().hex[:12]}"
    source = auth_cluster.home / "referral.json"
    source.write_bytes(referral(message_id))
    # `ketenhub send --as` logs in as the GP itself: the CLI takes the partner's path.
    auth_cluster.cli("send", "--as", GP, str(source))

    provider = await read_inbox(
        auth_cluster.login(PROVIDER), names.partner_in(PROVIDER),
        until=lambda ms: any(m.kind == "forward" for m in ms), max_wait_s=60,
    )  # fmt: skip
    forwards = [json.loads(m.value) for m in provider if m.kind == "forward"]
    assert [f["referral_id"] for f in forwards] == [message_id]
    gp = await read_inbox(
        auth_cluster.login(GP), names.partner_in(GP),
        until=lambda ms: "ack" in kinds(ms), max_wait_s=60,
    )  # fmt: skip
    acks = [json.loads(m.value) for m in gp if m.kind == "ack"]
    assert any(a["in_response_to"] == message_id for a in acks)
    inbox = auth_cluster.cli("inbox", PROVIDER, "--json")  # as the provider itself
    assert message_id in inbox.stdout
    hub_log = auth_hub.read_text()
    assert "AuthorizationFailed" not in hub_log and "not authorized" not in hub_log
    hub_password = auth_cluster.secrets.kafka_password(DEFAULT_HUB_USER)
    assert hub_password is not None and hub_password.get_secret_value() not in hub_log


async def test_a_spoofed_sender_on_its_own_outbox_is_refused_nacked_and_dead_lettered(
    auth_cluster: AuthCluster, auth_hub: Path
) -> None:
    """The ACL proves who wrote the outbox; the adapter checks the message says the same.

    GP De Wijert may write its own outbox, and does, but names the Hoogkerk practice as the
    referrer: refused as sender-mismatch, nacked to De Wijert, kept in the DLQ; nothing is
    delivered, and Hoogkerk hears nothing.
    """
    names = auth_cluster.names
    message_id = f"SPOOF-{uuid.uuid4().hex[:12]}"
    await publish(
        auth_cluster.login(GP), names.partner_out(GP), [referral(message_id, OTHER_GP_AGB)]
    )

    def nacked(messages: list[InboxMessage]) -> bool:
        return any(
            m.kind == "nack" and json.loads(m.value).get("in_response_to") == message_id
            for m in messages
        )

    gp = await read_inbox(auth_cluster.login(GP), names.partner_in(GP), until=nacked, max_wait_s=60)
    (nack,) = [
        json.loads(m.value)
        for m in gp
        if m.kind == "nack" and json.loads(m.value).get("in_response_to") == message_id
    ]
    assert nack["reason_code"] == "sender-mismatch"

    dlq = await read_inbox(auth_cluster.login(DEFAULT_HUB_USER), names.dlq, idle_timeout_s=2)
    spoofed = [m for m in dlq if message_id.encode() in m.value]
    assert len(spoofed) == 1
    headers = list(spoofed[0].headers)
    assert header_value(headers, HEADER_DLQ_REASON) == "sender-mismatch"
    assert header_value(headers, HEADER_DLQ_PARTNER) == GP
    assert (header_value(headers, HEADER_DLQ_SOURCE) or "").startswith(names.partner_out(GP))

    for partner in (OTHER_GP, PROVIDER):
        inbox = await read_inbox(auth_cluster.login(partner), names.partner_in(partner),
                                 idle_timeout_s=1)  # fmt: skip
        assert all(message_id.encode() not in m.value for m in inbox), partner
