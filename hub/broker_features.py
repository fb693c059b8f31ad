"""Does the cluster speak what the hub sends? Checked once at start, before any batch.

The hub builds two requests aiokafka has no class for (``hub.group_fencing``). A broker
that lacks them (Kafka before 2.5) would not fail loudly: aiokafka's sender retries a
refused request forever, and an operator would see stalled batches and the reason only in
an aiokafka warning. At start the hub asks every broker's API versions instead, and stops
with an error that names what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hub import group_fencing
from hub.kafka_io import KafkaConnection, committed_reader

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


NEEDS = tuple(
    Need(request.API_KEY, request.API_VERSION, request.__name__.strip("_"), why)
    for request, why in zip(
        group_fencing.REQUESTS,
        (
            "offset commits fenced by the consumer group's generation (KIP-447)",
            "offset reads that wait for open transactions (KIP-447)",
        ),
        strict=True,
    )
)


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
            "; ".join(problems) + f". ketenhub needs {group_fencing.KIP_447_KAFKA} "
            "(Kafka 3.5 or later for everything, SCRAM administration included)"
        )


async def broker_versions(kafka: KafkaConnection) -> dict[str, Versions]:
    """Each reachable broker's API versions, by ``host:port``."""
    async with committed_reader(kafka) as consumer:
        client = consumer._client
        found: dict[str, Versions] = {}
        for broker in client.cluster.brokers():
            conn = await client._get_conn(broker.nodeId)
            if conn is not None:
                found[f"{broker.host}:{broker.port}"] = dict(conn._versions)
        return found


async def require_broker_features(kafka: KafkaConnection) -> int:
    """How many brokers were checked, when every one speaks the hub's requests; else
    BrokerTooOld."""
    by_broker = await broker_versions(kafka)
    check_brokers(by_broker)
    return len(by_broker)
