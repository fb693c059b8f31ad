"""The hub's own CPU cost per message, both stages in one thread, no Kafka.

Builds ``InRecord``s from the bench mix, runs ingest's handler on each, feeds its canonical
record to route's handler and times the lot with the thread's CPU clock: what the stages'
own code costs, without any Kafka client. A second, instrumented pass splits that cost by
phase: each phase's seam is wrapped for the pass (and restored after it), and time spent in
a phase nested inside another counts for the inner one only. The wrappers cost a little
themselves, so the phases come from their own pass and the total from the clean one.

Run it as ``python -m hub.tools.bench_inprocess [N] [--profile FILE]``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import logging
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import structlog

from adapters.registry import AdapterRegistry, load_adapters
from hub.context import HubContext
from hub.heap import keep_heap_frozen, settle_heap
from hub.kafka.connection import KafkaConnection
from hub.kafka.topics import TopicNames
from hub.settings import DEFAULTS, Settings
from hub.stages.ingest import IngestStage
from hub.stages.pseudonyms import Pseudonymiser
from hub.stages.records import InRecord
from hub.stages.route import RouteStage
from hub.stages.state_store import StateStore
from hub.tools.bench_mix import BenchMix
from observability.metrics import HubMetrics
from routing.policy import Policy
from routing.state import HouseholdState
from schemas.partners import PartnerRegistry

WARMUP = 500
"""Messages run before the clock starts: the first of each shape fill the hub's caches."""
PHASES = (
    "decode",
    "validation",
    "pseudonyms",
    "envelope",
    "decide",
    "encode",
    "audit_state",
    "metrics",
    "other",
)
"""``other``: the stages' own glue (records, headers, the household table, ids)."""


@dataclass(frozen=True)
class InprocessCost:
    """CPU microseconds per message of both stages' own code (ingest + route)."""

    messages: int
    us_per_msg: float
    phases_us: dict[str, float] = field(default_factory=dict)
    runs_us: tuple[float, ...] = ()
    """Each clean run's figure, when there were several: ``us_per_msg`` is their median."""

    def to_json(self) -> dict[str, Any]:
        return {
            "inprocess_us_per_msg": round(self.us_per_msg, 1),
            "inprocess_phases_us": {k: round(v, 1) for k, v in self.phases_us.items()},
            "inprocess_messages": self.messages,
            "inprocess_runs_us": [round(us, 1) for us in self.runs_us or (self.us_per_msg,)],
        }


@dataclass
class _Pipeline:
    ingest: IngestStage
    route: RouteStage
    records: list[InRecord]

    def run(self, records: list[InRecord]) -> None:
        canonical = self.ingest.ctx.names.canonical
        for record in records:
            for out in self.ingest.handle(record):
                if out.topic == canonical:
                    self.route.handle(
                        InRecord(out.topic, 0, record.offset, out.value, out.key, out.headers,
                                 out.timestamp_ms or 0)
                    )  # fmt: skip
            self.ingest.batch_committed()
            self.route.batch_committed()


def bench_context(adapters: AdapterRegistry | None = None) -> HubContext:
    """The default partners and policy, topics of prefix ``bench``, a fixed pseudonym key."""
    return HubContext(
        settings=Settings(bootstrap="unused:9092"),
        kafka=KafkaConnection("unused:9092"),
        names=TopicNames("bench"),
        registry=PartnerRegistry.from_toml(DEFAULTS / "partners.toml"),
        policy=Policy.from_toml(DEFAULTS / "policy.toml"),
        adapters=adapters or load_adapters(),
        pseudonyms=Pseudonymiser(b"bench-key"),
    )


def _pipeline(n: int, warmup: int, trusted: bool = True) -> _Pipeline:
    adapters = load_adapters()
    if not trusted:  # as if every adapter were a third party's: ingest validates it all
        adapters = AdapterRegistry(adapters.adapters)
    ctx = bench_context(adapters)
    mix = BenchMix(ctx.registry)
    now_ms = int(time.time() * 1000)
    records = [
        InRecord(ctx.names.partner_out(m.sender.id), 0, offset, m.payload, None, [], now_ms)
        for offset, m in enumerate(mix.messages(warmup + n))
    ]
    metrics = HubMetrics()
    # Router state in the store ``hub run`` restores it into, not a plain dict.
    route = RouteStage(ctx, metrics, StateStore())
    return _Pipeline(IngestStage(ctx, metrics), route, records)


def measure(
    n: int = 5_000,
    *,
    warmup: int = WARMUP,
    phases: bool = True,
    trusted: bool = True,
    runs: int = 1,
) -> InprocessCost:
    """Run ``warmup`` messages, then time ``n`` more; with ``phases`` also split by phase.

    ``runs`` times, each on fresh stages, the figure being their median: on a shared VM
    the CPU clock of the same code read 264 and 377 µs in runs back to back, so one run
    alone says little. ``trusted=False`` treats the built-in adapters as a third party's,
    whose every Bundle ingest validates: what run-time validation would cost if the proofs
    did not exist.
    """
    if n < 1 or runs < 1:
        raise ValueError("n and runs must be at least 1")
    with hub_logging():
        return _measure(n, warmup, phases, trusted, runs)


