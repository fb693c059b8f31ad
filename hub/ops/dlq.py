"""Dead letters: read ``ketenhub.dlq``, and replay records to where they came from after a fix.

The safety rules, kept here and tested:

- Reading never needs the payload: listings show headers (reason, detail, partner, source,
  time) and sizes. The payload holds the partner's original bytes, personal data included.
- A replay re-publishes the original bytes, untouched, to the topic its DLQ source header
  names, with ``kh-replay-of: <dlq partition:offset>``. Only topics the hub reads qualify: a
  registered partner's outbox, or the canonical topic (records the route stage refused, which
  keep their routing headers). Anything else is skipped with the reason why.
- Every replay is recorded in the compacted ``ketenhub.dlq-replays`` topic (key: the DLQ
  ref), in the same Kafka transaction as the re-published record: both happen or neither. A
  record replayed before is skipped unless the caller asks ``again``.
- A replayed message the hub already delivered is not delivered twice: the router remembers
  (sender, partner message id) per household and answers a resend with a duplicate ack.
- Showing a payload is audited: a ``ketenhub.dlq.disclosed`` record (operator, DLQ ref) is
  on ``ketenhub.audit`` before the bytes are shown, or they are not shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from confluent_kafka import KafkaError, KafkaException, Producer
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from hub.kafka.connection import KafkaConnection
from hub.kafka.delivery import deliver
from hub.kafka.reader import ReadStalled, assign_all, committed_reader, read_to_end
from hub.kafka.topics import TopicNames
from hub.stages.loop import FENCED, TRANSACTION_TIMEOUT_S, producer_settings
from hub.stages.records import (
    HEADER_DLQ_AT,
    HEADER_DLQ_DETAIL,
    HEADER_DLQ_PARTNER,
    HEADER_DLQ_REASON,
    HEADER_DLQ_SOURCE,
    HEADER_MESSAGE_ID,
    HEADER_REPLAY_OF,
    InRecord,
    OutRecord,
)
from observability import audit as logboek
from schemas.codes import RejectReason
from schemas.partners import PartnerRegistry

_SENDER_HEADER = "kh-sender-id"
"""The routing envelope's sender, present on DLQ records the route stage wrote."""
_REF = re.compile(r"([0-9]{1,9}):([0-9]{1,19})")
DISCLOSURE_DEADLINE_S = 30.0
REPLAY_CHUNK = 100
"""Records per replay transaction: small enough to show progress, large enough to be quick."""


class DlqError(Exception):
    """A problem the user can fix (a bad reference, filter or time); the text says how."""


@dataclass(frozen=True, order=True)
class DlqRef:
    """A DLQ record's address, written ``partition:offset``."""

    partition: int
    offset: int

    @classmethod
    def parse(cls, text: str) -> DlqRef:
        match = _REF.fullmatch(text.strip())
        if match is None:
            raise DlqError(f"{text!r} is not a DLQ reference; write partition:offset, e.g. 0:42")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.partition}:{self.offset}"


