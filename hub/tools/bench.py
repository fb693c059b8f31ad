"""``ketenhub bench``: the hub against Kafka's ceiling and a framework, like with like.

One run, on one broker, the same message mix, with topics of its own (a unique prefix,
deleted afterwards); every worker is a child process measured from outside (``/proc``):

1. **warm-up**: a steady stream through a hub, unmeasured (the broker's JVM compiles first);
2. **raw passthrough**: a 1:1 copy between two topics (confluent-kafka, at-least-once);
3. **full pipeline**: ``python -m hub run`` (ingest + route, validation, policy, state,
   exactly-once transactions) draining the mix from the partners' outboxes; then the records
   it wrote are counted per topic (``hub.tools.bench_plan``);
4. **latency**: partners publish at 30 and 300 msg/s, at half the drain maximum and at a
   trickle; publish to committed delivery in the inbox, p50/p95/p99;
5. **scale-out**: two hub processes in one consumer group drain a fresh batch;
6. **shadow**: the pipeline's counted I/O in two transactional hops with no processing
   (confluent-kafka): the Kafka ceiling of this design;
7. **faststream reference**: the same stage handlers under faststream subscribers,
   at-least-once, no transactions;
8. **in-process**: both handlers in one thread without Kafka, CPU per message by phase
   (``hub.tools.bench_inprocess``); the shadow's CPU stands for the Kafka client's part.

Throughput is the steady rate from 10 % done to the end (startup is not steady state);
"done" for the pipeline means the message's first delivery (forward, ack or nack, all in one
transaction) is committed in an inbox, or its dead letter is.

``python -m hub.tools.bench restore ...`` runs the state-restore worker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import shutil
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from hub.context import load_registry, local_kafka, resolve_kafka
from hub.kafka.connection import KafkaConnection
from hub.kafka.reader import Partition, Reader, assign_all, committed_reader, read_to_end
from hub.kafka.topics import TopicNames, TopicSpec, create_topics, delete_topics, topic_specs
from hub.settings import Settings
from hub.stages.records import HEADER_MESSAGE_ID, HEADER_SENT_AT
from hub.tools import bench_inprocess, bench_procs
from hub.tools.bench_mix import BenchMix, MixMessage
from hub.tools.bench_plan import ShadowPlan, TopicIo, plan_from_counts, role_of
from hub.tools.bench_stats import (
    FASTSTREAM,
    MAIN_THREAD,
    PASSTHROUGH,
    SHADOW,
    TAIL_WAIT_S,
    BenchResult,
    Latency,
    LoadLevel,
    Progress,
    Throughput,
    WarmUp,
    tail_missing,
    warmup_line,
)

HALF = 0.5
REPORT_LEVELS = (0.25, 0.5, 0.75, 0.9)
"""Shares of the measured maximum the report plots latency at."""
LOAD_SECONDS = 15.0
"""How long partners offer each load level (fewer messages if ``--messages`` is smaller)."""
PASSTHROUGH_REPEAT = 5
"""The passthrough copies the mix this many times over. It drains 20-30 times faster than
the pipeline (23,000-33,000 msg/s here): 20,000 messages once took it under a second,
too short for a steady window, so that run's rate was counted from the worker's spawn
(10,102 msg/s)."""
SHADOW_REPEAT = 3
"""The shadow drains the mix this many times over (its plan repeats per ``messages`` inputs):
it is several times faster than the pipeline, and a drain of a second or two would weigh its
workers' startup in."""
FIXED_LOADS = (30.0, 300.0)
"""Offered loads whose latency is reported whatever the maximum: 30 msg/s is about ten times
the Groningen chain's peak hour, 300 a hundred times."""
INPROCESS_MESSAGES = 3_000
INPROCESS_RUNS = 3
"""Clean in-process runs, each on fresh stages; the figure is their median (the clock of
this shared VM moves by a third between runs of the same code)."""
FLOOR_MSGS_PER_S = 5.0
"""A trickle: every message meets an idle hub, so its latency is the pipeline's floor (two
transactional hops and their fetches), with no queueing in it."""
IDLE_TIMEOUT_S = 60.0
"""A phase gives up when nothing completes for this long (a stuck or crashed worker)."""
PROFILE_MESSAGES = 5_000
WARMUP_SECONDS = 90.0
"""Default warm-up. A freshly started local broker, at a steady 300 msg/s through the hub,
used 1.20 cores in its first 12 s and 0.39 from its second minute on (its JVM compiling its
hot code); the hub's latency at that rate went from p50 137 to 65 ms meanwhile."""
WARMUP_MSGS_PER_S = 300.0
"""About a third of what one hub process drains on 2 cores: warm, not queued."""
WARMUP_STEP_S = 10.0


