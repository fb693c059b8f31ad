"""The cost of the hub's Prometheus instrumentation, measured in process.

Runs the demo's message mix through the real ingest and route stages (adapters, FHIR
validation, policy, router state, audit records; no Kafka) twice per round: once with the
real ``HubMetrics`` and once with every collector replaced by a no-op, alternating the order,
and reports the CPU time per message of each (best round: least disturbed by the rest of the
machine; median round too). Kafka I/O is the same with and without
metrics, so the in-process difference is an upper bound on the share metrics take of the
full pipeline's throughput.

    python scripts/metrics_overhead.py --messages 2000 --rounds 7
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import dataclass
from typing import Any

from adapters.registry import load_adapters
from hub.context import HubContext
from hub.kafka.connection import KafkaConnection
from hub.kafka.topics import TopicNames
from hub.settings import DEFAULTS, Settings
from hub.stages.ingest import IngestStage
from hub.stages.pseudonyms import Pseudonymiser
from hub.stages.records import InRecord
from hub.stages.route import RouteStage
from hub.tools.demo_traffic import DemoTraffic
from observability.logging import configure_logging
from observability.metrics import HubMetrics
from routing.policy import Policy
from schemas.partners import PartnerRegistry

BATCH = 500


class _Null:
    """A collector that does nothing: ``labels`` returns itself, every update is a no-op."""

    def labels(self, *args: Any, **kwargs: Any) -> _Null:
        return self

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


class _Timed:
    """A collector wrapper that adds up the CPU time spent inside the real collector."""

    spent = 0.0

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def labels(self, *args: Any) -> _Timed:
        started = time.process_time()
        child = self.inner.labels(*args)
        _Timed.spent += time.process_time() - started
        return _Timed(child)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            result = method(*args, **kwargs)
            _Timed.spent += time.process_time() - started
            return result

        return timed


def timed_metrics() -> HubMetrics:
    metrics = HubMetrics()
    for name, value in list(vars(metrics).items()):
        if name != "registry" and hasattr(value, "labels"):
            setattr(metrics, name, _Timed(value))
    return metrics


def null_metrics() -> HubMetrics:
    metrics = HubMetrics()
    for name, value in list(vars(metrics).items()):
        if name != "registry" and hasattr(value, "labels"):
            setattr(metrics, name, _Null())
    return metrics


@dataclass
class Setup:
    ctx: HubContext
    messages: list[tuple[str, bytes]]


def setup(count: int, seed: int) -> Setup:
    registry = PartnerRegistry.from_toml(DEFAULTS / "partners.toml")
    ctx = HubContext(
        settings=Settings(bootstrap="unused:9092"),
        kafka=KafkaConnection("unused:9092"),
        names=TopicNames("bench"),
        registry=registry,
        policy=Policy.from_toml(DEFAULTS / "policy.toml"),
        adapters=load_adapters(),
        pseudonyms=Pseudonymiser(b"metrics-overhead-key"),
    )
    traffic = DemoTraffic(registry, random.Random(seed), bad_share=0.08)
    messages = []
    for _ in range(count):
        message = traffic.next_message()
        messages.append((ctx.names.partner_out(message.sender.id), message.payload))
    return Setup(ctx, messages)


def run_once(s: Setup, metrics: HubMetrics) -> float:
    """CPU seconds of this process to push every message through ingest and route, batch
    commits included (CPU time, not wall time: other work on the machine does not count)."""
    ingest, route = IngestStage(s.ctx, metrics), RouteStage(s.ctx, metrics)
    canonical = s.ctx.names.canonical
    now_ms = int(time.time() * 1000)
    started = time.process_time()
    for offset, (topic, payload) in enumerate(s.messages):
        for out in ingest.handle(InRecord(topic, 0, offset, payload, timestamp_ms=now_ms)):
            if out.topic == canonical:
                route.handle(
                    InRecord(
                        canonical,
                        0,
                        offset,
                        out.value,
                        out.key,
                        out.headers,
                        timestamp_ms=out.timestamp_ms or now_ms,
                    )
                )
        if offset % BATCH == BATCH - 1:
            ingest.batch_committed()
            route.batch_committed()
    ingest.batch_committed()
    route.batch_committed()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    configure_logging(level="INFO")  # as `ketenhub run` does: per-message lines are DEBUG
    s = setup(args.messages, args.seed)
    run_once(s, HubMetrics())  # warm up: imports, caches, pydantic validators
    on: list[float] = []
    off: list[float] = []
    for round_ in range(args.rounds):
        pair = [("on", HubMetrics()), ("off", null_metrics())]
        for label, metrics in pair if round_ % 2 == 0 else reversed(pair):
            (on if label == "on" else off).append(run_once(s, metrics))
    print(f"{args.messages} messages x {args.rounds} rounds, CPU time per message")
    for name, pick in (("best round", min), ("median round", statistics.median)):
        per_on = pick(on) / args.messages * 1e6
        per_off = pick(off) / args.messages * 1e6
        print(
            f"{name:>12}: metrics on {per_on:7.1f} us, off {per_off:7.1f} us, "
            f"overhead {per_on - per_off:6.1f} us ({(per_on / per_off - 1) * 100:+.1f} %)"
        )
    paired = statistics.median(a - b for a, b in zip(on, off, strict=True))
    print(
        f"median of the per-round differences: {paired / args.messages * 1e6:.1f} us per message"
        f" ({paired / statistics.median(off) * 100:+.1f} %)"
    )
    _Timed.spent = 0.0
    total = run_once(s, timed_metrics())
    inside = _Timed.spent / args.messages * 1e6
    print(
        f"inside the metric calls: {inside:.1f} us of {total / args.messages * 1e6:.1f} us "
        f"per message ({_Timed.spent / total * 100:.1f} %; each call timed on its own)"
    )


if __name__ == "__main__":
    main()
