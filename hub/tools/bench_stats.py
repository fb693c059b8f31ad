"""Statistics and reports of ``ketenhub bench``: pure functions over what a run measured.

Nothing here talks to Kafka, so the numbers a report shows are testable on their own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIN_WINDOW_S = 1.0
STEADY_FROM = 0.10
"""Throughput counts from the moment 10 % of the messages were done: startup (imports,
group join, the first transaction) is not the steady state being compared."""


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation between closest ranks.

    Same definition as numpy's default and as the spreadsheet PERCENTILE function.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


TAIL_SHARE = 0.995
TAIL_WAIT_S = 15.0
"""A drain whose last half per cent has not come for this long is over: the rest never
completes (seen: 12 of 5,000 messages without any delivery on a loaded machine), and the
run goes on with a note instead of failing or waiting a minute per phase."""


def tail_missing(done: int, total: int, idle_s: float) -> bool:
    """True when the drain is done but for a tail that is not coming (see ``TAIL_SHARE``)."""
    return done >= TAIL_SHARE * total and idle_s > TAIL_WAIT_S


def ratio(part: float, whole: float) -> float:
    """``part / whole``; 0 when there is no whole to compare with."""
    return part / whole if whole > 0 else 0.0


@dataclass(frozen=True)
class Progress:
    """One observation: at ``at`` (seconds), ``done`` messages were complete and the worker
    process had used ``cpu_s`` CPU seconds."""

    at: float
    done: int
    cpu_s: float
    parties: dict[str, float] = field(default_factory=dict)
    """CPU seconds so far of every party sharing the machine (the worker included)."""


@dataclass(frozen=True)
class Throughput:
    messages: int
    seconds: float
    msgs_per_s: float
    cpu_s_per_1000: float
    peak_rss_mb: float
    cores: dict[str, float] = field(default_factory=dict)
    """CPU cores each party used in the steady window: the broker works for the worker too,
    on the same cores, so what a message costs the machine is the sum."""

    steady: bool = True
    """False: the drain was too short to measure apart from the worker's startup."""
    missing: int = 0
    """Messages that never completed (``tail_missing``); the rate is of the others."""

    def party_cpu_s_per_1000(self, party: str) -> float:
        """CPU seconds ``party`` spent per 1,000 messages of this drain (0: not measured)."""
        return 1000 * self.cores.get(party, 0.0) / self.msgs_per_s if self.msgs_per_s else 0.0

    @classmethod
    def of(
        cls, samples: Sequence[Progress], total: int, peak_rss_mb: float, start: Progress
    ) -> Throughput:
        """Steady throughput from progress samples (ordered by time) of ``total`` messages.

        Counts from the first sample at or past ``STEADY_FROM`` of the total to the last one.
        A drain too short for that (done in a few polls, or in under ``MIN_WINDOW_S``) counts
        from ``start`` (the worker's spawn) instead and is marked not ``steady``: its rate then
        includes the worker's startup, and says less than it seems to.
        """
        if not samples or samples[-1].done <= 0:
            raise ValueError("no message was processed")
        last = samples[-1]
        first = next((s for s in samples if s.done >= total * STEADY_FROM), samples[0])
        window = [s for s in samples if s.at >= first.at]
        steady = not (
            first.done >= last.done or last.at - first.at < MIN_WINDOW_S or len(window) < 3
        )
        if not steady:
            first = start
        messages = last.done - first.done
        seconds = max(last.at - first.at, 1e-6)
        cpu = max(last.cpu_s - first.cpu_s, 0.0)
        if cpu <= 0.0:  # /proc counts CPU in clock ticks; a short window can show none
            cpu, messages_for_cpu = last.cpu_s, last.done
        else:
            messages_for_cpu = messages
        return cls(
            messages=messages,
            seconds=seconds,
            msgs_per_s=messages / seconds,
            cpu_s_per_1000=1000 * cpu / max(messages_for_cpu, 1),
            peak_rss_mb=peak_rss_mb,
            cores={
                party: max(used - first.parties[party], 0.0) / seconds
                for party, used in last.parties.items()
                if party in first.parties
            },
            steady=steady,
        )