class BenchError(RuntimeError):
    """The benchmark could not measure what it set out to (the text says why)."""


class Reporter(Protocol):
    """**Protocol:** where progress goes while the benchmark runs."""

    def phase(self, title: str, total: int) -> None: ...

    def advance(self, done: int) -> None: ...

    def done(self, line: str) -> None: ...


# Observing outputs.


@dataclass
class Observer:
    """Reads output topics (committed records only) and notes what completed when.

    ``distinct``: count messages by their ``kh-message-id`` (the hub writes several records
    per input in one transaction: the first that is visible marks it done); otherwise every
    record counts (raw passthrough).
    """

    reader: Reader
    distinct: bool
    records_per_message: float = 1.0
    """Without ``distinct``: records that make one message done (the shadow writes several
    inbox records per message, all alike; the passthrough one)."""
    done: int = 0
    records: int = 0
    last_at: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    seen: set[bytes] = field(default_factory=set)

    @classmethod
    async def start(
        cls,
        kafka: KafkaConnection,
        topics: Sequence[str],
        distinct: bool,
        records_per_message: float = 1.0,
    ) -> Observer:
        reader = Reader(kafka)
        try:
            partitions = await assign_all(reader, topics)
            # From the committed end on, at offsets known now: nothing published yet is missed.
            await reader.assign(partitions, await reader.end_offsets(partitions))
        except BaseException:
            await reader.close()
            raise
        return cls(reader, distinct, records_per_message)

    async def stop(self) -> None:
        await self.reader.close()

    def reset(self) -> None:
        self.done, self.records, self.latencies_ms = 0, 0, []

    async def poll(self, timeout_ms: int = 20) -> int:
        """Read what is there; returns how many messages completed now."""
        batch = await self.reader.take(timeout_s=timeout_ms / 1000)
        if not batch:
            return 0
        now = time.time()
        new = 0
        if not self.distinct:
            self.records += len(batch)
            new = int(self.records / self.records_per_message + 1e-6) - self.done
            self.done += new
            if new:
                self.last_at = time.monotonic()
            return new
        for record in batch:
            headers = dict(record.headers)
            message_id = headers.get(HEADER_MESSAGE_ID)
            if message_id is None or message_id in self.seen:
                continue
            self.seen.add(message_id)
            new += 1
            sent_at = headers.get(HEADER_SENT_AT)
            if sent_at is not None and sent_at.isdigit() and int(sent_at) > 0:
                self.latencies_ms.append(now * 1000 - int(sent_at))
        self.done += new
        if new:
            self.last_at = time.monotonic()
        return new


# Worker processes.


@dataclass
class Worker:
    """A child process whose CPU and memory are read from outside."""

    process: asyncio.subprocess.Process
    log: Path
    started: float

    @classmethod
    async def spawn(cls, args: Sequence[str], env: dict[str, str], log: Path) -> Worker:
        with log.open("ab") as handle:
            process = await asyncio.create_subprocess_exec(
                *args, env=env, stdout=handle, stderr=asyncio.subprocess.STDOUT
            )
        return cls(process, log, time.monotonic())

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_s(self) -> float:
        return bench_procs.cpu_seconds(self.pid)

    def peak_rss_mb(self) -> float:
        return bench_procs.peak_rss_mb(self.pid)

    def check(self) -> None:
        if self.process.returncode is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise BenchError(
                f"worker exited with {self.process.returncode} (log: {self.log}):\n{tail}"
            )

    async def stop(self, timeout: float = 30) -> None:
        if self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


@dataclass
class Workers:
    """What is measured as one: the hub's process, or its two stage processes (``--split``).

    CPU adds up exactly; peak RSS is the sum of each process's peak (an upper bound: the
    peaks need not coincide).
    """

    members: list[Worker]

    @property
    def log(self) -> Path:
        return self.members[0].log

    @property
    def started(self) -> float:
        return min(w.started for w in self.members)

    def cpu_s(self) -> float:
        return sum(w.cpu_s() for w in self.members)

    def peak_rss_mb(self) -> float:
        return sum(w.peak_rss_mb() for w in self.members)

    def check(self) -> None:
        for worker in self.members:
            worker.check()

    async def stop(self) -> None:
        await asyncio.gather(*(w.stop() for w in self.members))