@dataclass(frozen=True)
class DeadLetter:
    """One committed record of the DLQ; ``value`` is the partner's original bytes."""

    ref: DlqRef
    timestamp_ms: int
    key: bytes | None
    value: bytes = field(repr=False)
    headers: tuple[tuple[str, bytes], ...] = field(repr=False)

    @classmethod
    def from_record(cls, record: InRecord) -> DeadLetter:
        return cls(
            ref=DlqRef(record.partition, record.offset),
            timestamp_ms=record.timestamp_ms,
            key=record.key,
            value=record.value or b"",
            headers=tuple(record.headers),
        )

    def header(self, name: str) -> str | None:
        """The last header of that name: a dead letter keeps the headers it came with (a
        partner may have set any), and the hub appends its own after them."""
        raw = next((v for k, v in reversed(self.headers) if k == name), None)
        return None if raw is None else raw.decode(errors="replace")

    @property
    def reason(self) -> str:
        return self.header(HEADER_DLQ_REASON) or "?"

    @property
    def detail(self) -> str:
        return self.header(HEADER_DLQ_DETAIL) or ""

    @property
    def source(self) -> str:
        """``topic:partition:offset`` of the record that was refused."""
        return self.header(HEADER_DLQ_SOURCE) or ""

    @property
    def source_topic(self) -> str | None:
        parts = self.source.rsplit(":", 2)
        return parts[0] if len(parts) == 3 and parts[0] else None

    @property
    def partner(self) -> str:
        """The partner who sent it: the DLQ header, else the envelope's sender, else '?'."""
        return self.header(HEADER_DLQ_PARTNER) or self.header(_SENDER_HEADER) or "?"

    @property
    def message_id(self) -> str | None:
        return self.header(HEADER_MESSAGE_ID)

    @property
    def replay_of(self) -> str | None:
        """Set when this record is a replayed message that was refused again."""
        return self.header(HEADER_REPLAY_OF)

    @property
    def at(self) -> datetime:
        """When it was dead-lettered: the DLQ header, else the record's timestamp."""
        text = self.header(HEADER_DLQ_AT)
        if text:
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    @property
    def size(self) -> int:
        return len(self.value)