@dataclass(frozen=True)
class Latency:
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, values_ms: Sequence[float]) -> Latency:
        if not values_ms:
            raise ValueError("no latency was measured")
        return cls(
            count=len(values_ms),
            p50_ms=percentile(values_ms, 50),
            p95_ms=percentile(values_ms, 95),
            p99_ms=percentile(values_ms, 99),
            max_ms=max(values_ms),
        )


def rounded_cores(cores: dict[str, float]) -> dict[str, float]:
    return {party: round(share, 2) for party, share in cores.items()}


@dataclass(frozen=True)
class LoadLevel:
    """End-to-end latency while partners offer a steady ``offered_msgs_per_s``."""

    share: float
    """Of the pipeline's measured maximum."""
    offered_msgs_per_s: float
    achieved_msgs_per_s: float
    latency: Latency
    cores: dict[str, float] = field(default_factory=dict)
    """CPU cores each party used meanwhile (hub, broker when it is the local one, load
    generator): on a small machine they share, the hub's latency is also theirs."""
    label: str = ""
    """Its key in the JSON's ``latency_at``: ``30``, ``300`` (msg/s), ``half``, ``floor``."""

    def cores_json(self) -> dict[str, float]:
        return rounded_cores(self.cores)

    def to_json(self) -> dict[str, Any]:
        return {
            "share": round(self.share, 4),
            "offered_msgs_per_s": round(self.offered_msgs_per_s, 1),
            "achieved_msgs_per_s": round(self.achieved_msgs_per_s, 1),
            "p50_ms": round(self.latency.p50_ms, 2),
            "p95_ms": round(self.latency.p95_ms, 2),
            "p99_ms": round(self.latency.p99_ms, 2),
            "max_ms": round(self.latency.max_ms, 2),
            "count": self.latency.count,
            "cores": self.cores_json(),
        }


PARTIES = ("hub", "broker", "load generator")
"""Whose CPU a load level reads (the broker's only when it is the local one)."""
PASSTHROUGH = "passthrough"
"""The party that is the worker in the passthrough's drain."""
MAIN_THREAD = "hub main thread"
"""Part of the hub's CPU, not a party of its own: the thread its Python runs on."""
SHADOW = "shadow"
FASTSTREAM = "faststream"


@dataclass(frozen=True)
class WarmUp:
    """The steady load run before anything is measured, and the cores it took step by step.

    A freshly started broker's JVM compiles its hot code during its first minute or so under
    load and then needs far less CPU for the same work: the first and last steps show it.
    """

    seconds: float
    msgs_per_s: float
    steps: list[dict[str, float]] = field(default_factory=list)
    """CPU cores per party in each step, in order."""

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "msgs_per_s": self.msgs_per_s,
            "first_step_cores": rounded_cores(self.steps[0]) if self.steps else {},
            "last_step_cores": rounded_cores(self.steps[-1]) if self.steps else {},
        }


