"""Does the cluster speak what the hub sends? Checked once at start, before any batch.

The stages' exactly-once needs two requests of KIP-447 (Kafka 2.5+): offset commits fenced by
the group's generation, and offset reads that wait for open transactions. librdkafka uses
them when the broker has them and falls back quietly when it has not, which would leave a
stalled instance unfenced. At start the hub asks every broker's API versions instead, and
stops with an error that names what is missing.

librdkafka keeps the versions it learns to itself, so this check alone stays on aiokafka's
client, whose connections expose them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError

from hub.kafka.connection import KafkaConnection
from observability.logging import get_logger

log = get_logger(__name__)

Versions = Mapping[int, tuple[int, int]]
"""API key -> (lowest, highest) version a broker speaks (its ApiVersions answer)."""


class BrokerTooOld(Exception):
    """A broker does not speak a request the hub needs; the text says which, and why."""


@dataclass(frozen=True)
class Need:
    api_key: int
    version: int
    name: str
    why: str


KIP_447_KAFKA = "Kafka 2.5+"
NEEDS = (
    Need(28, 3, "TxnOffsetCommitRequestV3",
         "offset commits fenced by the consumer group's generation (KIP-447)"),
    Need(9, 7, "OffsetFetchRequestV7", "offset reads that wait for open transactions (KIP-447)"),
)  # fmt: skip


def missing(versions: Versions, needs: tuple[Need, ...] = NEEDS) -> list[Need]:
    """What ``versions`` lacks of ``needs``."""

    def speaks(need: Need) -> bool:
        low, high = versions.get(need.api_key, (1, 0))  # (1, 0): not at all
        return low <= need.version <= high

    return [need for need in needs if not speaks(need)]


def check_brokers(by_broker: Mapping[str, Versions]) -> None:
    """BrokerTooOld when any broker lacks a need; every broker may coordinate a group."""
    problems = [
        f"broker {broker} lacks {need.name} (API {need.api_key} v{need.version}: {need.why})"
        for broker, versions in sorted(by_broker.items())
        for need in missing(versions)
    ]
    if problems:
        raise BrokerTooOld(
            "; ".join(problems) + f". ketenhub needs {KIP_447_KAFKA} "
            "(Kafka 3.5 or later for everything, SCRAM administration included)"
        )


CONNECT_TIMEOUT_S = 10.0
"""How long the check waits for one broker's connection (they are asked at once)."""


@dataclass(frozen=True)
class Survey:
    """Each reachable broker's API versions by ``host:port``, and the brokers not reached."""

    versions: dict[str, Versions]
    unreached: list[str]


@contextlib.asynccontextmanager
async def metadata_client(kafka: KafkaConnection) -> AsyncIterator[Any]:
    """An aiokafka client that has the cluster's metadata (its brokers), closed afterwards."""
    client = AIOKafkaClient(**kafka.client_kwargs(), client_id="ketenhub-broker-check")
    try:
        await client.bootstrap()
        yield client
    finally:
        await client.close()


async def broker_versions(kafka: KafkaConnection) -> Survey:
    """Ask every broker in the cluster's metadata, all at once, for its API versions."""
    async with metadata_client(kafka) as client:
        brokers = sorted(client.cluster.brokers(), key=lambda b: b.nodeId)

        async def connect(node_id: int) -> Any:
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(client._get_conn(node_id), CONNECT_TIMEOUT_S)
            return None  # aiokafka's _get_conn also answers None when it cannot connect

        conns = await asyncio.gather(*(connect(b.nodeId) for b in brokers))
        survey = Survey({}, [])
        for broker, conn in zip(brokers, conns, strict=True):
            address = f"{broker.host}:{broker.port}"
            if conn is None:
                survey.unreached.append(address)
            else:
                survey.versions[address] = dict(conn._versions)
        return survey


async def require_broker_features(kafka: KafkaConnection) -> int:
    """How many brokers were checked, when every reachable one speaks the hub's requests;
    else BrokerTooOld.

    No broker reached is a connection error (the caller waits and asks again). Some not
    reached (one down in a rolling restart) is a warning: the hub starts on the others'
    word rather than wait for a broker that may stay away.
    """
    survey = await broker_versions(kafka)
    if not survey.versions:
        raise KafkaConnectionError(f"no broker answered of {len(survey.unreached)} in metadata")
    if survey.unreached:
        log.warning("brokers-unchecked", unreached=survey.unreached,
                    checked=len(survey.versions))  # fmt: skip
    check_brokers(survey.versions)
    return len(survey.versions)
