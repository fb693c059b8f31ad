"""``ketenhub demo`` (``make run``): the hub with simulated partners and a live traffic table.

The partners are partner-SDK clients that react to their inbox (see ``demo_partners``). On
a terminal the table is live; in a pipe (or with ``--duration``) the demo runs headless and
prints a line every few seconds and the table at the end. With ``--duration`` the exit code
says whether the chain lived: every partner sent and received, and no nack the demo did not
mean (exit 3 if not).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from hub.context import broker_for_command, load_registry, resolve_kafka, shell_exports
from hub.kafka.connection import KafkaConnection
from hub.kafka.local import free_port
from hub.kafka.reader import assign_all, committed_reader
from hub.kafka.topics import TopicNames, create_topics, topic_specs
from hub.partner_client import client_for
from hub.settings import Settings
from hub.stages.records import HEADER_DLQ_REASON
from hub.tools.demo_ledger import Ledger
from hub.tools.demo_partners import SimulatedChain
from hub.tools.demo_script import DemoScript
from schemas.codes import RejectReason
from schemas.envelope import header_value
from schemas.partners import PartnerRegistry
from schemas.reject_reasons import MEANING

HEADLESS_EVERY_S = 10.0
CHAIN_FAILED = 3


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
        "KETENHUB_BOOTSTRAP": connection.bootstrap,
        "KETENHUB_METRICS_PORT": str(metrics_port),
    }
    with hub_log.open("ab") as log:
        hub = subprocess.Popen(
            [sys.executable, "-m", "hub", "run"], stdout=log, stderr=subprocess.STDOUT, env=env,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    console.print(f"Hub started (pid {hub.pid}); log: {hub_log}")
    console.print(f"Metrics: http://127.0.0.1:{metrics_port}/metrics")
    script = DemoScript(registry, random.Random(), bad_share=bad_share)
    chain = SimulatedChain(script, Ledger(), lambda pid: client_for(settings, pid))
    try:
        return asyncio.run(
            _simulate(
                chain,
                connection,
                names,
                registry,
                hub,
                rate,
                duration,
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
    chain: SimulatedChain,
    kafka: KafkaConnection,
    names: TopicNames,
    registry: PartnerRegistry,
    hub: subprocess.Popen[bytes],
    rate: float,
    duration: float | None,
    console: Console,
    metrics_url: str,
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ledger = chain.ledger
    tasks = [
        asyncio.create_task(chain.run(rate, stop)),
        asyncio.create_task(_watch_dlq(kafka, names, ledger, stop)),
    ]
    deadline = None if duration is None else time.monotonic() + duration
    headless = duration is not None or not console.is_terminal

    def render() -> Group:
        return _render(registry, ledger, hub, metrics_url)

    live = contextlib.nullcontext() if headless else Live(
        render(), console=console, refresh_per_second=2, transient=False
    )  # fmt: skip
    next_line = time.monotonic() + HEADLESS_EVERY_S
    with live as shown:
        while not stop.is_set():
            if deadline is not None and time.monotonic() > deadline:
                stop.set()
            if hub.poll() is not None:
                console.print(f"[red]the hub exited with code {hub.returncode}; see its log[/red]")
                stop.set()
            if isinstance(shown, Live):
                shown.update(render())
            elif time.monotonic() >= next_line:
                console.print(_status_line(registry, ledger), highlight=False)
                next_line += HEADLESS_EVERY_S
            if any(t.done() for t in tasks):
                stop.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, Exception):
            console.print(f"[red]the simulated chain failed: {result}[/red]")
            ledger.failures.append(str(result))
    if headless:
        console.print(render())
    if hub.poll() is not None:
        return 1
    return _verdict(registry, ledger, console) if duration is not None else 0


def _verdict(registry: PartnerRegistry, ledger: Ledger, console: Console) -> int:
    """Whether the chain lived; printed, and as the exit code of a timed run."""
    ids = [p.id for p in registry.partners]
    quiet_senders, quiet_receivers = ledger.silent(ids)
    unmeant = sum(ledger.unmeant.values())
    problems = []
    if quiet_senders:
        problems.append("sent nothing: " + ", ".join(quiet_senders))
    if quiet_receivers:
        problems.append("received nothing: " + ", ".join(quiet_receivers))
    if unmeant:
        problems.append("nacks the demo did not mean: " + ", ".join(
            f"{p} {r} x{n}" for (p, r), n in sorted(ledger.unmeant.items())))  # fmt: skip
    problems += ledger.failures[:5]
    if problems:
        for line in problems:
            console.print(f"[red]chain check:[/red] {line}", highlight=False)
        return CHAIN_FAILED
    console.print(f"chain check: all {len(ids)} partners sent and received; every nack was "
                  "a deliberate mistake", highlight=False)  # fmt: skip
    return 0


async def _watch_dlq(
    kafka: KafkaConnection, names: TopicNames, ledger: Ledger, stop: asyncio.Event
) -> None:
    """Count what lands in the DLQ from now on (the operator's view, with the hub's login)."""
    async with committed_reader(kafka) as reader:
        partitions = await assign_all(reader, [names.dlq])
        await reader.assign(partitions, await reader.end_offsets(partitions))
        while not stop.is_set():
            for r in await reader.take(timeout_s=0.3):
                ledger.dlq[header_value(r.headers, HEADER_DLQ_REASON) or "?"] += 1


def _status_line(registry: PartnerRegistry, ledger: Ledger) -> str:
    ids = [p.id for p in registry.partners]
    quiet_senders, quiet_receivers = ledger.silent(ids)
    meant = sum(n for (_, m), n in ledger.nacks.items() if m)
    return (
        f"{ledger.elapsed:4.0f}s sent {sum(ledger.sent.values())} received "
        f"{sum(ledger.received.values())} | partners sending {len(ids) - len(quiet_senders)}"
        f"/{len(ids)}, receiving {len(ids) - len(quiet_receivers)}/{len(ids)} | nacks meant "
        f"{meant}, not meant {sum(ledger.unmeant.values())}"
    )


def _render(
    registry: PartnerRegistry, ledger: Ledger, hub: subprocess.Popen[bytes], metrics_url: str
) -> Group:
    table = Table(title="ketenhub demo: traffic per partner (counts only, no content)")
    for column in ("partner", "kind", "sent", "of which bad", "deliveries in", "notices in",
                   "acks in", "nacks in"):  # fmt: skip
        left = column in ("partner", "kind")
        table.add_column(column, justify="left" if left else "right", no_wrap=left)
    for p in registry.partners:
        r = ledger.received
        unmeant = sum(n for (pid, _), n in ledger.unmeant.items() if pid == p.id)
        nacks = str(r[(p.id, "nack")]) + (f" ({unmeant} not meant)" if unmeant else "")
        table.add_row(
            p.id, p.kind.value, str(ledger.sent[p.id]), str(ledger.sent_bad[p.id]),
            str(r[(p.id, "forward")]), str(r[(p.id, "notify")]), str(r[(p.id, "ack")]),
            Text(nacks, style="red" if unmeant else ""),
        )  # fmt: skip
    reasons = Table(title="nacks by reason: what each means", title_justify="left")
    for column in ("reason", "meant", "not meant", "what it means"):
        reasons.add_column(column, justify="right" if "meant" in column else "left")
    for code in sorted({reason for reason, _ in ledger.nacks}):
        unmeant = ledger.nacks[(code, False)]
        reasons.add_row(code, str(ledger.nacks[(code, True)]),
                        Text(str(unmeant), style="red" if unmeant else ""),
                        MEANING.get(RejectReason(code), ""))  # fmt: skip
    dlq = ", ".join(f"{reason} {n}" for reason, n in sorted(ledger.dlq.items())) or "empty"
    hub_state = "running" if hub.poll() is None else f"exited ({hub.returncode})"
    footer = Text(
        f"elapsed {ledger.elapsed:5.0f}s | sent {sum(ledger.sent.values())} | DLQ: {dlq}\n"
        f"'meant' nacks answer the demo's deliberate mistakes (bad BSN, garbage, unknown "
        f"provider, misnamed field, OJG referral without consent); a resend is acked as a "
        f"duplicate.\nhub pid {hub.pid} {hub_state} | metrics {metrics_url} | Ctrl-C stops"
    )
    parts: list[Table | Text] = [table]
    if ledger.nacks:
        parts.append(reasons)
    parts.append(footer)
    return Group(*parts)