@dataclass
class BenchResult:
    messages: int
    partitions: int
    """Of the hub's own topics and of the passthrough's two."""
    partner_partitions: int
    passthrough: Throughput
    pipeline: Throughput
    half_load: LoadLevel
    floor: LoadLevel | None = None
    """Latency at a trickle (``FLOOR_MSGS_PER_S``): what no load adds to."""
    levels: list[LoadLevel] = field(default_factory=list)
    mix: dict[str, int] = field(default_factory=dict)
    hub_mode: str = "subprocess: python -m hub run"
    profile: list[str] = field(default_factory=list)
    """Top lines of the pipeline profile, when one was taken."""
    notes: list[str] = field(default_factory=list)
    cpu_count: int = 0
    warmup: WarmUp | None = None
    """None: measured without one (``--warmup 0``)."""
    shadow: Throughput | None = None
    """The pipeline's own I/O in two transactional hops, no processing: its Kafka ceiling."""
    faststream: Throughput | None = None
    """The same stage handlers under faststream subscribers, at-least-once."""
    scaleout: Throughput | None = None
    """Two hub processes in one consumer group (``pipeline`` is the one-process figure)."""
    fanout: dict[str, float] = field(default_factory=dict)
    """Records the pipeline wrote per message (ingest, route, total), which the shadow copies."""
    io: dict[str, int] = field(default_factory=dict)
    """Records the pipeline wrote per topic role during its drain."""
    inprocess: dict[str, Any] = field(default_factory=dict)
    """``bench_inprocess``'s figures (``inprocess_us_per_msg``, ``inprocess_phases_us``)."""
    fixed_levels: list[LoadLevel] = field(default_factory=list)
    """Latency at fixed offered loads (30 and 300 msg/s)."""
    python: str = ""
    """The interpreter every part of the run used (``bench_procs.interpreter``)."""

    @property
    def ratio(self) -> float:
        return ratio(self.pipeline.msgs_per_s, self.passthrough.msgs_per_s)

    def kafka_client_us_per_msg(self) -> float:
        """What the Kafka client costs per message for exactly the pipeline's I/O: the shadow
        process's own CPU (librdkafka and its Python calls, both hops), 0 when not measured."""
        return 1000 * self.shadow.cpu_s_per_1000 if self.shadow else 0.0

    def comparisons_json(self) -> dict[str, Any]:
        """The like-with-like figures of issue 19: shadow, faststream, in-process, scale-out."""
        pipeline = self.pipeline.msgs_per_s
        shadow = self.shadow.msgs_per_s if self.shadow else 0.0
        faststream = self.faststream.msgs_per_s if self.faststream else 0.0
        two = self.scaleout.msgs_per_s if self.scaleout else 0.0
        phases = dict(self.inprocess.get("inprocess_phases_us") or {})
        if self.shadow:
            phases["kafka_client"] = round(self.kafka_client_us_per_msg(), 1)
        return {
            "shadow_msgs_per_s": round(shadow, 1),
            "faststream_msgs_per_s": round(faststream, 1),
            "ratio_to_shadow": round(ratio(pipeline, shadow), 4),
            "ratio_to_faststream": round(ratio(pipeline, faststream), 4),
            "inprocess_us_per_msg": self.inprocess.get("inprocess_us_per_msg", 0.0),
            "inprocess_runs_us": list(self.inprocess.get("inprocess_runs_us") or []),
            "inprocess_phases_us": phases,
            "kafka_client_us_per_msg": round(self.kafka_client_us_per_msg(), 1),
            "hub_cpu_us_per_msg": round(1000 * self.pipeline.cpu_s_per_1000, 1),
            "scaleout_msgs_per_s": {"1": round(pipeline, 1), "2": round(two, 1)},
            "scaleout_ratio": round(ratio(two, pipeline), 3),
            "latency_at": {lv.label: lv.to_json() for lv in self.labelled_levels()},
            "fanout_records_per_msg": dict(self.fanout),
            "pipeline_io_records": dict(self.io),
            "shadow_cpu_s_per_1000": round(self.shadow.cpu_s_per_1000, 3) if self.shadow else 0,
            "faststream_cpu_s_per_1000": (
                round(self.faststream.cpu_s_per_1000, 3) if self.faststream else 0
            ),
            "faststream_peak_rss_mb": (
                round(self.faststream.peak_rss_mb, 1) if self.faststream else 0
            ),
            "scaleout_peak_rss_mb": round(self.scaleout.peak_rss_mb, 1) if self.scaleout else 0,
        }

    def labelled_levels(self) -> list[LoadLevel]:
        """The fixed loads, half load and the floor, each under its label, low to high."""
        levels = [*self.fixed_levels, self.half_load, *([self.floor] if self.floor else [])]
        return sorted((lv for lv in levels if lv.label), key=lambda lv: lv.offered_msgs_per_s)

    def to_json(self) -> dict[str, Any]:
        """One flat object with the headline figures first, details after."""
        half = self.half_load
        return {
            "messages": self.messages,
            "passthrough_msgs_per_s": round(self.passthrough.msgs_per_s, 1),
            "pipeline_msgs_per_s": round(self.pipeline.msgs_per_s, 1),
            "ratio": round(self.ratio, 4),
            **self.comparisons_json(),
            "offered_msgs_per_s": round(half.offered_msgs_per_s, 1),
            "p50_ms": round(half.latency.p50_ms, 2),
            "p95_ms": round(half.latency.p95_ms, 2),
            "p99_ms": round(half.latency.p99_ms, 2),
            **self._floor_json(),
            "half_load_cores": half.cores_json(),
            "cpu_count": self.cpu_count,
            "python": self.python,
            "warmup": self.warmup.to_json() if self.warmup else None,
            "peak_rss_mb": round(self.pipeline.peak_rss_mb, 1),
            "cpu_s_per_1000": round(self.pipeline.cpu_s_per_1000, 3),
            "passthrough_cpu_s_per_1000": round(self.passthrough.cpu_s_per_1000, 3),
            "passthrough_peak_rss_mb": round(self.passthrough.peak_rss_mb, 1),
            "drain_cores": {
                "passthrough": rounded_cores(self.passthrough.cores),
                "pipeline": rounded_cores(self.pipeline.cores),
            },
            "broker_cpu_s_per_1000": {
                name: round(drain.party_cpu_s_per_1000("broker"), 3)
                if "broker" in drain.cores
                else None  # a broker not on this machine (KETENHUB_BOOTSTRAP): not measured
                for name, drain in (("passthrough", self.passthrough), ("pipeline", self.pipeline))
            },
            "partitions": self.partitions,
            "partner_partitions": self.partner_partitions,
            "hub": self.hub_mode,
            "mix": dict(self.mix),
            "load_levels": [level.to_json() for level in self.all_levels()],
            "notes": list(self.notes),
        }

    def all_levels(self) -> list[LoadLevel]:
        """Every offered load measured, the floor included, from low to high."""
        levels = [
            *(self.levels or [self.half_load]), *self.fixed_levels,
            *([self.floor] if self.floor else []),
        ]  # fmt: skip
        return sorted(levels, key=lambda level: level.offered_msgs_per_s)

    def _floor_json(self) -> dict[str, float]:
        if self.floor is None:
            return {}
        return {
            "floor_offered_msgs_per_s": round(self.floor.offered_msgs_per_s, 1),
            "floor_p50_ms": round(self.floor.latency.p50_ms, 2),
            "floor_p99_ms": round(self.floor.latency.p99_ms, 2),
        }