async def measure(
    worker: Workers,
    observer: Observer,
    total: int,
    reporter: Reporter,
    parties: Callable[[], dict[str, float]] = dict,
) -> Throughput:
    """Wait until ``total`` messages are done; steady throughput, CPU and peak memory.

    ``parties``: CPU seconds so far of everyone sharing the machine, for the cores each
    used while the worker drained.
    """
    samples: list[Progress] = []
    start = Progress(worker.started, 0, worker.cpu_s(), parties())
    last_news = time.monotonic()
    while observer.done < total:
        worker.check()
        if await observer.poll():
            last_news = observer.last_at
            samples.append(Progress(last_news, observer.done, worker.cpu_s(), parties()))
            reporter.advance(observer.done)
        elif await _given_up(observer, total, last_news, worker.log):
            break
    result = Throughput.of(samples, total, worker.peak_rss_mb(), start)
    return replace(result, missing=total - observer.done)


async def _given_up(observer: Observer, total: int, last_news: float, log: Path) -> bool:
    """True when only a tail that is not coming is left; BenchError when stuck before that."""
    idle = time.monotonic() - last_news
    if tail_missing(observer.done, total, idle):
        return True
    if idle > IDLE_TIMEOUT_S:
        raise BenchError(
            f"stuck: {observer.done} of {total} messages done after {IDLE_TIMEOUT_S:.0f} s "
            f"without progress; see {log}"
        )
    return False


# Publishing as partners do.


async def publish_all(
    kafka: KafkaConnection, records: Sequence[tuple[str, bytes]], reporter: Reporter | None = None
) -> None:
    """Preload ``(topic, payload)`` records as fast as the client can (no key, as partners)."""
    producer = kafka.producer(acks="all", enable_idempotence=True, linger_ms=20,
                              max_batch_size=256 * 1024)  # fmt: skip
    await producer.start()
    try:
        pending: list[asyncio.Future[Any]] = []
        for index, (topic, payload) in enumerate(records, 1):
            pending.append(await producer.send(topic, value=payload))
            if len(pending) >= 5_000:
                await asyncio.gather(*pending)
                pending = []
                if reporter:
                    reporter.advance(index)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def offer_load(
    kafka: KafkaConnection,
    messages: Sequence[tuple[str, bytes]],
    rate: float,
    observer: Observer,
    worker: Workers,
    reporter: Reporter,
) -> tuple[float, Latency]:
    """Publish ``messages`` at a steady ``rate`` while the observer times their delivery.

    Returns the achieved rate (messages done per second of the run) and the latencies.
    """
    observer.reset()
    producer = kafka.producer(acks="all", enable_idempotence=True)
    await producer.start()
    total = len(messages)
    started = time.monotonic()

    async def watch() -> None:
        last_news = time.monotonic()
        while observer.done < total:
            worker.check()
            if await observer.poll(timeout_ms=5):
                last_news = observer.last_at
                reporter.advance(observer.done)
            elif time.monotonic() >= started + total / rate and await _given_up(
                observer, total, last_news, worker.log
            ):
                return

    watcher = asyncio.create_task(watch())
    try:
        sent: list[asyncio.Future[Any]] = []
        for index, (topic, payload) in enumerate(messages):
            due = started + index / rate
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            sent.append(await producer.send(topic, value=payload))
        await asyncio.gather(*sent)
        await watcher
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, BenchError):
            await watcher
        await producer.stop()
    seconds = max(observer.last_at - started, 1e-6)
    return observer.done / seconds, Latency.of(observer.latencies_ms)


# The whole run.


