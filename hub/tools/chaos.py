"""``ketenhub chaos``: drive traffic through a running pipeline while breaking it, then count.

Three scenarios, each on a fresh topic prefix: the hub is killed with SIGKILL and restarted;
the broker is restarted; a second hub instance joins and leaves (two rebalances). Afterwards
the providers' inboxes are read and every referral is counted: *lost* when never delivered,
*duplicated* when delivered more than once. Partners that get a send error simply send the
same message again (same message id), as real partner systems do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hub.kafka.connection import KafkaConnection
from hub.kafka.local import LocalKafka
from hub.kafka.topics import TopicNames, create_topics, delete_topics, topic_specs
from hub.ops.topic_reader import read_inbox
from hub.settings import Settings
from hub.tools.demo_traffic import random_bsn
from schemas.partners import PartnerKind, PartnerRegistry

SCENARIOS = ("hub-kill", "broker-restart", "rebalance")
SEND_DEADLINE_S = 30.0
"""A partner's send that has neither succeeded nor failed by then is sent again on a new
client: after a broker restart aiokafka 0.14 can wait for good on a metadata update that
never comes (seen in ``send`` itself, before the record is even queued)."""
GOLDEN = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "huisarts-verwijzing.json"


@dataclass(frozen=True)
class ScenarioResult:
    scenario: str
    sent: int
    delivered: int
    lost: int
    duplicated: int
    seconds: float
    msgs_per_s: float
    resent: int = 0
    """Sends a partner client repeated after a failed or stalled send: such a message may
    be in the outbox twice, and must still be delivered once."""
    recoveries: dict[str, int] = field(default_factory=dict)
    """How often the hub processes logged each self-repair (producer renewed, consumer
    replaced, batch retried): what it took to get to 0 lost and 0 duplicated."""
    note: str = ""


@dataclass
class _Hub:
    """One ``ketenhub run`` child process on the scenario's topics."""

    env: dict[str, str]
    log: Path
    name: str
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**self.env, "KETENHUB_INSTANCE_ID": self.name, "KETENHUB_METRICS_PORT": "0"}
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hub", "run"], env=env, stdout=handle,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=60)

    async def started(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (
                self.log.exists()
                and self.log.read_text(errors="replace").count('"stage-started"') >= 2
            ):
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"hub {self.name} did not start; see {self.log}")


def _referrals(registry: PartnerRegistry, count: int, run: str) -> list[tuple[str, str, bytes]]:
    """(GP partner id, message id, payload) for ``count`` valid referrals."""
    rng = random.Random(run)
    template = json.loads(GOLDEN.read_text())
    gps = registry.of_kind(PartnerKind.HUISARTS)
    providers = [p.agb for p in registry.of_kind(PartnerKind.AANBIEDER) if p.agb]
    out = []
    for n in range(count):
        gp = gps[n % len(gps)]
        body = dict(template)
        body["message_id"] = f"CHAOS-{run}-{n:06d}"
        body["referrer"] = {"agb": gp.agb}
        body["child"] = {"bsn": random_bsn(rng), "birth_date": "2014-03-02"}
        body["addressed_to_agb"] = rng.choice(providers)
        out.append((gp.id, body["message_id"], json.dumps(body).encode()))
    return out


async def _publish(
    kafka: KafkaConnection, names: TopicNames, messages: list[tuple[str, str, bytes]],
    rate: float, progress: Callable[[int], None],
) -> int:  # fmt: skip
    """Publish at ``rate``/s; a failed send is sent again, as a partner system would.

    Returns how many sends were repeated.
    """

    def new_producer() -> AIOKafkaProducer:
        return kafka.producer(acks="all", enable_idempotence=True, request_timeout_ms=15000)

    producer = new_producer()
    await producer.start()
    resent = 0
    try:
        started = time.monotonic()
        for index, (partner, _, payload) in enumerate(messages):
            while True:
                try:
                    await asyncio.wait_for(
                        _send(producer, names.partner_out(partner), payload), SEND_DEADLINE_S
                    )
                    break
                except (KafkaError, TimeoutError):
                    resent += 1
                    # An idempotent producer that lost its broker may be stuck on old sequence
                    # numbers: start afresh, as a partner system restarting its client would.
                    # The message may now be in the outbox twice: the hub acks the second
                    # copy as a duplicate, which is what this run checks.
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(producer.stop(), timeout=10)
                    await asyncio.sleep(1.0)
                    producer = new_producer()
                    with contextlib.suppress(KafkaError, TimeoutError):
                        await asyncio.wait_for(producer.start(), SEND_DEADLINE_S)
            progress(index + 1)
            ahead = started + (index + 1) / rate - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
    finally:
        await producer.stop()
    return resent


async def _send(producer: AIOKafkaProducer, topic: str, payload: bytes) -> None:
    await (await producer.send(topic, value=payload))


