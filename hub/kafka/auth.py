"""SCRAM users and ACLs on a Kafka cluster, through librdkafka's admin client.

The hub's own types (``AclBinding``, the enums with Kafka's protocol codes) keep provisioning
plans plain, comparable data; this module turns them into confluent-kafka's and back.
Passwords never travel in clear text: librdkafka sends a salted password (PBKDF2, RFC 5802
``Hi``), as Kafka's own tools do. ``ScramCredential`` derives the same for a broker that is
formatted with its users (``kafka-storage format --add-scram``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka import admin as _admin
from confluent_kafka.admin import AdminClient
from pydantic import SecretStr

rd: Any = _admin
"""confluent-kafka's admin types, untyped: its stubs lack some and take None for no filter."""
SCRAM_ITERATIONS = 8192
"""Kafka accepts 4096..16384 for SCRAM-SHA-512; its own tools default to 4096."""


class ResourceType(IntEnum):
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5


class PatternType(IntEnum):
    ANY = 1
    MATCH = 2
    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12


class Permission(IntEnum):
    ANY = 1
    DENY = 2
    ALLOW = 3


class ScramMechanism(StrEnum):
    SHA_256 = "SCRAM-SHA-256"
    SHA_512 = "SCRAM-SHA-512"

    @property
    def wire_code(self) -> int:
        return 1 if self is ScramMechanism.SHA_256 else 2

    @property
    def rdkafka(self) -> Any:
        return rd.ScramMechanism(self.wire_code)

    @property
    def hash_name(self) -> str:
        return "sha256" if self is ScramMechanism.SHA_256 else "sha512"


CLUSTER_RESOURCE = "kafka-cluster"


class KafkaAuthError(RuntimeError):
    """The cluster refused an ACL or SCRAM request; the message names the error code."""


@dataclass(frozen=True, order=True)
class AclBinding:
    """One ALLOW (or DENY) rule: ``principal`` may ``operation`` on a resource (pattern)."""

    principal: str
    resource_type: ResourceType
    resource_name: str
    pattern: PatternType
    operation: Operation
    permission: Permission = Permission.ALLOW
    host: str = "*"

    def describe(self) -> str:
        pattern = "prefix " if self.pattern is PatternType.PREFIXED else ""
        return (
            f"{self.principal} {self.permission.name} {self.operation.name} on "
            f"{self.resource_type.name} {pattern}{self.resource_name!r}"
        )


def user(name: str) -> str:
    """The principal of a SCRAM user, as ACLs name it."""
    return f"User:{name}"


@dataclass(frozen=True)
class ScramCredential:
    """What the broker stores for a SCRAM user: never the password itself."""

    mechanism: ScramMechanism
    iterations: int
    salt: bytes
    salted_password: bytes = field(default=b"", repr=False)

    @classmethod
    def derive(
        cls,
        password: SecretStr,
        mechanism: ScramMechanism = ScramMechanism.SHA_512,
        iterations: int = SCRAM_ITERATIONS,
        salt: bytes | None = None,
    ) -> ScramCredential:
        salt = salt if salt is not None else secrets.token_bytes(32)
        salted = hashlib.pbkdf2_hmac(
            mechanism.hash_name, password.get_secret_value().encode(), salt, iterations
        )
        return cls(mechanism, iterations, salt, salted)

    def storage_tool_argument(self, name: str) -> str:
        """``kafka-storage format --add-scram`` syntax: salted, so no password on a command line."""
        salt = base64.b64encode(self.salt).decode()
        salted = base64.b64encode(self.salted_password).decode()
        return (
            f'{self.mechanism.value}=[name={name},iterations={self.iterations},salt="{salt}",'
            f'saltedpassword="{salted}"]'
        )


TIMEOUT_S = 30.0


async def _done(futures: Iterable[Any], what: str) -> list[Any]:
    """The results of admin futures; KafkaAuthError naming the error code of a failed one."""
    results = []
    for future in futures:
        try:
            results.append(await asyncio.wait_for(asyncio.wrap_future(future), TIMEOUT_S))
        except KafkaException as exc:
            error: Any = exc.args[0] if exc.args else None
            name = error.name() if isinstance(error, KafkaError) else type(exc).__name__
            raise KafkaAuthError(f"{what}: {name}") from None
    return results