@dataclass(frozen=True)
class StateResult:
    households: int
    record_bytes: float
    """Average size of one state record on the topic."""
    write_s: float
    restore_s: float
    rss_before_mb: float
    rss_after_mb: float
    peak_rss_mb: float
    restored: int

    @property
    def bytes_per_household(self) -> float:
        grown = (self.rss_after_mb - self.rss_before_mb) * 1024 * 1024
        return grown / self.households if self.households else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "households": self.households,
            "restored": self.restored,
            "record_bytes": round(self.record_bytes, 1),
            "write_s": round(self.write_s, 2),
            "restore_s": round(self.restore_s, 2),
            "restore_households_per_s": round(ratio(self.restored, self.restore_s), 1),
            "rss_before_mb": round(self.rss_before_mb, 1),
            "rss_after_mb": round(self.rss_after_mb, 1),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "bytes_per_household": round(self.bytes_per_household, 1),
        }


def summary_lines(result: BenchResult) -> list[str]:
    """The figures in a few lines, for the terminal and the report."""
    j = result.to_json()
    fan = j["fanout_records_per_msg"]
    return [
        f"raw passthrough   {j['passthrough_msgs_per_s']:>10,.1f} msg/s   (a 1:1 copy)",
        f"shadow            {j['shadow_msgs_per_s']:>10,.1f} msg/s   (the pipeline's I/O, "
        f"{fan.get('total', 0):.2f} records per message, two transactional hops, no processing)",
        f"full pipeline     {j['pipeline_msgs_per_s']:>10,.1f} msg/s   "
        f"({j['ratio_to_shadow']:.2f} x shadow, {j['ratio']:.3f} x passthrough)",
        f"faststream ref.   {j['faststream_msgs_per_s']:>10,.1f} msg/s   (same handlers, "
        f"at-least-once; pipeline {j['ratio_to_faststream']:.2f} x it)",
        f"scale-out         {j['scaleout_msgs_per_s']['2']:>10,.1f} msg/s   with two hub "
        f"processes in one group ({j['scaleout_ratio']:.2f} x one)",
        *(latency_line(label, level) for label, level in j["latency_at"].items()),
        f"hub process       {j['cpu_s_per_1000']:.3f} CPU s per 1,000 messages, "
        f"peak RSS {j['peak_rss_mb']:.1f} MB",
        inprocess_line(j),
        *([cores_line(j["half_load_cores"], j["cpu_count"])] if j["half_load_cores"] else []),
        *drain_lines(j),
        f"python            {j['python'] or '?'}",
        warmup_line(j["warmup"]),
    ]


