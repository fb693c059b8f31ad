"""What moving a household to a new pseudonym key costs, in records and CPU, no Kafka.

Builds households under one key (a regie claim for two children, a consent for the
elder), rotates, then sends every household a referral about the elder twice: the first
moves the household (the migration), the second is an ordinary message on the new key.
Ingest and route run in one thread (timed with its CPU clock, so other work on the machine
counts little), each record in the partition its key gives, so the state is handed over in
place as on the broker. The difference between the two is the cost per migrated household.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from hub.context import HubContext
from hub.kafka.partitioner import partition_of
from hub.stages.ingest import IngestStage
from hub.stages.pseudonyms import Pseudonymiser
from hub.stages.records import InRecord, OutRecord
from hub.stages.route import RouteStage
from hub.tools.bench_inprocess import bench_context
from observability.metrics import HubMetrics
from schemas.bsn import is_valid_bsn

OLD_KEY, NEW_KEY = b"rekey-cost-old-key", b"rekey-cost-new-key"
PROVIDER = "aanbieder-kompas"
WARMUP = 20
"""Households moved (and sent their next message) before the clock starts."""


class MeasureFailed(RuntimeError):
    """The households did not move intact: figures of a broken migration mean nothing."""


@dataclass(frozen=True)
class Round:
    """One message per household: CPU per message and what it wrote, by topic."""

    micros: list[float]
    records: Counter[str]
    written_bytes: int
    forwarded: int
    """Referrals that reached the provider: all of them, or the consent did not move."""

    @property
    def median_us(self) -> float:
        return statistics.median(self.micros)


@dataclass(frozen=True)
class RekeyCost:
    households: int
    migrating: Round
    steady: Round

    def figures(self) -> list[tuple[str, object]]:
        n = self.households
        m, s = self.migrating, self.steady
        rows: list[tuple[str, object]] = [
            ("households", n),
            ("migrating message, median µs", round(m.median_us, 1)),
            ("next message, median µs", round(s.median_us, 1)),
            ("extra µs per migrated household", round(m.median_us - s.median_us, 1)),
            ("extra records per migrated household",
             round((sum(m.records.values()) - sum(s.records.values())) / n, 2)),
            ("extra bytes per migrated household",
             round((m.written_bytes - s.written_bytes) / n)),
        ]  # fmt: skip
        for topic, extra in self.extra_records_by_topic().items():
            rows.append((f"extra {topic} records per household", extra))
        return rows

    def extra_records_by_topic(self) -> dict[str, float]:
        m, s = self.migrating.records, self.steady.records
        return {t: round((m[t] - s[t]) / self.households, 2) for t in sorted(set(m) | set(s))}

    def record(self) -> dict[str, object]:
        """The figures for programs (``--json``): plain keys, µs and bytes per household."""
        m, s, n = self.migrating, self.steady, self.households
        return {
            "households": n,
            "migrating_median_us": round(m.median_us, 1),
            "next_median_us": round(s.median_us, 1),
            "extra_us": round(m.median_us - s.median_us, 1),
            "extra_records": round((sum(m.records.values()) - sum(s.records.values())) / n, 2),
            "extra_bytes": round((m.written_bytes - s.written_bytes) / n),
            "extra_records_by_topic": self.extra_records_by_topic(),
        }


@dataclass
class _Hub:
    ctx: HubContext
    ingest: IngestStage
    route: RouteStage
    offset: int = 0
    topic_of: dict[str, str] = field(default_factory=dict)

    def send(self, partner: str, body: dict[str, object]) -> list[OutRecord]:
        """Ingest, then route every canonical record (hops too); all records written."""
        self.offset += 1
        payload = json.dumps(body).encode()
        inbound = InRecord(self.ctx.names.partner_out(partner), 0, self.offset, payload)
        pending = self.ingest.handle(inbound)
        written: list[OutRecord] = []
        while pending:
            record, pending = pending[0], pending[1:]
            written.append(record)
            if record.topic == self.ctx.names.canonical and record.key is not None:
                self.offset += 1
                partition = partition_of(record.key.decode(), self.ctx.settings.partitions)
                pending += self.route.handle(
                    InRecord(record.topic, partition, self.offset, record.value, record.key,
                             record.headers, 1)
                )  # fmt: skip
        self.ingest.batch_committed()
        self.route.batch_committed()
        return written


def _bsns() -> Iterator[str]:
    return (str(n) for n in range(999_000_000, 999_999_999) if is_valid_bsn(str(n)))


def _kind(topic: str, ctx: HubContext) -> str:
    names = ctx.names
    known = {names.canonical: "canonical", names.state: "state", names.audit: "audit",
             names.households: "households"}  # fmt: skip
    return known.get(topic, "deliveries")


@dataclass
class _Tally:
    micros: list[float] = field(default_factory=list)
    records: Counter[str] = field(default_factory=Counter)
    written_bytes: int = 0
    forwarded: int = 0

    def send(self, hub: _Hub, partner: str, body: dict[str, object]) -> None:
        started = time.thread_time()
        written = hub.send(partner, body)
        self.micros.append((time.thread_time() - started) * 1e6)
        self.records.update(_kind(r.topic, hub.ctx) for r in written)
        self.written_bytes += sum(len(r.value) + len(r.key or b"") for r in written)
        provider = hub.ctx.names.partner_in(PROVIDER)
        self.forwarded += sum(r.topic == provider for r in written)

    def done(self) -> Round:
        return Round(self.micros, self.records, self.written_bytes, self.forwarded)


def _referral(bsn: str) -> dict[str, object]:
    return {"type": "verwijzing", "message_id": f"OJG-{uuid.uuid4().hex[:12]}",
            "sent_at": "2026-11-23T10:05:00+01:00", "referrer": {"code": "OJG-WIJERT"},
            "child": {"bsn": bsn, "birth_date": "2013-06-01"}, "urgency": "urgent",
            "care_category": "jeugdhulp-ambulant", "addressed_to_agb": "73000002",
            "reason": "kosten van een sleutelwissel"}  # fmt: skip


def measure(households: int = 500) -> RekeyCost:
    """Build ``households`` under the old key, rotate, and time each one's migrating
    message and its next one (after ``WARMUP`` households that are not counted)."""
    old = replace(bench_context(), pseudonyms=Pseudonymiser(OLD_KEY))
    hub = _Hub(old, IngestStage(old, HubMetrics()), RouteStage(old, HubMetrics()))
    bsns = _bsns()
    elders = []
    for _ in range(WARMUP + households):
        elder, younger = next(bsns), next(bsns)
        elders.append(elder)
        hub.send("wij-zuid", {
            "type": "regie-claim", "message_id": f"WIJ-{uuid.uuid4().hex[:12]}",
            "sent_at": "2026-11-23T14:00:00+01:00", "sender": {"code": "WIJ-ZUID"},
            "household": [{"bsn": elder, "birth_date": "2013-06-01"},
                          {"bsn": younger, "birth_date": "2016-01-01"}],
        })  # fmt: skip
        hub.send("wij-zuid", {
            "type": "toestemming", "message_id": f"WIJ-{uuid.uuid4().hex[:12]}",
            "sent_at": "2026-11-23T14:00:00+01:00", "sender": {"code": "WIJ-ZUID"},
            "consent_id": f"TOE-{uuid.uuid4().hex[:8]}",
            "child": {"bsn": elder, "birth_date": "2013-06-01"},
            "given_by": ["child", "parent"], "purposes": ["verwijzing"],
            "recipients": [PROVIDER], "recipient_kinds": [], "valid_from": "2026-11-23",
        })  # fmt: skip
    new = replace(old, pseudonyms=Pseudonymiser(NEW_KEY, 2), previous_pseudonyms=old.pseudonyms)
    hub.ctx = new
    hub.ingest = IngestStage(new, HubMetrics(), households=hub.ingest.households)
    for elder in elders[:WARMUP]:  # the first of each shape fill the hub's caches
        hub.send("ojg-wijert", _referral(elder))
        hub.send("ojg-wijert", _referral(elder))
    first, then = _Tally(), _Tally()
    for elder in elders[WARMUP:]:  # in pairs, so a busier moment of the machine hits both
        first.send(hub, "ojg-wijert", _referral(elder))
        then.send(hub, "ojg-wijert", _referral(elder))
    migrating, steady = first.done(), then.done()
    for name, done in (("migrating", migrating), ("next", steady)):
        if done.forwarded != households:
            raise MeasureFailed(
                f"{name} round: {done.forwarded} of {households} referrals reached the "
                "provider on their consent"
            )
    return RekeyCost(households, migrating, steady)
