"""SCRAM users and ACLs on a Kafka cluster, spoken over the Kafka protocol itself.

aiokafka 0.14 has no admin call for ACLs or SCRAM users, but it has the wire types; this
module adds the four requests it needs (CreateAcls/DescribeAcls v1, AlterUserScramCredentials
and DescribeUserScramCredentials v0) so provisioning needs no Java and works from the hub's
own container. Passwords never travel or get stored in clear text here: the client sends a
salted password (PBKDF2, RFC 5802 ``Hi``), as Kafka's own tools do.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from aiokafka import errors as kafka_errors
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.api import RequestStruct, Response
from aiokafka.protocol.types import (
    Array,
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    String,
    TaggedFields,
)
from pydantic import SecretStr

from hub.kafka.wire import PreparedRequest, UnsupportedRequest

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


# Wire formats (https://kafka.apache.org/protocol). Kafka 4 supports ACL requests v1-v3 and
# the SCRAM requests v0 only; aiokafka's connection negotiates among the classes below.


_ACL_BINDING = (
    ("resource_type", Int8),
    ("resource_name", String("utf-8")),
    ("pattern_type", Int8),
    ("principal", String("utf-8")),
    ("host", String("utf-8")),
    ("operation", Int8),
    ("permission_type", Int8),
)
"""An ACL binding (a resource pattern and an entry) as v1 of the ACL requests spell it: the
Describe filter, each creation, each delete filter and each deleted binding."""


class _DescribeAclsResponseV1(Response):  # type: ignore[misc]
    API_KEY = 29
    API_VERSION = 1
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        ("error_message", String("utf-8")),
        (
            "resources",
            Array(
                ("resource_type", Int8),
                ("resource_name", String("utf-8")),
                ("pattern_type", Int8),
                (
                    "acls",
                    Array(
                        ("principal", String("utf-8")),
                        ("host", String("utf-8")),
                        ("operation", Int8),
                        ("permission_type", Int8),
                    ),
                ),
            ),
        ),
    )


class _DescribeAclsRequestV1(RequestStruct):  # type: ignore[misc]
    API_KEY = 29
    API_VERSION = 1
    RESPONSE_TYPE = _DescribeAclsResponseV1
    SCHEMA = Schema(
        *_ACL_BINDING,
    )


class _CreateAclsResponseV1(Response):  # type: ignore[misc]
    API_KEY = 30
    API_VERSION = 1
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("results", Array(("error_code", Int16), ("error_message", String("utf-8")))),
    )


class _CreateAclsRequestV1(RequestStruct):  # type: ignore[misc]
    API_KEY = 30
    API_VERSION = 1
    RESPONSE_TYPE = _CreateAclsResponseV1
    SCHEMA = Schema(
        (
            "creations",
            Array(
                *_ACL_BINDING,
            ),
        ),
    )


class _DeleteAclsResponseV1(Response):  # type: ignore[misc]
    API_KEY = 31
    API_VERSION = 1
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "filter_results",
            Array(
                ("error_code", Int16),
                ("error_message", String("utf-8")),
                (
                    "matching_acls",
                    Array(
                        ("error_code", Int16),
                        ("error_message", String("utf-8")),
                        *_ACL_BINDING,
                    ),
                ),
            ),
        ),
    )


class _DeleteAclsRequestV1(RequestStruct):  # type: ignore[misc]
    API_KEY = 31
    API_VERSION = 1
    RESPONSE_TYPE = _DeleteAclsResponseV1
    SCHEMA = Schema(
        (
            "filters",
            Array(
                *_ACL_BINDING,
            ),
        ),
    )


class _AlterScramResponseV0(Response):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _AlterScramRequestV0(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = _AlterScramResponseV0
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(
                ("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields)
            ),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )

    def __repr__(self) -> str:
        # aiokafka logs requests at DEBUG; a salted password is as good as the password.
        users = [u[0] for u in self.upsertions or ()]
        return f"AlterUserScramCredentialsRequest(users={users}, credentials=<redacted>)"


class _DescribeScramResponseV0(Response):  # type: ignore[misc]
    API_KEY = 50
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        ("error_message", CompactString("utf-8")),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                (
                    "credential_infos",
                    CompactArray(
                        ("mechanism", Int8), ("iterations", Int32), ("tags", TaggedFields)
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _DescribeScramRequestV0(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 50
    API_VERSION = 0
    RESPONSE_TYPE = _DescribeScramResponseV0
    SCHEMA = Schema(
        ("users", CompactArray(("name", CompactString("utf-8")), ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


async def _send(admin: AIOKafkaAdminClient, struct: Any) -> Any:
    try:
        return await admin._send_request(PreparedRequest(struct, needs="Kafka 3.5+"))
    except UnsupportedRequest as exc:
        raise KafkaAuthError(str(exc)) from None


def _raise_for(error_code: int, message: str | None, what: str) -> None:
    if error_code:
        name = kafka_errors.for_code(error_code).__name__
        raise KafkaAuthError(
            f"{what}: {name} (code {error_code}){': ' + message if message else ''}"
        )


# ACLs


async def describe_acls(
    admin: AIOKafkaAdminClient,
    *,
    principal: str | None = None,
    resource_type: ResourceType = ResourceType.ANY,
    resource_name: str | None = None,
    pattern: PatternType = PatternType.ANY,
) -> set[AclBinding]:
    """The ACL bindings matching a filter; every binding on the cluster without one."""
    request = _DescribeAclsRequestV1(
        resource_type.value, resource_name, pattern.value, principal, None,
        Operation.ANY.value, Permission.ANY.value,
    )  # fmt: skip
    response = await _send(admin, request)
    _raise_for(response.error_code, response.error_message, "DescribeAcls")
    bindings: set[AclBinding] = set()
    for r_type, r_name, r_pattern, acls in response.resources:
        for acl_principal, host, operation, permission in acls:
            bindings.add(
                AclBinding(
                    acl_principal, ResourceType(r_type), r_name, PatternType(r_pattern),
                    Operation(operation), Permission(permission), host,
                )
            )  # fmt: skip
    return bindings


async def create_acls(admin: AIOKafkaAdminClient, bindings: Iterable[AclBinding]) -> int:
    """Create bindings (creating one that exists is a no-op on the broker); returns the count."""
    wanted = sorted(set(bindings))
    if not wanted:
        return 0
    request = _CreateAclsRequestV1(
        [
            (b.resource_type.value, b.resource_name, b.pattern.value, b.principal, b.host,
             b.operation.value, b.permission.value)
            for b in wanted
        ]
    )  # fmt: skip
    response = await _send(admin, request)
    for binding, (code, message) in zip(wanted, response.results, strict=True):
        _raise_for(code, message, f"CreateAcls {binding.describe()}")
    return len(wanted)


async def delete_acls(admin: AIOKafkaAdminClient, bindings: Iterable[AclBinding]) -> int:
    """Delete exactly these bindings; returns how many the broker removed."""
    doomed = sorted(set(bindings))
    if not doomed:
        return 0
    request = _DeleteAclsRequestV1(
        [
            (b.resource_type.value, b.resource_name, b.pattern.value, b.principal, b.host,
             b.operation.value, b.permission.value)
            for b in doomed
        ]
    )  # fmt: skip
    response = await _send(admin, request)
    removed = 0
    for binding, (code, message, matching) in zip(doomed, response.filter_results, strict=True):
        _raise_for(code, message, f"DeleteAcls {binding.describe()}")
        removed += len(matching)
    return removed


# SCRAM users


async def describe_scram_users(
    admin: AIOKafkaAdminClient, names: Iterable[str] | None = None
) -> dict[str, set[ScramMechanism]]:
    """Users that have SCRAM credentials, with their mechanisms (all users without ``names``)."""
    wanted: list[tuple[str, dict[int, bytes]]] | None = (
        None if names is None else [(n, {}) for n in sorted(set(names))]
    )
    response = await _send(admin, _DescribeScramRequestV0(wanted, {}))
    _raise_for(response.error_code, response.error_message, "DescribeUserScramCredentials")
    found: dict[str, set[ScramMechanism]] = {}
    not_found = kafka_errors.for_code(91)  # RESOURCE_NOT_FOUND: a user without credentials
    for name, code, message, infos, _tags in response.results:
        if code and kafka_errors.for_code(code) is not_found:
            continue
        _raise_for(code, message, f"DescribeUserScramCredentials {name}")
        codes = {m.wire_code: m for m in ScramMechanism}
        found[name] = {codes[m] for m, _iterations, _t in infos if m in codes}
    return found


async def upsert_scram_users(
    admin: AIOKafkaAdminClient,
    passwords: Mapping[str, SecretStr],
    mechanism: ScramMechanism = ScramMechanism.SHA_512,
) -> None:
    """Set each user's SCRAM credential (creating the user); the broker gets salted hashes only."""
    if not passwords:
        return
    upsertions: list[tuple[str, int, int, bytes, bytes, dict[int, bytes]]] = []
    for name, password in sorted(passwords.items()):
        cred = ScramCredential.derive(password, mechanism)
        upsertions.append(
            (name, mechanism.wire_code, cred.iterations, cred.salt, cred.salted_password, {})
        )
    response = await _send(admin, _AlterScramRequestV0([], upsertions, {}))
    for name, code, message, _tags in response.results:
        _raise_for(code, message, f"AlterUserScramCredentials {name}")