@dataclass
class BenchRun:
    settings: Settings
    messages: int
    reporter: Reporter
    report: Path | None = None
    profile: bool = False
    split: bool = False
    """Run ingest and route as two processes (``hub run --stage ...``) instead of one."""
    warmup_s: float = WARMUP_SECONDS
    workdir: Path = field(default_factory=lambda: Path(os.environ.get("TMPDIR", "/tmp")))
    prefix: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:10]}")

    def __post_init__(self) -> None:
        self.kafka = resolve_kafka(self.settings)
        self.registry = load_registry(self.settings)
        self.names = TopicNames(self.prefix)
        self.partitions = self.settings.partitions
        self.shadow_names = TopicNames(f"{self.prefix}-shadow")
        self.faststream_names = TopicNames(f"{self.prefix}-fs")
        self.raw_in, self.raw_out = f"{self.prefix}.raw.in", f"{self.prefix}.raw.out"
        self.logs = (self.report or self.workdir) / f"{self.prefix}-logs"
        self.mix = BenchMix(self.registry)
        self.kinds: Counter[str] = Counter()
        self.tails: list[str] = []
        """Phases where some messages never completed (``tail_missing``), for a note."""
        self.broker_pid = (
            None if self.settings.bootstrap else local_kafka(self.settings).status().pid
        )

    def env(self, names: TopicNames | None = None, instance: str = "") -> dict[str, str]:
        prefix = (names or self.names).prefix
        return {
            **os.environ,
            "KETENHUB_BOOTSTRAP": self.kafka.bootstrap,
            "KETENHUB_TOPIC_PREFIX": prefix,
            "KETENHUB_INSTANCE_ID": f"{prefix}{instance}",
            "KETENHUB_METRICS_PORT": "0",
        }

    def specs(self) -> list[TopicSpec]:
        hub_like = [
            spec
            for names in (self.names, self.shadow_names, self.faststream_names)
            for spec in topic_specs(names, self.registry, self.settings)
        ]
        return [*hub_like, TopicSpec(self.raw_in, self.partitions),
                TopicSpec(self.raw_out, self.partitions)]  # fmt: skip

    def outbox(
        self,
        messages: Sequence[MixMessage],
        *,
        in_mix: bool = True,
        names: TopicNames | None = None,
    ) -> list[tuple[str, bytes]]:
        """``(partner outbox, payload)`` records; ``in_mix``: counted in the report's mix."""
        if in_mix:
            self.kinds.update(m.kind for m in messages)
        names = names or self.names
        return [(names.partner_out(m.sender.id), m.payload) for m in messages]

    def inboxes(self, names: TopicNames | None = None) -> list[str]:
        names = names or self.names
        return [names.partner_in(p.id) for p in self.registry.partners] + [names.dlq]

    def written(self, names: TopicNames | None = None) -> list[str]:
        """Every topic the pipeline writes (not the outboxes it reads)."""
        names = names or self.names
        return [*self.inboxes(names), names.canonical, names.households, names.state,
                names.audit]  # fmt: skip

    async def run(self) -> BenchResult:
        self.logs.mkdir(parents=True, exist_ok=True)
        specs = self.specs()
        await create_topics(self.kafka, specs, self.settings.replication_factor)
        try:
            await wait_for_topics(self.kafka, [s.name for s in specs])
            result = await self._run()
        finally:
            await delete_topics(self.kafka, [s.name for s in specs])
        if self.report is None:  # the workers' logs matter only when something went wrong
            shutil.rmtree(self.logs, ignore_errors=True)
        return result

    async def _run(self) -> BenchResult:
        n = self.messages
        batch = self.mix.messages(n)
        self.kinds.clear()
        drain = self.outbox(batch)
        warmup = await self._warm_up() if self.warmup_s > 0 else None

        copies = n * PASSTHROUGH_REPEAT
        self.reporter.phase("raw passthrough: preloading", copies)
        raw_in = [(self.raw_in, p) for _, p in drain]
        await publish_all(self.kafka, raw_in * PASSTHROUGH_REPEAT, self.reporter)
        self.reporter.phase("raw passthrough (confluent-kafka, 1:1): copying", copies)
        raw = await self._passthrough(copies)
        self.reporter.done(f"raw passthrough: {raw.msgs_per_s:,.1f} msg/s")

        self.reporter.phase("full pipeline: preloading partner outboxes", n)
        await publish_all(self.kafka, drain, self.reporter)
        before = await end_offsets(self.kafka, self.written())
        observer = await Observer.start(self.kafka, self.inboxes(), distinct=True)
        hub = await self.spawn_hub()
        notes: list[str] = []
        try:
            self.reporter.phase("full pipeline: ingest + route", n)
            pipeline = await measure(
                hub, observer, n, self.reporter, lambda: self._cpu_seconds(hub)
            )
            self.reporter.done(f"full pipeline: {pipeline.msgs_per_s:,.1f} msg/s")
            after = await end_offsets(self.kafka, self.written())
            levels = []
            for share in REPORT_LEVELS if self.report else (HALF,):
                levels.append(
                    await self._level(share * pipeline.msgs_per_s, pipeline.msgs_per_s,
                                      observer, hub, "half" if share == HALF else "")
                )  # fmt: skip
            fixed = [
                await self._level(rate, pipeline.msgs_per_s, observer, hub, f"{rate:.0f}")
                for rate in FIXED_LOADS
            ]
            floor = await self._level(FLOOR_MSGS_PER_S, pipeline.msgs_per_s, observer, hub,
                                      "floor")  # fmt: skip
        finally:
            await hub.stop()
            await observer.stop()
        self.reporter.phase("counting the pipeline's records per topic", 0)
        io = await count_io(self.kafka, before, after, self.prefix)
        plan = plan_from_counts(io, n)
        self.reporter.done(
            "pipeline I/O per message: "
            + ", ".join(f"{hop} {v:.2f}" for hop, v in plan.records_per_message.items())
        )
        scaleout = await self._scaleout(n)
        shadow = await self._shadow(plan, drain)
        faststream = await self._faststream(batch)
        inprocess = self._inprocess(notes)
        half = next(lv for lv in levels if lv.share == HALF)
        for level in [*levels, *fixed]:
            if level.achieved_msgs_per_s < 0.95 * level.offered_msgs_per_s:
                notes.append(
                    f"at {level.offered_msgs_per_s:,.1f} msg/s offered the hub kept up with only "
                    f"{level.achieved_msgs_per_s:,.1f} msg/s: a steady stream comes in small "
                    "batches, each with its own transactions"
                )
        drains = (("passthrough", raw), ("pipeline", pipeline), ("shadow", shadow),
                  ("faststream", faststream), ("scale-out", scaleout))  # fmt: skip
        for name, drained in drains:
            if not drained.steady:
                notes.append(
                    f"the {name} drained its messages too fast for a steady rate (its "
                    f"{drained.msgs_per_s:,.1f} msg/s includes starting the worker): the ratio "
                    "is not comparable; use --messages 20000 or more"
                )
        self.tails += [
            f"{name}: {drained.missing} of {n}" for name, drained in drains if drained.missing
        ]
        if self.tails:
            notes.append(
                "some messages never completed (no delivery or dead letter seen for "
                f"{TAIL_WAIT_S:.0f} s after the rest): " + "; ".join(self.tails)
            )
        profile: list[str] = []
        if self.profile:
            profile = await self._profile()
        if not bench_procs.cpu_seconds():
            notes.append("no /proc here: CPU and memory figures are 0")
        return BenchResult(
            messages=n, partitions=self.partitions,
            partner_partitions=self.settings.partner_partitions,
            passthrough=raw, pipeline=pipeline, half_load=half, floor=floor,
            levels=levels if self.report else [], mix=dict(self.kinds),
            hub_mode=self.hub_mode, profile=profile, notes=notes, cpu_count=os.cpu_count() or 0,
            warmup=warmup, shadow=shadow, faststream=faststream, scaleout=scaleout,
            fanout=plan.records_per_message, io={role: c.records for role, c in io.items()},
            inprocess=inprocess, fixed_levels=fixed, python=bench_procs.interpreter(),
        )  # fmt: skip

    async def _drain(
        self,
        what: str,
        worker: Workers,
        observer: Observer,
        n: int,
        party: str,
    ) -> Throughput:
        """Measure ``worker`` draining ``n`` messages; the worker and observer stop after."""
        try:
            self.reporter.phase(what, n)
            return await measure(
                worker, observer, n, self.reporter, lambda: self._cpu_seconds(worker, party)
            )
        finally:
            await worker.stop()
            await observer.stop()

    async def _scaleout(self, n: int) -> Throughput:
        """Two hub processes in one consumer group drain a fresh ``n`` of the mix."""
        self.reporter.phase("scale-out: preloading partner outboxes", n)
        await publish_all(self.kafka, self.outbox(self.mix.messages(n), in_mix=False),
                          self.reporter)  # fmt: skip
        observer = await Observer.start(self.kafka, self.inboxes(), distinct=True)
        hubs = Workers([
            await Worker.spawn(self.hub_args(), self.env(instance=f"-{i}"),
                               self.logs / f"hub-{i}.log")
            for i in (1, 2)
        ])  # fmt: skip
        result = await self._drain("scale-out: two hub processes, one group", hubs, observer,
                                   n, "hub")  # fmt: skip
        self.reporter.done(f"scale-out, two hubs: {result.msgs_per_s:,.1f} msg/s")
        return result

    async def _shadow(self, plan: ShadowPlan, drain: Sequence[tuple[str, bytes]]) -> Throughput:
        """The pipeline's I/O (``plan``) in two transactional hops with no processing."""
        names = self.shadow_names
        n = plan.messages
        self.reporter.phase("shadow: preloading its partner outboxes", n)
        records = [(names.prefix + topic[len(self.prefix) :], value) for topic, value in drain]
        await publish_all(self.kafka, records, self.reporter)
        plan_file = self.logs / "shadow-plan.json"
        plan_file.write_text(plan.model_dump_json(indent=2))
        observer = await Observer.start(
            self.kafka, self.inboxes(names), distinct=False,
            records_per_message=plan.deliveries / plan.messages,
        )  # fmt: skip
        args = [sys.executable, "-m", "hub.tools.bench_kafka", "shadow", str(plan_file),
                names.prefix, "--linger-ms", str(self.settings.batch_linger_ms)]  # fmt: skip
        worker = Workers([await Worker.spawn(args, self.env(names), self.logs / "shadow.log")])
        result = await self._drain("shadow (confluent-kafka, two transactional hops)", worker,
                                   observer, n, SHADOW)  # fmt: skip
        self.reporter.done(f"shadow: {result.msgs_per_s:,.1f} msg/s")
        return result

    async def _faststream(self, batch: Sequence[MixMessage]) -> Throughput:
        """The stage handlers under faststream subscribers, at-least-once, on the same mix."""
        names = self.faststream_names
        n = len(batch)
        self.reporter.phase("faststream: preloading its partner outboxes", n)
        await publish_all(self.kafka, self.outbox(batch, in_mix=False, names=names),
                          self.reporter)  # fmt: skip
        observer = await Observer.start(self.kafka, self.inboxes(names), distinct=True)
        args = [sys.executable, "-m", "hub.tools.bench_faststream"]
        worker = Workers([await Worker.spawn(args, self.env(names), self.logs / "faststream.log")])
        result = await self._drain("faststream reference: stage handlers, at-least-once", worker,
                                   observer, n, FASTSTREAM)  # fmt: skip
        self.reporter.done(f"faststream reference: {result.msgs_per_s:,.1f} msg/s")
        return result

    def _inprocess(self, notes: list[str]) -> dict[str, Any]:
        """The hub's own CPU per message by phase (``bench_inprocess``), no Kafka.

        Its phase pass patches seams that other branches are moving; when it fails, the
        clean total still stands and a note says so.
        """
        count = min(self.messages, INPROCESS_MESSAGES)
        self.reporter.phase(f"in-process cost: {count:,} messages through both handlers", 0)
        try:
            cost = bench_inprocess.measure(count, runs=INPROCESS_RUNS)
        except Exception as exc:  # the phase split only: the total has no seams to patch
            notes.append(f"in-process phases not measured ({type(exc).__name__}): total only")
            cost = bench_inprocess.measure(count, phases=False, runs=INPROCESS_RUNS)
        figures = cost.to_json()
        spread = ", ".join(f"{us:.0f}" for us in figures["inprocess_runs_us"])
        self.reporter.done(
            f"in-process: {figures['inprocess_us_per_msg']:.1f} µs per message (median of {spread})"
        )
        return figures

    def hub_args(self, profile_to: Path | None = None, stage: str = "all") -> list[str]:
        profiler = ["-m", "cProfile", "-o", str(profile_to)] if profile_to else []
        return [sys.executable, *profiler, "-m", "hub", "run", "--metrics-port", "0",
                "--stage", stage]  # fmt: skip

    async def spawn_hub(self) -> Workers:
        if not self.split:
            return Workers([await Worker.spawn(self.hub_args(), self.env(), self.logs / "hub.log")])
        return Workers([
            await Worker.spawn(self.hub_args(stage=stage), self.env(), self.logs / f"{stage}.log")
            for stage in ("ingest", "route")
        ])  # fmt: skip

    @property
    def hub_mode(self) -> str:
        if self.split:
            return "2 subprocesses: python -m hub run --stage ingest, --stage route"
        return "subprocess: python -m hub run"

    async def _passthrough(self, n: int) -> Throughput:
        observer = await Observer.start(self.kafka, [self.raw_out], distinct=False)
        args = [sys.executable, "-m", "hub.tools.bench_kafka", "passthrough",
                self.raw_in, self.raw_out, f"{self.prefix}-passthrough"]  # fmt: skip
        worker = Workers([await Worker.spawn(args, self.env(), self.logs / "passthrough.log")])
        try:
            return await measure(
                worker, observer, n, self.reporter, lambda: self._cpu_seconds(worker, PASSTHROUGH)
            )
        finally:
            await worker.stop()
            await observer.stop()

    async def _level(
        self, rate: float, maximum: float, observer: Observer, hub: Workers, label: str = ""
    ) -> LoadLevel:
        rate = max(rate, 1.0)
        share = rate / maximum
        count = max(20, min(self.messages, round(rate * LOAD_SECONDS)))
        messages = self.outbox(self.mix.messages(count))
        self.reporter.phase(f"latency at {rate:,.0f} msg/s offered ({share:.0%} of maximum)",
                            count)  # fmt: skip
        before, started = self._cpu_seconds(hub), time.monotonic()
        achieved, latency = await offer_load(
            self.kafka, messages, rate, observer, hub, self.reporter
        )
        cores = self._cores_since(before, started, hub)
        if observer.done < count:
            self.tails.append(f"latency at {rate:,.0f} msg/s: {count - observer.done} of {count}")
        self.reporter.done(
            f"latency at {rate:,.0f} msg/s: p50 {latency.p50_ms:.1f} ms, "
            f"p95 {latency.p95_ms:.1f} ms, p99 {latency.p99_ms:.1f} ms"
        )
        return LoadLevel(share, rate, achieved, latency, cores, label)

    async def _warm_up(self) -> WarmUp:
        """Partners publish a steady stream through a hub before anything is measured.

        Otherwise a broker the benchmark has just started (or one that was idle since its
        start) spends the first phases compiling: the figures would be its JIT's, and the
        phases that come first would pay for all of them. The hub of the warm-up stops
        after it; the measured phases start their own, which carries on from its commits.
        """
        observer = await Observer.start(self.kafka, self.inboxes(), distinct=True)
        hub = await self.spawn_hub()
        steps: list[dict[str, float]] = []
        done_s = 0.0
        try:
            while done_s < self.warmup_s:
                seconds = min(WARMUP_STEP_S, self.warmup_s - done_s)
                count = max(1, round(WARMUP_MSGS_PER_S * seconds))
                records = self.outbox(self.mix.messages(count), in_mix=False)
                self.reporter.phase(
                    f"warm-up: {done_s:.0f}-{done_s + seconds:.0f} of {self.warmup_s:.0f} s "
                    f"at {WARMUP_MSGS_PER_S:.0f} msg/s", count,
                )  # fmt: skip
                before, started = self._cpu_seconds(hub), time.monotonic()
                await offer_load(
                    self.kafka, records, WARMUP_MSGS_PER_S, observer, hub, self.reporter
                )
                steps.append(self._cores_since(before, started, hub))
                done_s += seconds
        finally:
            await hub.stop()
            await observer.stop()
        warmup = WarmUp(self.warmup_s, WARMUP_MSGS_PER_S, steps)
        self.reporter.done(warmup_line(warmup.to_json()))
        return warmup

    def _cores_since(
        self, before: dict[str, float], started: float, hub: Workers
    ) -> dict[str, float]:
        """CPU cores each party used since ``before`` was read at ``started``."""
        seconds = max(time.monotonic() - started, 1e-6)
        return {
            party: (used - before[party]) / seconds
            for party, used in self._cpu_seconds(hub).items()
            if party in before
        }

    def _cpu_seconds(self, worker: Workers, name: str = "hub") -> dict[str, float]:
        """CPU seconds so far of the parties sharing the machine (none without ``/proc``).

        ``name``: the party ``worker`` is (the hub, or the passthrough in its drain).
        """
        own = bench_procs.cpu_seconds()
        if not own:
            return {}
        used = {name: worker.cpu_s()}
        if name == "hub" and len(worker.members) == 1:
            used[MAIN_THREAD] = bench_procs.main_thread_cpu_seconds(worker.members[0].pid)
        if self.broker_pid is not None:
            used["broker"] = bench_procs.cpu_seconds(self.broker_pid)
        return used | {"load generator": own}

    async def _profile(self) -> list[str]:
        """Drain more of the mix through a hub running under cProfile; its top functions."""
        count = min(self.messages, PROFILE_MESSAGES)
        self.reporter.phase("profile: preloading", count)
        await publish_all(self.kafka, self.outbox(self.mix.messages(count)), self.reporter)
        stats_file = self.logs / "hub.pstats"
        observer = await Observer.start(self.kafka, self.inboxes(), distinct=True)
        # One process for both stages even with --split: one profile to read, the same code.
        hub = Workers([await Worker.spawn(
            self.hub_args(profile_to=stats_file), self.env(), self.logs / "hub-profiled.log"
        )])  # fmt: skip
        try:
            self.reporter.phase("profile: ingest + route under cProfile", count)
            await measure(hub, observer, count, self.reporter)
        finally:
            await hub.stop()
            await observer.stop()
        if not stats_file.exists():
            return ["(the profiled hub wrote no statistics)"]
        lines = profile_summary(stats_file)
        (self.logs / "profile.txt").write_text("\n".join(lines) + "\n")
        self.reporter.done(f"profile: {stats_file}")
        return lines