class Replay(BaseModel):
    """One record of the replay log: DLQ record ``dlq_ref`` went to ``target``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    dlq_ref: str
    target: str
    """``topic:partition:offset`` of the re-published record."""
    at: AwareDatetime
    count: int = 1
    """How often this DLQ record has been replayed, this time included."""


@dataclass(frozen=True)
class DlqFilter:
    partner: str | None = None
    reason: str | None = None
    since: datetime | None = None
    """Inclusive."""
    until: datetime | None = None
    """Exclusive."""

    def __post_init__(self) -> None:
        known = {r.value for r in RejectReason}
        if self.reason is not None and self.reason not in known:
            raise DlqError(f"unknown reason {self.reason!r}; one of: {', '.join(sorted(known))}")

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.partner, self.reason, self.since, self.until))

    def matches(self, letter: DeadLetter) -> bool:
        at = letter.at
        return (
            (self.partner is None or letter.partner == self.partner)
            and (self.reason is None or letter.reason == self.reason)
            and (self.since is None or at >= self.since)
            and (self.until is None or at < self.until)
        )


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DlqError(
            f"{text!r} is not an ISO 8601 time; e.g. 2026-11-23 or 2026-11-23T09:00+01:00"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True)
class Summary:
    total: int
    by_partner: dict[str, int]
    by_reason: dict[str, int]


def summarise(letters: Iterable[DeadLetter]) -> Summary:
    letters = list(letters)
    by_partner = Counter(letter.partner for letter in letters)
    by_reason = Counter(letter.reason for letter in letters)
    return Summary(
        total=len(letters),
        by_partner=dict(sorted(by_partner.items())),
        by_reason=dict(sorted(by_reason.items())),
    )


async def _read_committed(
    kafka: KafkaConnection, topic: str, *, max_idle_s: float = 15.0
) -> list[InRecord]:
    """Every committed record of ``topic`` up to its end when the read began."""
    records: list[InRecord] = []
    async with committed_reader(kafka) as reader:
        partitions = await assign_all(reader, [topic])
        try:
            async for batch in read_to_end(reader, partitions, stall_s=max_idle_s):
                records.extend(batch)
        except ReadStalled as exc:
            raise DlqError(str(exc)) from None
    return records


async def read_dead_letters(kafka: KafkaConnection, names: TopicNames) -> list[DeadLetter]:
    """Every committed DLQ record, oldest first."""
    letters = [DeadLetter.from_record(r) for r in await _read_committed(kafka, names.dlq)]
    return sorted(letters, key=lambda letter: (letter.at, letter.ref))


async def read_dead_letter(kafka: KafkaConnection, names: TopicNames, ref: DlqRef) -> DeadLetter:
    """The committed DLQ record at ``ref``; DlqError if there is none."""
    async with committed_reader(kafka) as reader:
        partitions = {tp.partition: tp for tp in await assign_all(reader, [names.dlq])}
        tp = partitions.get(ref.partition)
        if tp is None:
            raise DlqError(f"{names.dlq} has no partition {ref.partition}")
        end = (await reader.end_offsets([tp]))[tp]
        if ref.offset >= end:
            raise DlqError(f"no committed DLQ record at {ref} (partition ends at {end})")
        # Just that offset: a transaction marker or an aborted record there is passed over.
        only = {tp: ref.offset}, {tp: ref.offset + 1}
        try:
            async for batch in read_to_end(reader, [tp], since=only[0], ends=only[1],
                                           stall_s=15.0):  # fmt: skip
                for record in batch:
                    if record.offset == ref.offset:
                        return DeadLetter.from_record(record)
        except ReadStalled as exc:
            raise DlqError(str(exc)) from None
    raise DlqError(f"no committed DLQ record at {ref}")


async def record_disclosure(
    kafka: KafkaConnection,
    names: TopicNames,
    letter: DeadLetter,
    *,
    operator: str,
    instance_id: str,
    partners: Container[str],
) -> None:
    """Write to the audit log that ``operator`` is shown ``letter``'s payload; DlqError if
    the broker does not confirm it (the caller must then not show the payload).

    The partner is named only if ``partners`` knows it: a header a partner set could hold
    anything, a BSN included.
    """
    partner = letter.partner if letter.partner in partners else "?"
    record = logboek.payload_disclosure(
        dlq_ref=str(letter.ref), message_id=letter.message_id, partner_id=partner,
        operator=operator, at=datetime.now(UTC), instance_id=instance_id,
    )  # fmt: skip
    producer = Producer(producer_settings(kafka, "ketenhub-dlq-disclosure"))
    entry = OutRecord(
        names.audit, record.to_json(), f"dlq:{letter.ref}".encode(),
        [(HEADER_MESSAGE_ID, record.attributes.message_id.encode())],
    )  # fmt: skip
    try:
        await deliver(producer, [entry], DISCLOSURE_DEADLINE_S)
    except (KafkaException, TimeoutError) as exc:
        raise DlqError(
            f"the payload is shown only once the audit log has it, and writing to "
            f"{names.audit} failed ({_error_name(exc)}); nothing was shown"
        ) from None


async def read_replays(kafka: KafkaConnection, names: TopicNames) -> dict[str, Replay]:
    """The replay log: the latest replay per DLQ ref (tombstones forget a ref)."""
    replays: dict[str, Replay] = {}
    for record in await _read_committed(kafka, names.dlq_replays):
        if record.key is None:
            continue
        ref = record.key.decode(errors="replace")
        if record.value is None:
            replays.pop(ref, None)
            continue
        try:
            replays[ref] = Replay.model_validate_json(record.value)
        except ValidationError:
            continue  # not ours; the log is advisory, the router's dedupe is the safety net
    return replays


@dataclass(frozen=True)
class PlannedReplay:
    letter: DeadLetter
    record: OutRecord
    previous: Replay | None = None


@dataclass(frozen=True)
class Skipped:
    letter: DeadLetter
    why: str


@dataclass(frozen=True)
class ReplayPlan:
    send: tuple[PlannedReplay, ...]
    skipped: tuple[Skipped, ...]


def replay_record(
    letter: DeadLetter, names: TopicNames, registry: PartnerRegistry
) -> OutRecord | str:
    """The record that re-publishes ``letter``, or why it cannot be replayed."""
    topic = letter.source_topic
    if topic is None:
        return "no source header: the DLQ record does not say where it came from"
    if not letter.value:
        return "no payload: the original could not be read or was empty; ask for a resend"
    replay_of = (HEADER_REPLAY_OF, str(letter.ref).encode())
    if topic == names.canonical:
        # A record the route stage refused: its routing headers go back with it.
        kept = [(k, v) for k, v in letter.headers if not _is_dlq_header(k)]
        return OutRecord(topic, letter.value, letter.key, [*kept, replay_of])
    partner_id = names.partner_of_out_topic(topic)
    if partner_id is None or registry.get(partner_id) is None:
        return f"source {topic} is not the outbox of a registered partner"
    return OutRecord(topic, letter.value, None, [replay_of])


def _is_dlq_header(name: str) -> bool:
    return name.startswith("kh-dlq-") or name == HEADER_REPLAY_OF


def plan_replay(
    letters: Sequence[DeadLetter],
    replays: dict[str, Replay],
    names: TopicNames,
    registry: PartnerRegistry,
    *,
    again: bool = False,
) -> ReplayPlan:
    """Which of ``letters`` go where, and which are skipped and why. Sends nothing."""
    send: list[PlannedReplay] = []
    skipped: list[Skipped] = []
    for letter in letters:
        previous = replays.get(str(letter.ref))
        if previous is not None and not again:
            skipped.append(
                Skipped(
                    letter,
                    f"replayed before ({previous.count}x, last to {previous.target}); "
                    "--again replays it once more",
                )
            )
            continue
        record = replay_record(letter, names, registry)
        if isinstance(record, str):
            skipped.append(Skipped(letter, record))
        else:
            send.append(PlannedReplay(letter, record, previous))
    return ReplayPlan(tuple(send), tuple(skipped))


async def execute_replay(
    kafka: KafkaConnection,
    names: TopicNames,
    plan: ReplayPlan,
    *,
    transactional_id: str,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = REPLAY_CHUNK,
) -> list[Replay]:
    """Re-publish the planned records, each chunk with its log records in one transaction.

    A failure stops the run with a DlqError that says how far it got; what was replayed is
    logged, so running the same command again continues where it stopped.
    """
    producer = Producer(producer_settings(kafka, "ketenhub-dlq-replay", transactional_id))
    done: list[Replay] = []
    try:
        await asyncio.to_thread(producer.init_transactions, TRANSACTION_TIMEOUT_S)
        for start in range(0, len(plan.send), chunk_size):
            chunk = plan.send[start : start + chunk_size]
            producer.begin_transaction()
            try:
                sent = await deliver(producer, [p.record for p in chunk], TRANSACTION_TIMEOUT_S)
                now = datetime.now(UTC)
                logged = [
                    Replay(
                        dlq_ref=str(p.letter.ref),
                        target=f"{r.topic}:{r.partition}:{r.offset}",
                        at=now,
                        count=(p.previous.count + 1) if p.previous else 1,
                    )
                    for p, r in zip(chunk, sent, strict=True)
                ]
                log_records = [
                    OutRecord(names.dlq_replays, e.model_dump_json().encode(), e.dlq_ref.encode())
                    for e in logged
                ]
                await deliver(producer, log_records, TRANSACTION_TIMEOUT_S)
                await asyncio.to_thread(producer.commit_transaction, TRANSACTION_TIMEOUT_S)
            except BaseException:
                with contextlib.suppress(KafkaException):  # a fatal error cannot even abort
                    await asyncio.to_thread(producer.abort_transaction, TRANSACTION_TIMEOUT_S)
                raise
            done.extend(logged)
            if progress is not None:
                progress(len(chunk))
    except (KafkaException, TimeoutError) as exc:
        if _error_code(exc) in FENCED:
            raise DlqError(
                f"another `ketenhub dlq replay` took over (same transactional id) after "
                f"{len(done)} of {len(plan.send)} records; what was replayed is logged"
            ) from None
        raise DlqError(
            f"replay stopped after {len(done)} of {len(plan.send)} records "
            f"({_error_name(exc)}); run the same command again to continue: replayed "
            "records are logged and skipped"
        ) from None
    return done


def _error_code(exc: BaseException) -> int | None:
    error = exc.args[0] if exc.args else None
    return error.code() if isinstance(error, KafkaError) else None


def _error_name(exc: BaseException) -> str:
    """librdkafka's error name (``_MSG_TIMED_OUT``, ``TOPIC_AUTHORIZATION_FAILED``...)."""
    error = exc.args[0] if exc.args else None
    return error.name() if isinstance(error, KafkaError) else type(exc).__name__