def latency_line(label: str, level: dict[str, Any]) -> str:
    what = {"half": " (half the pipeline's maximum)", "floor": " (a trickle, no queueing)"}
    return (
        f"latency at {level['offered_msgs_per_s']:,.1f} msg/s{what.get(label, '')}: "
        f"p50 {level['p50_ms']:.1f} ms, p95 {level['p95_ms']:.1f} ms, p99 {level['p99_ms']:.1f} ms"
        + (
            f" (kept up with {level['achieved_msgs_per_s']:,.1f})"
            if level["achieved_msgs_per_s"] < 0.95 * level["offered_msgs_per_s"]
            else ""
        )
    )


def inprocess_line(j: dict[str, Any]) -> str:
    """Where the hub's CPU per message goes: its own code by phase, the Kafka client, the rest."""
    phases = ", ".join(f"{name} {us:.0f}" for name, us in j["inprocess_phases_us"].items())
    runs = j.get("inprocess_runs_us") or []
    detail = [f"median of {', '.join(f'{us:.0f}' for us in runs)}"] if len(runs) > 1 else []
    detail += [phases] if phases else []
    return (
        f"per message       hub process {j['hub_cpu_us_per_msg']:.0f} µs CPU; in-process "
        f"{j['inprocess_us_per_msg']:.0f} µs" + (f" ({'; '.join(detail)})" if detail else "")
    )


def drain_lines(j: dict[str, Any]) -> list[str]:
    """Who used the machine while each worker drained, and the broker's cost per message:
    the pipeline's records cost the broker too, on the cores the hub runs on."""
    drains = j["drain_cores"]
    if not any(drains.values()):
        return []
    used = "; ".join(
        f"{drain}: " + ", ".join(f"{party} {share:.2f}" for party, share in cores.items())
        for drain, cores in drains.items()
        if cores
    )
    lines = [f"CPU in the drains {used} (cores)"]
    broker = j["broker_cpu_s_per_1000"]
    if broker["pipeline"]:
        lines.append(
            f"broker            {broker['passthrough']:.3f} CPU s per 1,000 messages of the "
            f"passthrough, {broker['pipeline']:.3f} of the pipeline"
        )
    return lines


def warmup_line(warmup: dict[str, Any] | None) -> str:
    """What ran before the figures above, and what it changed (the broker's JIT, mostly)."""
    if warmup is None:
        return "no warm-up: a freshly started broker's first minute is in the figures"
    first, last = warmup["first_step_cores"], warmup["last_step_cores"]
    change = ", ".join(
        f"{party} {first[party]:.2f} -> {last[party]:.2f}" for party in first if party in last
    )
    return f"warmed up first   {warmup['seconds']:.0f} s at {warmup['msgs_per_s']:,.0f} msg/s" + (
        f"; cores in its first and last step: {change}" if change else ""
    )


def cores_line(cores: dict[str, float], cpu_count: int) -> str:
    """Who used the machine at half load: on a small one the hub shares it with the rest."""
    used = ", ".join(f"{party} {share:.2f}" for party, share in cores.items())
    return f"CPU at half load  {used} (cores, of {cpu_count or '?'})"