def _binding(b: AclBinding, kind: Any = None) -> Any:
    """``b`` as confluent-kafka's AclBinding (or as ``kind``: an AclBindingFilter)."""
    return (kind or rd.AclBinding)(
        rd.ResourceType(b.resource_type.value), b.resource_name,
        rd.ResourcePatternType(b.pattern.value), b.principal, b.host,
        rd.AclOperation(b.operation.value), rd.AclPermissionType(b.permission.value),
    )  # fmt: skip


def _ours(b: Any) -> AclBinding:
    return AclBinding(
        b.principal, ResourceType(b.restype.value), b.name,
        PatternType(b.resource_pattern_type.value), Operation(b.operation.value),
        Permission(b.permission_type.value), b.host,
    )  # fmt: skip


# ACLs


async def describe_acls(
    admin: AdminClient,
    *,
    principal: str | None = None,
    resource_type: ResourceType = ResourceType.ANY,
    resource_name: str | None = None,
    pattern: PatternType = PatternType.ANY,
) -> set[AclBinding]:
    """The ACL bindings matching a filter; every binding on the cluster without one."""
    acl_filter = rd.AclBindingFilter(
        rd.ResourceType(resource_type.value), resource_name, rd.ResourcePatternType(pattern.value),
        principal, None, rd.AclOperation.ANY, rd.AclPermissionType.ANY,
    )  # fmt: skip
    [found] = await _done([admin.describe_acls(acl_filter, request_timeout=TIMEOUT_S)],
                          "DescribeAcls")  # fmt: skip
    return {_ours(b) for b in found}


async def create_acls(admin: AdminClient, bindings: Iterable[AclBinding]) -> int:
    """Create bindings (creating one that exists is a no-op on the broker); returns the count."""
    wanted = sorted(set(bindings))
    if not wanted:
        return 0
    futures = admin.create_acls([_binding(b) for b in wanted], request_timeout=TIMEOUT_S)
    for binding in wanted:
        await _done([futures[_binding(binding)]], f"CreateAcls {binding.describe()}")
    return len(wanted)


async def delete_acls(admin: AdminClient, bindings: Iterable[AclBinding]) -> int:
    """Delete exactly these bindings; returns how many the broker removed."""
    doomed = sorted(set(bindings))
    if not doomed:
        return 0
    filters = [_binding(b, rd.AclBindingFilter) for b in doomed]
    futures = admin.delete_acls(filters, request_timeout=TIMEOUT_S)
    removed = 0
    for binding, acl_filter in zip(doomed, filters, strict=True):
        [gone] = await _done([futures[acl_filter]], f"DeleteAcls {binding.describe()}")
        removed += len(gone)
    return removed


# SCRAM users


async def describe_scram_users(
    admin: AdminClient, names: Iterable[str] | None = None
) -> dict[str, set[ScramMechanism]]:
    """Users that have SCRAM credentials, with their mechanisms (all users without ``names``)."""
    wanted = None if names is None else sorted(set(names))
    if wanted == []:
        return {}
    futures = admin.describe_user_scram_credentials(wanted, request_timeout=TIMEOUT_S)
    if not isinstance(futures, dict):  # all users: one future for the whole answer
        [described] = await _done([futures], "DescribeUserScramCredentials")
    else:
        described = {}
        for name, future in futures.items():
            try:
                [described[name]] = await _done([future], f"DescribeUserScramCredentials {name}")
            except KafkaAuthError as exc:
                if "RESOURCE_NOT_FOUND" not in str(exc):  # a user without credentials
                    raise
    codes = {m.wire_code: m for m in ScramMechanism}
    return {
        name: {
            codes[i.mechanism.value] for i in d.scram_credential_infos if i.mechanism.value in codes
        }
        for name, d in described.items()
    }


async def upsert_scram_users(
    admin: AdminClient,
    passwords: Mapping[str, SecretStr],
    mechanism: ScramMechanism = ScramMechanism.SHA_512,
) -> None:
    """Set each user's SCRAM credential (creating the user); the broker gets salted hashes only."""
    if not passwords:
        return
    info = rd.ScramCredentialInfo(mechanism.rdkafka, SCRAM_ITERATIONS)
    upsertions = [
        rd.UserScramCredentialUpsertion(name, info, password.get_secret_value().encode())
        for name, password in sorted(passwords.items())
    ]
    futures = admin.alter_user_scram_credentials(upsertions, request_timeout=TIMEOUT_S)
    for name, future in sorted(futures.items()):
        await _done([future], f"AlterUserScramCredentials {name}")