@contextlib.contextmanager
def hub_logging() -> Iterator[None]:
    """Log as ``ketenhub run`` does (INFO, JSON), to nowhere; the caller's logging after."""
    saved = structlog.get_config()
    with open(os.devnull, "w") as sink:
        structlog.configure(
            processors=[
                structlog.contextvars.merge_contextvars,
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.JSONRenderer(),
            ],
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
            logger_factory=structlog.PrintLoggerFactory(file=sink),
            cache_logger_on_first_use=False,
        )
        # ``ketenhub run`` caches each module's logger on first use; so does this, for the
        # stages' own loggers, and only while it measures.
        import hub.stages.ingest as ingest_module
        import hub.stages.route as route_module

        modules = (ingest_module, route_module)
        lazy = [vars(module)["log"] for module in modules]
        for module in modules:
            setattr(module, "log", structlog.get_logger(module.__name__).bind())  # noqa: B010
        try:
            yield
        finally:
            for module, logger in zip(modules, lazy, strict=True):
                setattr(module, "log", logger)  # noqa: B010
            structlog.configure(**saved)


@contextlib.contextmanager
def heap_as_in_hub_run() -> Iterator[None]:
    """The collector as ``hub run`` keeps it (``hub.heap``): what lives now is frozen, and
    what survives a full collection from then on. Without it a full collection walked the
    whole host process: in ``ketenhub bench``, whose heap holds the observers' figures, or
    beside a million other objects, where the same messages cost 247-250 against 217-230 µs
    frozen. Afterwards the process's collector is as it was, nothing frozen."""
    settle_heap()
    thaw = keep_heap_frozen()
    try:
        yield
    finally:
        thaw()
        gc.unfreeze()


def warmed(n: int, warmup: int = WARMUP, trusted: bool = True) -> tuple[_Pipeline, list[InRecord]]:
    """Both stages after ``warmup`` messages, and the ``n`` bench-mix records to measure."""
    pipeline = _pipeline(n, warmup, trusted)
    pipeline.run(pipeline.records[:warmup])
    return pipeline, pipeline.records[warmup:]


def _measure(n: int, warmup: int, phases: bool, trusted: bool, runs: int) -> InprocessCost:
    totals = []
    for _ in range(runs):
        pipeline, measured = warmed(n, warmup, trusted)
        with heap_as_in_hub_run():
            start = time.thread_time_ns()
            pipeline.run(measured)
            totals.append((time.thread_time_ns() - start) / 1000 / n)
    total_us = statistics.median(totals)
    runs_us = tuple(totals) if runs > 1 else ()
    if not phases:
        return InprocessCost(n, total_us, runs_us=runs_us)
    again, measured = warmed(n, warmup, trusted)
    clock = _PhaseClock()
    with heap_as_in_hub_run(), _instrumented(again, clock):
        clock.enter("other")
        again.run(measured)
        clock.leave()
    split = {phase: clock.spent_ns.get(phase, 0) / 1000 / n for phase in PHASES}
    # Scale to the clean run's total: the wrappers' own cost is spread over the phases.
    instrumented_us = sum(split.values())
    scale = total_us / instrumented_us if instrumented_us else 1.0
    return InprocessCost(n, total_us, {k: v * scale for k, v in split.items()}, runs_us)


class _PhaseClock:
    """Exclusive time per phase: entering a phase pauses the one it is nested in.

    Reads the monotonic clock (a vDSO call, ~50 ns) rather than the thread's CPU clock (a
    system call, ~10 times dearer), so the wrappers disturb little; the split is scaled to
    the clean pass's CPU total afterwards.
    """

    def __init__(self) -> None:
        self.spent_ns: dict[str, int] = {}
        self._stack: list[str] = []
        self._since = 0

    def enter(self, phase: str) -> None:
        now = time.perf_counter_ns()
        if self._stack:
            top = self._stack[-1]
            self.spent_ns[top] = self.spent_ns.get(top, 0) + now - self._since
        self._stack.append(phase)
        self._since = now

    def leave(self) -> None:
        now = time.perf_counter_ns()
        top = self._stack.pop()
        self.spent_ns[top] = self.spent_ns.get(top, 0) + now - self._since
        self._since = now