async def run_scenario(
    scenario: str,
    *,
    kafka: KafkaConnection,
    broker: LocalKafka | None,
    settings: Settings,
    registry: PartnerRegistry,
    messages: int,
    rate: float,
    workdir: Path,
    progress: Callable[[str, int], None] = lambda s, n: None,
) -> ScenarioResult:
    run = uuid.uuid4().hex[:8]
    names = TopicNames(f"chaos{run}")
    specs = topic_specs(names, registry, settings)
    await create_topics(kafka, specs, settings.replication_factor)
    try:
        return await _run_scenario(
            scenario, names=names, kafka=kafka, broker=broker, registry=registry,
            messages=messages, rate=rate, workdir=workdir, progress=progress,
        )  # fmt: skip
    finally:  # a run's topics would otherwise pile up on the broker (and slow it down)
        await delete_topics(kafka, [spec.name for spec in specs])


async def _run_scenario(
    scenario: str,
    *,
    names: TopicNames,
    kafka: KafkaConnection,
    broker: LocalKafka | None,
    registry: PartnerRegistry,
    messages: int,
    rate: float,
    workdir: Path,
    progress: Callable[[str, int], None],
) -> ScenarioResult:
    run = names.prefix.removeprefix("chaos")
    env = {**os.environ, "KETENHUB_BOOTSTRAP": kafka.bootstrap,
           "KETENHUB_TOPIC_PREFIX": names.prefix}  # fmt: skip
    if broker is not None:  # the hubs belong to the broker chaos restarts, not to a checkout's
        env["KETENHUB_HOME"] = str(broker.run_dir.parent)  # (whose may run beside it)
    hub_a = _Hub(env, workdir / f"{scenario}-a.log", f"chaos-{run}-a")
    hub_b = _Hub(env, workdir / f"{scenario}-b.log", f"chaos-{run}-b")
    referrals = _referrals(registry, messages, run)
    sent = 0

    def count(n: int) -> None:
        nonlocal sent
        sent = n
        progress(scenario, n)

    note = ""
    hub_a.start()
    started = time.monotonic()
    try:
        await hub_a.started()
        publishing = asyncio.create_task(_publish(kafka, names, referrals, rate, count))
        await _until(lambda: sent >= messages // 3, publishing)
        if scenario == "hub-kill":
            hub_a.signal(signal.SIGKILL)
            hub_a.start()
        elif scenario == "broker-restart":
            if broker is None:
                note = "skipped the restart: KETENHUB_BOOTSTRAP points at a cluster not ours"
            else:
                await asyncio.to_thread(broker.stop, lambda _: None)
                await asyncio.to_thread(broker.start, lambda _: None)
        elif scenario == "rebalance":
            hub_b.start()
            await _until(lambda: sent >= 2 * messages // 3, publishing)
            hub_b.signal(signal.SIGTERM)
        resent = await publishing
        delivered = await _delivered(kafka, names, registry, {m for _, m, _ in referrals})
    finally:
        hub_a.signal(signal.SIGTERM)
        hub_b.signal(signal.SIGTERM)
    seconds = time.monotonic() - started
    counts = Counter(delivered)
    ids = [m for _, m, _ in referrals]
    return ScenarioResult(
        scenario=scenario, sent=len(ids), delivered=sum(1 for m in ids if counts[m] >= 1),
        lost=sum(1 for m in ids if counts[m] == 0),
        duplicated=sum(1 for m in ids if counts[m] > 1),
        seconds=round(seconds, 1), msgs_per_s=round(len(ids) / seconds, 1), resent=resent,
        recoveries=_recoveries(hub_a.log, hub_b.log), note=note,
    )  # fmt: skip


RECOVERY_EVENTS = ("producer-renewing", "batch-retry", "batch-dropped-after-rebalance")


def _recoveries(*logs: Path) -> dict[str, int]:
    text = "".join(log.read_text(errors="replace") for log in logs if log.exists())
    return {event: text.count(f'"event": "{event}"') for event in RECOVERY_EVENTS}


async def _until(condition: Callable[[], bool], task: asyncio.Task[int]) -> None:
    while not condition() and not task.done():
        await asyncio.sleep(0.05)
    if task.done():
        task.result()


async def _delivered(
    kafka: KafkaConnection, names: TopicNames, registry: PartnerRegistry, expected: set[str],
    settle_s: float = 180.0,
) -> list[str]:  # fmt: skip
    """Referral ids in the providers' inboxes, read until all arrived or nothing moves."""
    deadline = time.monotonic() + settle_s
    while True:
        ids: list[str] = []
        for provider in registry.of_kind(PartnerKind.AANBIEDER):
            inbox = await read_inbox(kafka, names.partner_in(provider.id), idle_timeout_s=1.0)
            ids += [json.loads(m.value)["referral_id"] for m in inbox if m.kind == "forward"]
        if expected <= set(ids) or time.monotonic() > deadline:
            return ids
        await asyncio.sleep(2.0)