async def end_offsets(kafka: KafkaConnection, topics: Sequence[str]) -> dict[Partition, int]:
    """Where each partition of ``topics`` ends now (committed data: the last stable offset)."""
    async with committed_reader(kafka) as reader:
        partitions = await assign_all(reader, topics)
        await reader.pause(partitions)
        return await reader.end_offsets(partitions)


async def count_io(
    kafka: KafkaConnection,
    before: dict[Partition, int],
    after: dict[Partition, int],
    prefix: str,
) -> dict[str, TopicIo]:
    """Records, value and header bytes per topic role between two ``end_offsets`` readings.

    Reads the records (committed only): offsets alone would count transaction markers too.
    """
    counts: dict[str, TopicIo] = {}
    busy = [tp for tp in after if after[tp] > before.get(tp, 0)]
    if not busy:
        return counts
    async with committed_reader(kafka) as reader:
        async for records in read_to_end(reader, busy, stall_s=IDLE_TIMEOUT_S, since=before,
                                         ends=after):  # fmt: skip
            for record in records:
                role = role_of(record.topic, prefix) or record.topic
                headers = sum(len(k) + len(v) for k, v in record.headers)
                counts[role] = counts.get(role, ZERO_IO) + TopicIo(
                    records=1, value_bytes=len(record.value or b""), header_bytes=headers
                )
    return counts