def _timed(clock: _PhaseClock, phase: str, func: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        clock.enter(phase)
        try:
            return func(*args, **kwargs)
        finally:
            clock.leave()

    return timed


_PACKAGES = ("hub", "routing", "observability", "schemas", "adapters")
"""The project's own packages: where a wrapped function's importers are looked for."""


def _importers(func: object) -> list[tuple[object, str]]:
    """Every (module, name) of the project that holds ``func``: the function's own module
    and each one that imported it, so a seam is wrapped wherever the stages call it from."""
    return [
        (module, name)
        for module in list(sys.modules.values())
        if module is not None and module.__name__.split(".")[0] in _PACKAGES
        for name, value in list(vars(module).items())
        if value is func
    ]


def _seams(pipeline: _Pipeline) -> list[tuple[object, str, str]]:
    """(owner, attribute, phase) of every seam; functions by their home, found everywhere."""
    from prometheus_client.metrics import Counter

    import observability.audit as audit_module
    import schemas.fhir as fhir_module
    from observability import metrics as metrics_module
    from routing.decide import decide
    from routing.households import absorb, split
    from routing.minimise import minimise
    from schemas.envelope import RoutingEnvelope, envelope_headers

    functions: list[tuple[object, str]] = [
        (fhir_module.validate_bundle, "validation"),
        (decide, "decide"),
        (absorb, "decide"),
        (split, "decide"),
        (minimise, "encode"),
        (fhir_module.response_bundle, "encode"),
        (fhir_module.notification_bundle, "encode"),
        (audit_module.from_route, "audit_state"),
        (audit_module.route_records_json, "audit_state"),
        (envelope_headers, "envelope"),
    ]
    seams: list[tuple[object, str, str]] = [
        (owner, name, phase) for func, phase in functions for owner, name in _importers(func)
    ]
    seams += [
        (fhir_module._BUNDLES, "validate", "validation"),
        (Pseudonymiser, "child", "pseudonyms"),
        (Pseudonymiser, "household_of", "pseudonyms"),
        (RoutingEnvelope, "from_headers", "envelope"),
        (HouseholdState, "model_dump_json", "audit_state"),
        (audit_module.LogboekRecord, "to_json", "audit_state"),
        (metrics_module._CachedLabels, "labels", "metrics"),
        (metrics_module.HubMetrics, "observe_decision", "metrics"),
        (metrics_module.HubMetrics, "delivered", "metrics"),
        (Counter, "inc", "metrics"),
    ]
    for adapter in pipeline.ingest.ctx.adapters.adapters.values():
        seams.append((adapter, "decode", "decode"))
        seams.append((adapter, "encode", "encode"))
    return seams


@contextlib.contextmanager
def _instrumented(pipeline: _Pipeline, clock: _PhaseClock) -> Iterator[None]:
    """Wrap each phase's seam for the pass; every wrapped attribute is restored after."""
    saved: list[tuple[object, str, bool, Any]] = []
    try:
        for owner, attr, phase in _seams(pipeline):
            own = attr in vars(owner)
            original = vars(owner)[attr] if own else None
            if isinstance(original, classmethod):
                wrapped: Any = classmethod(_timed(clock, phase, original.__func__))
            else:  # a function of a module or class (inherited too), an instance's method
                wrapped = _timed(clock, phase, getattr(owner, attr))
            saved.append((owner, attr, own, original))
            _set(owner, attr, wrapped)
        yield
    finally:
        for owner, attr, own, original in reversed(saved):
            if own:
                _set(owner, attr, original)
            elif isinstance(owner, type):
                type.__delattr__(owner, attr)
            else:
                object.__delattr__(owner, attr)


def _set(owner: object, attr: str, value: Any) -> None:
    if isinstance(owner, type):
        type.__setattr__(owner, attr, value)
    else:
        object.__setattr__(owner, attr, value)


def profile(n: int, out: str, top: int = 25) -> list[str]:
    """The top functions (by own time) of ``n`` messages through both stages under cProfile."""
    with hub_logging():
        pipeline, measured = warmed(n)
        profiler = cProfile.Profile()
        profiler.enable()
        pipeline.run(measured)
        profiler.disable()
    profiler.dump_stats(out)
    text = io.StringIO()
    pstats.Stats(out, stream=text).sort_stats("tottime").print_stats(top)
    return [line for line in text.getvalue().splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hub.tools.bench_inprocess")
    parser.add_argument("messages", nargs="?", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=1, help="repeat the measurement")
    parser.add_argument(
        "--median-of", type=int, default=1, metavar="K",
        help="each measurement is the median of K clean runs (default: 1)",
    )  # fmt: skip
    parser.add_argument("--profile", metavar="FILE", help="also write a cProfile of one run")
    parser.add_argument("--json", action="store_true", help="one JSON object per run")
    parser.add_argument(
        "--untrusted", action="store_true",
        help="validate every Bundle at run time, as for a third party's adapter",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if min(args.messages, args.runs, args.median_of) < 1:
        parser.error("messages, --runs and --median-of must be at least 1")
    for _ in range(args.runs):
        cost = measure(args.messages, trusted=not args.untrusted, runs=args.median_of)
        if args.json:
            sys.stdout.write(json.dumps(cost.to_json()) + "\n")
        else:
            sys.stdout.write(f"in-process: {cost.us_per_msg:.1f} us CPU per message "
                             f"({cost.messages} messages)\n")  # fmt: skip
            for phase, us in cost.phases_us.items():
                sys.stdout.write(f"  {phase:12} {us:7.1f} us\n")
    if args.profile:
        for line in profile(args.messages, args.profile):
            sys.stderr.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
