"""The shadow's record plan: the pipeline's own I/O per message, counted, with no processing.

``ketenhub bench`` counts what the pipeline really wrote during its drain, topic by topic
(records, value bytes, header bytes). The shadow then reads and writes exactly that: its
first hop reads the partner outboxes and writes what ingest wrote (canonical, household
table, dead letters and ingest's nacks), its second reads the canonical topic and writes what
route wrote (deliveries, audit, state). Same topics, partitions and sizes, the same number of
records per topic in total, spread evenly over the inputs; so what the shadow reaches is the
Kafka ceiling of this design on this broker, not of a copy loop.

Topics are named by their *role* (the name after the run's prefix: ``canonical``,
``partner.wij-zuid.in``), so one plan fits the shadow's own copy of the topics.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from pydantic import BaseModel, ConfigDict, Field

CANONICAL = "canonical"
HOUSEHOLDS = "households"
DLQ = "dlq"
INGEST_WRITES = (CANONICAL, HOUSEHOLDS, DLQ)
"""What only ingest writes (route passes a merged household's message on to canonical too,
rarely: counted with ingest). Every ingest reject is one dead letter plus one nack to the
sender's inbox, so as many inbox records as there are dead letters go to the first hop."""


class TopicIo(BaseModel):
    """What the pipeline wrote to one topic during its drain (committed records only)."""

    model_config = ConfigDict(frozen=True)

    records: int = Field(ge=0)
    value_bytes: int = Field(ge=0)
    header_bytes: int = Field(ge=0)
    """Header names and values, summed over the records."""

    def __add__(self, other: TopicIo) -> TopicIo:
        return TopicIo(
            records=self.records + other.records,
            value_bytes=self.value_bytes + other.value_bytes,
            header_bytes=self.header_bytes + other.header_bytes,
        )


class Output(BaseModel):
    """One topic a hop writes: how many records in all, and how big each one is."""

    model_config = ConfigDict(frozen=True)

    role: str
    records: int = Field(ge=0)
    value_bytes: int = Field(ge=0)
    """Per record (the pipeline's average)."""
    header_bytes: int = Field(ge=0)
    """Per record: one header of this size stands for the pipeline's headers."""


class Hop(BaseModel):
    """One transactional hop: what it reads (``inputs`` records in all) and writes."""

    model_config = ConfigDict(frozen=True)

    reads: tuple[str, ...]
    """Roles it consumes; a role ending in ``.out`` stands for every partner outbox."""
    inputs: int = Field(gt=0)
    outputs: tuple[Output, ...]

    @property
    def records(self) -> int:
        return sum(o.records for o in self.outputs)

    def writes_for(self, index: int) -> Iterator[tuple[Output, int]]:
        """``(output, count)`` for the ``index``-th input (0-based) the hop handles.

        Input ``i`` writes ``spread(records, inputs, i, phase)`` records of each output, the
        phase differing per output so that fractional shares do not all fall on the same
        inputs; over ``inputs`` inputs every output gets exactly its ``records``.
        """
        for number, output in enumerate(self.outputs):
            phase = (number * GOLDEN) % 1.0
            count = spread(output.records, self.inputs, index % self.inputs, phase)
            if count:
                yield output, count


GOLDEN = (math.sqrt(5) - 1) / 2


def spread(total: int, inputs: int, index: int, phase: float = 0.0) -> int:
    """How many of ``total`` records input ``index`` of ``inputs`` writes: its share rounded
    down or up, ``phase`` (0..1) shifting where the roundings up fall; exact in sum (integer
    arithmetic, so no float rounding loses a record)."""
    shift = min(int(phase * inputs), inputs - 1)
    return ((index + 1) * total + shift) // inputs - (index * total + shift) // inputs


class ShadowPlan(BaseModel):
    """The two hops, as counted from one pipeline drain of ``messages`` messages."""

    model_config = ConfigDict(frozen=True)

    messages: int = Field(gt=0)
    ingest: Hop
    route: Hop

    @property
    def records_per_message(self) -> dict[str, float]:
        """Records written per input message, per hop and in all: the fan-out."""
        ingest, route = self.ingest.records, self.route.records
        return {
            "ingest": round(ingest / self.messages, 3),
            "route": round(route / self.messages, 3),
            "total": round((ingest + route) / self.messages, 3),
        }

    @property
    def deliveries(self) -> int:
        """Records the shadow writes to inboxes and the DLQ: what its observer counts."""
        return sum(
            o.records
            for hop in (self.ingest, self.route)
            for o in hop.outputs
            if is_delivery(o.role)
        )


def is_delivery(role: str) -> bool:
    return role == DLQ or (role.startswith("partner.") and role.endswith(".in"))


def _output(role: str, io: TopicIo) -> Output:
    records = max(io.records, 1)
    return Output(
        role=role,
        records=io.records,
        value_bytes=round(io.value_bytes / records),
        header_bytes=round(io.header_bytes / records),
    )


def plan_from_counts(counts: Mapping[str, TopicIo], messages: int) -> ShadowPlan:
    """The shadow's plan from what the pipeline wrote per role while it drained ``messages``.

    Roles with no records are left out. The first hop gets ingest's topics and, for each
    dead letter, one inbox record (its nack) taken from the inboxes in proportion to their
    records; the second hop reads one record per canonical record and writes the rest.
    """
    if messages <= 0:
        raise ValueError("a plan needs at least one message")
    canonical = counts.get(CANONICAL, TopicIo(records=0, value_bytes=0, header_bytes=0))
    if canonical.records <= 0:
        raise ValueError("the pipeline wrote no canonical record: nothing for route to read")
    dead = counts.get(DLQ, TopicIo(records=0, value_bytes=0, header_bytes=0)).records
    inboxes = {r: io for r, io in counts.items() if is_delivery(r) and r != DLQ and io.records}
    inbox_total = sum(io.records for io in inboxes.values())
    nacks = _apportion({r: io.records for r, io in inboxes.items()}, min(dead, inbox_total))
    ingest = [_output(r, counts[r]) for r in INGEST_WRITES if r in counts and counts[r].records]
    route: list[Output] = []
    for role, io in sorted(inboxes.items()):
        average = _output(role, io)
        if nacks.get(role):
            ingest.append(average.model_copy(update={"records": nacks[role]}))
        if io.records - nacks.get(role, 0):
            route.append(average.model_copy(update={"records": io.records - nacks.get(role, 0)}))
    for role, io in sorted(counts.items()):
        if role not in INGEST_WRITES and role not in inboxes and io.records:
            route.append(_output(role, io))
    return ShadowPlan(
        messages=messages,
        ingest=Hop(reads=("partner.*.out",), inputs=messages, outputs=tuple(ingest)),
        route=Hop(reads=(CANONICAL,), inputs=canonical.records, outputs=tuple(route)),
    )


def _apportion(weights: Mapping[str, int], total: int) -> dict[str, int]:
    """``total`` split over ``weights`` in proportion, exactly (largest remainders)."""
    whole = sum(weights.values())
    if not whole or not total:
        return {}
    exact = {k: total * w / whole for k, w in weights.items()}
    out = {k: math.floor(v) for k, v in exact.items()}
    left = total - sum(out.values())
    for key in sorted(exact, key=lambda k: exact[k] - out[k], reverse=True)[:left]:
        out[key] += 1
    return out


def role_of(topic: str, prefix: str) -> str | None:
    """The role of ``topic`` in a run whose topics start with ``prefix.``; None if not one."""
    head = f"{prefix}."
    return topic[len(head) :] if topic.startswith(head) else None