def write_report(result: BenchResult, directory: Path) -> list[Path]:
    """``report.md``, ``result.json`` and ``latency.png`` (latency against offered load)."""
    import json

    directory.mkdir(parents=True, exist_ok=True)
    plot = directory / "latency.png"
    plot_latency(result.all_levels(), result.pipeline.msgs_per_s, plot)
    data = result.to_json()
    (directory / "result.json").write_text(json.dumps(data, indent=2) + "\n")
    lines = [
        "# ketenhub benchmark",
        "",
        f"{result.messages:,} messages of the realistic mix, on one broker: "
        f"{result.partitions} partitions per hub topic and in the passthrough's topics, "
        f"{result.partner_partitions} per partner topic. The hub ran as {result.hub_mode}.",
        "",
        "```",
        *summary_lines(result),
        "```",
        "",
        "| | raw passthrough | full pipeline |",
        "|---|---:|---:|",
        f"| messages/s | {result.passthrough.msgs_per_s:,.1f} | "
        f"{result.pipeline.msgs_per_s:,.1f} |",
        f"| CPU s per 1,000 messages | {result.passthrough.cpu_s_per_1000:.3f} | "
        f"{result.pipeline.cpu_s_per_1000:.3f} |",
        f"| peak RSS (MB) | {result.passthrough.peak_rss_mb:.1f} | "
        f"{result.pipeline.peak_rss_mb:.1f} |",
        *(
            [
                f"| broker CPU s per 1,000 messages | "
                f"{result.passthrough.party_cpu_s_per_1000('broker'):.3f} | "
                f"{result.pipeline.party_cpu_s_per_1000('broker'):.3f} |"
            ]
            if "broker" in result.pipeline.cores
            else []
        ),
        "",
        "## Latency against offered load",
        "",
        "Partner publish time (the record's timestamp, carried to `kh-sent-at`) to the moment the "
        "delivery is committed and readable in the recipient's inbox.",
        "",
        "![latency against offered load](latency.png)",
        "",
        "| offered (msg/s) | share of max | achieved (msg/s) | p50 ms | p95 ms | p99 ms | max ms "
        "| CPU cores: hub / broker / load generator |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
        *(
            f"| {lv.offered_msgs_per_s:,.1f} | {lv.share:.2f} | {lv.achieved_msgs_per_s:,.1f} | "
            f"{lv.latency.p50_ms:.1f} | {lv.latency.p95_ms:.1f} | {lv.latency.p99_ms:.1f} | "
            f"{lv.latency.max_ms:.1f} | "
            f"{' / '.join(f'{lv.cores[p]:.2f}' if p in lv.cores else '-' for p in PARTIES)} |"
            for lv in result.all_levels()
        ),
        "",
        "## Message mix",
        "",
        "| kind | messages |",
        "|---|---:|",
        *(f"| {kind} | {count:,} |" for kind, count in sorted(result.mix.items())),
    ]
    if result.profile:
        lines += ["", "## Profile of the hub process", "", "```", *result.profile, "```"]
    if result.notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in result.notes)]
    report = directory / "report.md"
    report.write_text("\n".join(lines) + "\n")
    return [report, directory / "result.json", plot]


def plot_latency(levels: Sequence[LoadLevel], maximum: float, path: Path) -> None:
    """A PNG of p50/p95/p99 latency against offered load (needs the ``bench`` extra)."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError(
            "the report's plot needs matplotlib: pip install 'ketenhub[bench]'"
        ) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ordered = sorted(levels, key=lambda lv: lv.offered_msgs_per_s)
    offered = [lv.offered_msgs_per_s for lv in ordered]
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
    for name, values in (
        ("p50", [lv.latency.p50_ms for lv in ordered]),
        ("p95", [lv.latency.p95_ms for lv in ordered]),
        ("p99", [lv.latency.p99_ms for lv in ordered]),
    ):
        axes.plot(offered, values, marker="o", label=name)
    axes.axvline(maximum, color="grey", linestyle="--", linewidth=1, label="measured maximum")
    axes.set_xlabel("offered load (messages/s)")
    axes.set_ylabel("end-to-end latency (ms)")
    axes.set_title("ketenhub: latency against offered load")
    axes.set_xlim(left=0)
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
