"""Prometheus metrics of the hub, on a registry of its own (no process-global state).

Labels are bounded: stage, partner id (from the registry), event and reason codes. Never a
person, household or message id.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from schemas.codes import RejectReason

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class HubMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.messages_in = Counter(
            "ketenhub_messages_in", "Messages consumed, per stage and sending partner",
            ["stage", "partner"], registry=r,
        )  # fmt: skip
        self.messages_out = Counter(
            "ketenhub_messages_out", "Messages produced to partner inboxes, per recipient",
            ["stage", "partner", "kind"], registry=r,
        )  # fmt: skip
        self.rejects = Counter(
            "ketenhub_rejects", "Messages refused, by stage and reason code",
            ["stage", "reason"], registry=r,
        )  # fmt: skip
        self.in_progress = Gauge(
            "ketenhub_stage_in_progress", "Messages in the batch a stage is processing",
            ["stage"], registry=r,
        )  # fmt: skip
        self.last_processed = Gauge(
            "ketenhub_stage_last_processed_timestamp_seconds",
            "Unix time a stage last committed a batch", ["stage"], registry=r,
        )  # fmt: skip
        self.processing = Histogram(
            "ketenhub_processing_seconds", "Time to process one batch, commit included",
            ["stage"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.transactions = Counter(
            "ketenhub_transactions", "Kafka transactions, by outcome",
            ["stage", "outcome"], registry=r,
        )  # fmt: skip

    def precreate(self, stages: Iterable[str], partners: Iterable[str]) -> None:
        """Create the label children up front so zero counts are exported too."""
        partner_ids = list(partners)
        for stage in stages:
            self.in_progress.labels(stage)
            self.last_processed.labels(stage)
            self.processing.labels(stage)
            for outcome in ("committed", "aborted"):
                self.transactions.labels(stage, outcome)
            for reason in RejectReason:
                self.rejects.labels(stage, reason.value)
            for partner in partner_ids:
                self.messages_in.labels(stage, partner)

    def committed(self, stage: str, seconds: float) -> None:
        self.transactions.labels(stage, "committed").inc()
        self.processing.labels(stage).observe(seconds)
        self.last_processed.labels(stage).set(time.time())

    def serve(self, port: int) -> None:
        """Expose ``/metrics`` on ``port`` (0 disables)."""
        if port:
            start_http_server(port, addr="0.0.0.0", registry=self.registry)