ZERO_IO = TopicIo(records=0, value_bytes=0, header_bytes=0)


def profile_summary(stats_file: Path, top: int = 25) -> list[str]:
    """The functions that cost most, by own time and by cumulative time."""
    lines: list[str] = []
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(str(stats_file), stream=out)
        stats.strip_dirs().sort_stats(order).print_stats(top)
        text = out.getvalue()
        start = text.find("   ncalls")
        lines += [f"-- by {order} --", *text[start:].rstrip().splitlines(), ""]
    return lines


async def wait_for_topics(
    kafka: KafkaConnection, topics: Sequence[str], timeout: float = 60
) -> None:
    """Return once the cluster's metadata lists every topic (just created ones take a moment)."""
    async with committed_reader(kafka) as reader:
        deadline = time.monotonic() + timeout
        missing = list(topics)
        while True:
            missing = [t for t in missing if not await reader.partitions_of(t)]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise BenchError(f"topics not ready after {timeout:.0f} s: {sorted(missing)[:3]}")
            await asyncio.sleep(0.2)


def run_bench(
    settings: Settings,
    *,
    messages: int,
    reporter: Reporter,
    report: Path | None = None,
    profile: bool = False,
    split: bool = False,
    warmup_s: float = WARMUP_SECONDS,
) -> BenchResult:
    run = BenchRun(
        settings, messages, reporter, report=report, profile=profile, split=split,
        warmup_s=warmup_s,
    )  # fmt: skip
    return asyncio.run(run.run())


# Worker entry point: python -m hub.tools.bench restore ...


def _restore_main(topic: str) -> dict[str, Any]:
    import gc

    from hub.stages.state_restore import restore_states

    kafka = resolve_kafka(Settings())
    gc.collect()
    before = bench_procs.memory_mb()
    started = time.perf_counter()
    states = asyncio.run(restore_states(kafka, topic))
    seconds = time.perf_counter() - started
    gc.collect()
    return {
        "restored": len(states),
        "restore_s": seconds,
        "rss_before_mb": before,
        "rss_after_mb": bench_procs.memory_mb(),
        "peak_rss_mb": bench_procs.peak_rss_mb(),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hub.tools.bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    restore = commands.add_parser("restore", help="restore router state; print figures as JSON")
    restore.add_argument("topic")
    restore.add_argument("--profile", type=Path, help="write cProfile statistics here")
    args = parser.parse_args(argv)
    if args.command == "restore":
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        figures = _restore_main(args.topic)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
