"""``ketenhub demo`` (``make run``): the hub with simulated partners and a live traffic table."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from hub.context import broker_for_command, load_registry, resolve_kafka, shell_exports
from hub.kafka.connection import KafkaConnection, assign_all, committed_reader
from hub.kafka.local import free_port
from hub.kafka.topics import TopicNames, create_topics, topic_specs
from hub.settings import Settings
from hub.stages.records import HEADER_DLQ_REASON, HEADER_KIND
from hub.tools.demo_traffic import DemoTraffic, Mistake
from schemas.envelope import header_value
from schemas.partners import PartnerRegistry


@dataclass
class Traffic:
    """Counts only: the live table never shows message content."""

    sent: Counter[str] = field(default_factory=Counter)
    sent_bad: Counter[str] = field(default_factory=Counter)
    received: Counter[tuple[str, str]] = field(default_factory=Counter)
    dlq: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)


def run_demo(
    settings: Settings, *, rate: float, duration: float | None, bad_share: float, console: Console
) -> int:
    with broker_for_command(settings, console.print):
        return _run_demo(settings, rate=rate, duration=duration, bad_share=bad_share,
                         console=console)  # fmt: skip


def _run_demo(
    settings: Settings, *, rate: float, duration: float | None, bad_share: float, console: Console
) -> int:
    registry = load_registry(settings)
    connection = resolve_kafka(settings)
    bootstrap = connection.bootstrap
    names = TopicNames(settings.topic_prefix)
    specs = topic_specs(names, registry, settings)
    created = asyncio.run(create_topics(connection, specs, settings.replication_factor))
    console.print(f"Topics ready ({sum(created.values())} created).")
    _say_second_shell(settings, console)
    metrics_port = settings.metrics_port or free_port()
    log_dir = settings.home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    hub_log = log_dir / "hub.log"
    env = {
        **os.environ,
        "KETENHUB_BOOTSTRAP": bootstrap,
        "KETENHUB_METRICS_PORT": str(metrics_port),
    }
    with hub_log.open("ab") as log:
        hub = subprocess.Popen(
            [sys.executable, "-m", "hub", "run"], stdout=log, stderr=subprocess.STDOUT, env=env,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    console.print(f"Hub started (pid {hub.pid}); log: {hub_log}")
    console.print(f"Metrics: http://127.0.0.1:{metrics_port}/metrics")
    try:
        return asyncio.run(
            _simulate(
                connection,
                names,
                registry,
                hub,
                rate,
                duration,
                bad_share,
                console,
                f"http://127.0.0.1:{metrics_port}/metrics",
            )
        )
    finally:
        if hub.poll() is None:
            hub.send_signal(signal.SIGTERM)
            try:
                hub.wait(timeout=30)
            except subprocess.TimeoutExpired:
                hub.kill()
        console.print(f"Hub stopped (exit {hub.returncode}).")


def _say_second_shell(settings: Settings, console: Console) -> None:
    """What a second terminal (a partner developer, an operator) types to reach this hub."""
    console.print("In a second shell, to reach this broker with these settings:", highlight=False)
    if sys.prefix != sys.base_prefix:
        console.print(f"  source {Path(sys.prefix) / 'bin' / 'activate'}", highlight=False)
    console.print(f"  {shell_exports(settings)}", highlight=False, soft_wrap=True)


async def _simulate(
    kafka: KafkaConnection,
    names: TopicNames,
    registry: PartnerRegistry,
    hub: subprocess.Popen[bytes],
    rate: float,
    duration: float | None,
    bad_share: float,
    console: Console,
    metrics_url: str,
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    traffic = Traffic()
    tasks = [
        asyncio.create_task(_send(kafka, names, registry, rate, bad_share, traffic, stop)),
        asyncio.create_task(_watch(kafka, names, registry, traffic, stop)),
    ]
    deadline = None if duration is None else time.monotonic() + duration
    with Live(_render(registry, traffic, hub, metrics_url), console=console,
              refresh_per_second=2, transient=False) as live:  # fmt: skip
        while not stop.is_set():
            if deadline is not None and time.monotonic() > deadline:
                stop.set()
            if hub.poll() is not None:
                console.print(f"[red]the hub exited with code {hub.returncode}; see its log[/red]")
                stop.set()
            live.update(_render(registry, traffic, hub, metrics_url))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, Exception):
            console.print(f"[red]a simulated partner failed: {result}[/red]")
    return 0 if hub.poll() is None else 1


async def _send(
    kafka: KafkaConnection,
    names: TopicNames,
    registry: PartnerRegistry,
    rate: float,
    bad_share: float,
    traffic: Traffic,
    stop: asyncio.Event,
) -> None:
    generator = DemoTraffic(registry, random.Random(), bad_share=bad_share)
    producer = kafka.producer(acks="all", enable_idempotence=True)
    await producer.start()
    try:
        interval = 1.0 / rate if rate > 0 else 1.0
        next_at = time.monotonic()
        while not stop.is_set():
            message = generator.next_message()
            await producer.send(names.partner_out(message.sender.id), value=message.payload)
            traffic.sent[message.sender.id] += 1
            if message.mistake is not Mistake.NONE:
                traffic.sent_bad[message.sender.id] += 1
            next_at += interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, next_at - time.monotonic()))
    finally:
        await producer.stop()


async def _watch(
    kafka: KafkaConnection,
    names: TopicNames,
    registry: PartnerRegistry,
    traffic: Traffic,
    stop: asyncio.Event,
) -> None:
    """Count what lands in every inbox and in the DLQ from now on, as the partners would."""
    topics = {names.partner_in(p.id): p.id for p in registry.partners}
    async with committed_reader(kafka) as consumer:
        partitions = await assign_all(consumer, [*topics, names.dlq])
        await consumer.seek_to_end(*partitions)
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=300)
            for tp, records in batch.items():
                for r in records:
                    headers = list(r.headers or ())
                    if tp.topic == names.dlq:
                        traffic.dlq[header_value(headers, HEADER_DLQ_REASON) or "?"] += 1
                    else:
                        kind = header_value(headers, HEADER_KIND) or "?"
                        traffic.received[(topics[tp.topic], kind)] += 1


def _render(
    registry: PartnerRegistry, traffic: Traffic, hub: subprocess.Popen[bytes], metrics_url: str
) -> Group:
    table = Table(title="ketenhub demo: traffic per partner (counts only, no content)")
    for column in (
        "partner",
        "kind",
        "sent",
        "of which bad",
        "deliveries in",
        "notices in",
        "acks in",
        "nacks in",
    ):
        left = column in ("partner", "kind")
        table.add_column(column, justify="left" if left else "right", no_wrap=left)
    for p in registry.partners:
        r = traffic.received
        table.add_row(
            p.id, p.kind.value, str(traffic.sent[p.id]), str(traffic.sent_bad[p.id]),
            str(r[(p.id, "forward")]), str(r[(p.id, "notify")]), str(r[(p.id, "ack")]),
            str(r[(p.id, "nack")]),
        )  # fmt: skip
    elapsed = time.monotonic() - traffic.started
    dlq = ", ".join(f"{reason} {n}" for reason, n in sorted(traffic.dlq.items())) or "empty"
    hub_state = "running" if hub.poll() is None else f"exited ({hub.returncode})"
    footer = Text(
        f"elapsed {elapsed:5.0f}s | sent {sum(traffic.sent.values())} | "
        f"DLQ: {dlq}\nhub pid {hub.pid} {hub_state} | metrics {metrics_url} | Ctrl-C stops"
    )
    return Group(table, footer)
