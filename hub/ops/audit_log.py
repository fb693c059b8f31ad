"""Reading the audit log and the topics one message passed through (``ketenhub audit`` and
``ketenhub trace``).

Both scan topics from the start up to their committed end: they answer an investigation
(a privacy officer's question, an incident), not a hot path. A production audit trail would
also be shipped to a log store with an index; the topic stays the source of truth.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import ValidationError

from hub.kafka.connection import KafkaConnection
from hub.kafka.reader import ReadStalled, assign_all, committed_reader, read_to_end
from hub.kafka.topics import TopicNames
from hub.stages.records import (
    HEADER_DLQ_AT,
    HEADER_DLQ_DETAIL,
    HEADER_DLQ_REASON,
    HEADER_DLQ_SOURCE,
    HEADER_KIND,
    HEADER_MESSAGE_ID,
    InRecord,
)
from observability import audit as logboek
from observability.audit import LogboekRecord
from schemas.audit import AuditAction
from schemas.envelope import RoutingEnvelope, header_value

Record = InRecord
MAX_IDLE_S = 15.0


class ScanStalled(LookupError):
    """A topic stopped yielding records before its end: the broker is not healthy."""


async def scan(
    kafka: KafkaConnection, topics: Sequence[str], keep: Callable[[Record], bool]
) -> list[Record]:
    """The committed records of ``topics`` (up to their end when the scan began) that
    ``keep`` accepts. A topic that does not exist is a LookupError naming it."""
    kept: list[Record] = []
    if not topics:
        return kept
    async with committed_reader(kafka) as reader:
        partitions = await assign_all(reader, topics)
        try:
            async for records in read_to_end(reader, partitions, stall_s=MAX_IDLE_S):
                kept.extend(r for r in records if keep(r))
        except ReadStalled as exc:
            raise ScanStalled(str(exc)) from None
    return kept


@dataclass(frozen=True)
class AuditQuery:
    """Which audit records to show: about a child (its pseudonym), a household, a message
    (hub message id or the partner's own message id), or every disclosure of a dead letter's
    payload to an operator. Exactly one is set."""

    child: str | None = None
    children: tuple[str, ...] = ()
    """The same child under each readable pseudonym key (any of them matches)."""
    household: str | None = None
    message: str | None = None
    disclosures: bool = False

    def matches(self, record: LogboekRecord) -> bool:
        a = record.attributes
        if self.disclosures:
            return a.action is AuditAction.DISCLOSED
        if self.child is not None:
            return a.data_subject_id == self.child
        if self.children:
            return a.data_subject_id in self.children
        if self.household is not None:
            return a.household == self.household
        return self.message in (a.message_id, a.partner_message_id)


@dataclass
class AuditResult:
    records: list[LogboekRecord] = field(default_factory=list)
    unreadable: int = 0
    """Records on the topic in no known shape (counted, never shown)."""


async def read_audit(kafka: KafkaConnection, names: TopicNames, query: AuditQuery) -> AuditResult:
    """The audit records ``query`` selects, oldest first."""
    result = AuditResult()

    def keep(record: Record) -> bool:
        parsed = logboek.parse(record.value)
        if parsed is None:
            result.unreadable += 1
        elif query.matches(parsed):
            result.records.append(parsed)
        return False

    await scan(kafka, [names.audit], keep)
    result.records.sort(key=lambda r: (r.start_time, r.span_id))
    return result


async def read_all_audit(kafka: KafkaConnection, names: TopicNames) -> AuditResult:
    """Every readable audit record (for aggregates such as the indicators), oldest first."""
    result = AuditResult()

    def keep(record: Record) -> bool:
        parsed = logboek.parse(record.value)
        if parsed is None:
            result.unreadable += 1
        else:
            result.records.append(parsed)
        return False

    await scan(kafka, [names.audit], keep)
    result.records.sort(key=lambda r: (r.start_time, r.span_id))
    return result


@dataclass(frozen=True)
class Step:
    """One moment in a message's path through the hub."""

    at: datetime
    stage: str
    what: str
    where: str = ""

    def as_json(self) -> dict[str, str]:
        return {"at": _iso(self.at), "stage": self.stage, "what": self.what, "where": self.where}


@dataclass
class Trace:
    message_id: str
    trace_id: str
    steps: list[Step] = field(default_factory=list)
    audit: list[LogboekRecord] = field(default_factory=list)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _where(record: Record) -> str:
    return f"{record.topic} {record.partition}:{record.offset}"


def is_hub_message_id(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


async def resolve_message_ids(kafka: KafkaConnection, names: TopicNames, text: str) -> list[str]:
    """Hub message ids for a hub message id (itself) or a partner's own message id (every hub
    message that carried it: a resend is a message of its own, found through the audit log).
    """
    if is_hub_message_id(text):
        return [text]
    found = await read_audit(kafka, names, AuditQuery(message=text))
    ids = dict.fromkeys(r.attributes.message_id for r in found.records)
    if not ids:
        raise LookupError(
            f"no audit record names partner message id {text!r}; a message refused at ingest "
            "has none: trace the hub message id from its nack instead (field hub_message_id; "
            "in_response_to is the partner's own id), e.g. from `ketenhub inbox SENDER --json`"
        )
    return list(ids)


async def trace_message(
    kafka: KafkaConnection, names: TopicNames, partner_ids: Iterable[str], message_id: str
) -> Trace:
    """Where one hub message went: ingest (canonical record or dead letter), each routing
    act from the audit log, and each record any partner inbox got for it, by time."""
    trace = Trace(message_id, logboek.trace_id(message_id))
    wanted = message_id.encode()

    def ours(record: Record) -> bool:
        return any(k == HEADER_MESSAGE_ID and v == wanted for k, v in record.headers or ())

    found = await scan(kafka, [names.canonical, names.dlq, names.audit], ours)
    involved: set[str] = set()
    published: int | None = None
    for record in found:
        headers = list(record.headers or ())
        if record.topic == names.canonical:
            published = record.timestamp_ms
            involved.add(_canonical_steps(trace, record, headers))
        elif record.topic == names.dlq:
            trace.steps.append(_dead_letter_step(record, headers))
            partner = names.partner_of_out_topic(_source_topic(headers))
            if partner:
                involved.add(partner)
        else:
            entry = logboek.parse(record.value)
            if entry is not None:
                trace.audit.append(entry)
                trace.steps.append(_audit_step(entry, record))
                involved.update(p for p in (entry.attributes.recipient_id,) if p)
                involved.add(entry.attributes.sender_id)
    inboxes = [names.partner_in(p) for p in sorted(involved & set(partner_ids))]
    for record in await scan(kafka, inboxes, ours):
        kind = header_value(list(record.headers or ()), HEADER_KIND) or "?"
        partner = record.topic.removeprefix(f"{names.prefix}.partner.").removesuffix(".in")
        latency = ""
        if published is not None and published <= record.timestamp_ms:
            latency = f" ({(record.timestamp_ms - published) / 1000:.3f} s after publish)"
        trace.steps.append(
            Step(
                _at_ms(record.timestamp_ms),
                "delivery",
                f"{kind} to {partner}{latency}",
                _where(record),
            )
        )
    order = {"partner": 0, "ingest": 1, "dlq": 2, "route": 3, "delivery": 4}
    trace.steps.sort(key=lambda s: (s.at, order.get(s.stage, 9)))
    return trace


def _canonical_steps(trace: Trace, record: Record, headers: list[tuple[str, bytes]]) -> str:
    try:
        envelope = RoutingEnvelope.from_headers(headers)
    except ValidationError:
        trace.steps.append(
            Step(_at_ms(record.timestamp_ms), "ingest", "canonical record", _where(record))
        )
        return ""
    trace.steps.append(
        Step(
            _at_ms(record.timestamp_ms),
            "partner",
            f"{envelope.sender_id} published {envelope.partner_message_id} "
            f"({envelope.event}) on its outbox",
        )
    )
    recipient = f" for {envelope.recipient_id}" if envelope.recipient_id else ""
    trace.steps.append(
        Step(
            envelope.received_at,
            "ingest",
            f"decoded and validated {envelope.event}{recipient}; canonical FHIR Bundle, "
            f"household {envelope.household[:12]}…",
            _where(record),
        )
    )
    return envelope.sender_id


def _source_topic(headers: list[tuple[str, bytes]]) -> str:
    return (header_value(headers, HEADER_DLQ_SOURCE) or "").rsplit(":", 2)[0]


def _dead_letter_step(record: Record, headers: list[tuple[str, bytes]]) -> Step:
    at = _at_ms(record.timestamp_ms)
    text = header_value(headers, HEADER_DLQ_AT)
    if text:
        with contextlib.suppress(ValueError):
            at = datetime.fromisoformat(text).astimezone(UTC)
    reason = header_value(headers, HEADER_DLQ_REASON) or "?"
    detail = header_value(headers, HEADER_DLQ_DETAIL) or ""
    source = header_value(headers, HEADER_DLQ_SOURCE) or "?"
    return Step(
        at,
        "dlq",
        f"dead-lettered: {reason} ({detail}); from {source}",
        f"{record.topic} {record.partition}:{record.offset} (ketenhub dlq show "
        f"{record.partition}:{record.offset})",
    )


def _audit_step(entry: LogboekRecord, record: Record) -> Step:
    a = entry.attributes
    if a.action is AuditAction.DISCLOSED:
        shown = f"payload of dead letter {a.dlq_ref} shown to operator {a.operator}"
        return Step(entry.start_time, "dlq", shown, _where(record))
    parts = [a.action.value]
    if a.recipient_id:
        parts.append(f"{a.recipient_id}" + (f" ({a.recipient_kind})" if a.recipient_kind else ""))
    if a.legal_basis:
        parts.append(f"basis {a.legal_basis}")
    if a.reason_code:
        parts.append(f"reason {a.reason_code}")
    if a.notice:
        parts.append(f"notice {a.notice}")
    return Step(entry.start_time, "route", " ".join(parts), _where(record))
