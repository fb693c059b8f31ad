"""Ingest: native bytes on a partner's outbox -> canonical FHIR Bundle, or DLQ + nack.

Stateless. Bad input never raises out of ``handle``: it becomes a DLQ record and a nack.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from logging import DEBUG

import orjson

from adapters.base import Adapter, AdapterError, DecodeContext, Decoded
from hub.context import HubContext
from hub.stages.households import HouseholdTable
from hub.stages.records import (
    HEADER_DLQ_AT,
    HEADER_DLQ_DETAIL,
    HEADER_DLQ_PARTNER,
    HEADER_DLQ_REASON,
    HEADER_DLQ_SOURCE,
    HEADER_EVENT,
    HEADER_KIND,
    HEADER_MESSAGE_ID,
    HEADER_REPLAY_OF,
    InRecord,
    OutRecord,
)
from hub.stages.rekey import NOTHING_RENAMED, KnownAs, known_as, stale, successor
from observability.audit import trace_id
from observability.logging import get_logger
from observability.metrics import UNKNOWN_EVENT, HubMetrics
from schemas import fhir
from schemas.codes import MessageEvent, RejectReason
from schemas.envelope import MAX_AGE, envelope_headers
from schemas.fhir import FhirInvalidError
from schemas.ids import derived_id
from schemas.partners import Partner

STAGE = "ingest"
_MESSAGE_NAMESPACE = uuid.UUID("6f1c6f0e-4b7a-4f2e-9a55-0c1f3b1e8a10")
log = get_logger(__name__)
_DLQ_REF = re.compile(rb"\d{1,9}:\d{1,19}")


def age_on(birth_date: date | None, today: date) -> int | None:
    """Age in whole years: the only trace of a birth date that travels past ingest."""
    if birth_date is None:
        return None
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return max(0, today.year - birth_date.year - before_birthday)


def _rekey_facts(migrating: str | None, known: KnownAs) -> dict[str, object]:
    """The routing facts of a key rotation: nothing at all while no child is renamed."""
    out: dict[str, object] = {}
    if migrating is not None:
        out["key_migration"] = migrating
    if known.previous:
        out["renamed_children"] = known.renamed
    return out


def hub_message_id(topic: str, partition: int, offset: int) -> str:
    """Deterministic per input record, so a retried batch produces the very same ids."""
    return derived_id(_MESSAGE_NAMESPACE, f"{topic}/{partition}/{offset}")


@dataclass(slots=True)
class HouseholdMoves:
    """What a message changes in the household table, and the routing facts that say so."""

    merge_from: tuple[str, ...]
    moved: list[tuple[str, str]]
    """(child, its new household)"""
    split_children: tuple[str, ...]
    household: str
    split_household: str | None

    @property
    def facts(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.merge_from:
            out.update(merge_into=self.household, merge_from=self.merge_from)
        if self.split_household:
            out.update(split_children=self.split_children, split_household=self.split_household)
        return out


@dataclass(frozen=True)
class IngestStage:
    ctx: HubContext
    metrics: HubMetrics
    name: str = STAGE
    households: HouseholdTable = field(default_factory=HouseholdTable)
    _adapters: dict[str, tuple[Adapter, bool]] = field(default_factory=dict, repr=False)
    """Partner id -> its adapter and whether that is trusted (bounded by the registry)."""
    _partners: dict[str, Partner] = field(default_factory=dict, repr=False)
    """Outbox topic -> its known partner, so the topic's name is parsed once, not per
    message; bounded by the registry (an unknown partner's topic is never kept)."""

    @property
    def pattern(self) -> str:
        return self.ctx.names.partner_out_pattern

    def handle(self, record: InRecord) -> list[OutRecord]:
        out = self._handle(record)
        replay_of = next((v for k, v in record.headers if k == HEADER_REPLAY_OF), None)
        if replay_of is None or not _DLQ_REF.fullmatch(replay_of):
            return out
        # A replayed message that fails again says so in its new DLQ record.
        tag = (HEADER_REPLAY_OF, replay_of)
        return [
            replace(r, headers=[*r.headers, tag]) if r.topic == self.ctx.names.dlq else r
            for r in out
        ]

    def batch_committed(self) -> None:
        self.households.commit()

    def batch_aborted(self) -> None:
        self.households.rollback()

    def unreadable(self, record: InRecord) -> list[OutRecord]:
        """A record the Kafka client could not parse: a DLQ record (no bytes) and a nack."""
        topic, partition, offset = record.topic, record.partition, record.offset
        message_id = hub_message_id(topic, partition, offset)
        now = datetime.now(UTC)
        error = AdapterError(
            RejectReason.MALFORMED,
            "the Kafka record could not be read: it has a header name that is not valid UTF-8",
        )
        partner_id = self.ctx.names.partner_of_out_topic(topic) or "?"
        partner = self.ctx.registry.get(partner_id)
        if partner is None:
            self.metrics.rejects.labels(STAGE, RejectReason.MALFORMED.value).inc()
            return [self._dlq(partner_id, b"", error, message_id, now, topic, partition, offset)]
        return self._reject(partner, b"", error, message_id, now, topic, partition, offset)

    def _handle(self, record: InRecord) -> list[OutRecord]:
        topic, partition, offset, value = (
            record.topic,
            record.partition,
            record.offset,
            record.value,
        )
        message_id = hub_message_id(topic, partition, offset)
        now = datetime.now(UTC)
        partner = self._partners.get(topic)
        if partner is None:
            partner_id = self.ctx.names.partner_of_out_topic(topic) or "?"
            partner = self.ctx.registry.get(partner_id)
            if partner is not None:
                self._partners[topic] = partner
        if partner is None:
            self.metrics.rejects.labels(STAGE, RejectReason.UNKNOWN_PARTNER).inc()
            log.warning("rejected", reason=RejectReason.UNKNOWN_PARTNER.value, topic=topic)
            error = AdapterError(RejectReason.UNKNOWN_PARTNER, "topic belongs to no known partner")
            return [
                self._dlq(
                    partner_id, value or b"", error, message_id, now, topic, partition, offset
                )
            ]
        try:
            decoded, age = self._decode(partner, value, message_id, now)
        except AdapterError as error:
            return self._reject(
                partner, value or b"", error, message_id, now, topic, partition, offset
            )
        except Exception as exc:  # an adapter bug must not stop the stream
            log.error("adapter-crash", partner=partner.id, error_type=type(exc).__name__)
            crash = AdapterError(
                RejectReason.INTERNAL_ERROR, "the hub could not process this message"
            )
            return self._reject(
                partner, value or b"", crash, message_id, now, topic, partition, offset
            )
        self.metrics.messages_in.labels(STAGE, partner.id, decoded.event).inc()
        if log.is_enabled_for(DEBUG):  # its trace id is not worth deriving for nobody
            log.debug("ingested", partner=partner.id, message_event=decoded.event.value,
                      trace_id=trace_id(message_id))  # fmt: skip
        source = f"{topic}:{partition}:{offset}"
        return self._canonical(partner, decoded, age, message_id, now, record.timestamp_ms, source)

    def _decode(
        self, partner: Partner, value: bytes | None, message_id: str, now: datetime
    ) -> tuple[Decoded, int | None]:
        """The decoded message and the child's age now (None: no birth date)."""
        if value is None:
            raise AdapterError(RejectReason.MALFORMED, "empty message")
        if len(value) > self.ctx.settings.max_payload_bytes:
            raise AdapterError(
                RejectReason.PAYLOAD_TOO_LARGE,
                f"payload exceeds {self.ctx.settings.max_payload_bytes} bytes",
            )
        adapter, trusted = self._adapter_of(partner)
        context = DecodeContext(partner, self.ctx.registry, message_id, now)
        try:
            decoded = adapter.decode(value, context)
            # A built-in adapter's Bundles are proven valid in the tests, once for all; any
            # other adapter's are checked here, each one (see adapters.registry).
            if not trusted:
                fhir.validate_bundle(decoded.bundle)
        except FhirInvalidError as exc:
            raise AdapterError(RejectReason.SCHEMA_INVALID, str(exc)) from None
        age = age_on(decoded.child_birth_date, now.date())
        if age is not None and age > MAX_AGE:  # route would refuse its envelope, unexplained
            raise AdapterError(
                RejectReason.SCHEMA_INVALID,
                f"the child's birth date lies more than {MAX_AGE} years back",
                decoded.partner_message_id,
            )
        return decoded, age

    def _adapter_of(self, partner: Partner) -> tuple[Adapter, bool]:
        """The partner's adapter and whether its output is trusted: looked up once per
        partner (bounded by the registry), not per message."""
        found = self._adapters.get(partner.id)
        if found is None:
            name = partner.adapter_name
            adapters = self.ctx.adapters
            found = self._adapters[partner.id] = adapters.get(name), adapters.output_trusted(name)
        return found

    def _canonical(
        self,
        partner: Partner,
        decoded: Decoded,
        age: int | None,
        message_id: str,
        now: datetime,
        sent_ms: int,
        source: str,
    ) -> list[OutRecord]:
        pseudonyms = self.ctx.pseudonyms
        child = pseudonyms.child(decoded.subject_key)
        siblings = tuple(pseudonyms.child(bsn) for bsn in decoded.household_member_bsns)
        previous = self.ctx.previous_pseudonyms
        known = NOTHING_RENAMED
        if previous is not None:  # a key rotation is under way
            known = known_as(
                self.households.members, pseudonyms, previous,
                (decoded.subject_key, *decoded.household_member_bsns, *decoded.leaving_bsns,
                 *("correlation:" + a for a in decoded.aliases)),
            )  # fmt: skip
        household = self.households.household_for(
            known(child),
            map(known, siblings),
            default=lambda: pseudonyms.household_of(decoded.subject_key),
        )
        migrating = household if stale(household, pseudonyms) else None
        if migrating is not None:  # on the previous key: it moves, as in a merge
            household = successor(pseudonyms, migrating, self.ctx.settings.partitions)
        named = (known(child), *map(known, siblings))
        moves = self._household_moves(decoded, message_id, household, named, migrating, known)
        aliases = tuple(pseudonyms.child("correlation:" + a) for a in decoded.aliases)
        placed = self.households.join(household, (child, *siblings, *aliases))
        # The envelope's headers, written straight from the values (see envelope_headers);
        # the merge goes round the joining households' states first.
        routed_to = moves.merge_from[0] if moves.merge_from else household
        recipient = decoded.recipient
        headers = envelope_headers(
            {
                "message_id": message_id,
                "event": decoded.event,
                "sender_id": partner.id,
                "sender_kind": partner.kind,
                "partner_message_id": decoded.partner_message_id,
                "household": routed_to,
                "child": child,
                "recipient_id": recipient.id if recipient else None,
                "recipient_kind": recipient.kind if recipient else None,
                "received_at": now,
                "source": source,
            },
            decoded.facts,
            {
                "child_age": age,
                "household_members": siblings,
                "area": decoded.facts.area or partner.area,
                **moves.facts,
                **_rekey_facts(migrating, known),
            },
        )
        memberships = [
            OutRecord(self.ctx.names.households, household.encode(), member.encode())
            for member in placed
        ] + [
            OutRecord(self.ctx.names.households, to.encode(), member.encode())
            for member, to in moves.moved
        ]
        canonical = OutRecord(
            topic=self.ctx.names.canonical,
            key=routed_to.encode(),
            value=orjson.dumps(decoded.bundle),
            headers=headers,
            # The partner's publish time travels on, so route can stamp it on deliveries
            # (kh-sent-at) and end-to-end latency is measurable where it ends.
            timestamp_ms=sent_ms if sent_ms > 0 else None,
        )
        return [*memberships, canonical]

    def _household_moves(
        self,
        decoded: Decoded,
        message_id: str,
        household: str,
        named: tuple[str, ...],
        migrating: str | None = None,
        known: KnownAs = NOTHING_RENAMED,
    ) -> HouseholdMoves:
        """Children of two known households named together merge them into ``household``;
        children who left (a household change) form a household of their own. A household
        ``migrating`` from the previous key moves first, so it arrives at its new pseudonym
        before any other state does."""
        table = self.households
        merge_from = tuple(h for h in table.households_of(named) if h != household)
        if migrating is not None:
            merge_from = (migrating, *(h for h in merge_from if h != migrating))
        moved = [
            (child, household)
            for other in merge_from
            for child in table.move(table.members_of(other), household)
        ]
        leaving = tuple(dict.fromkeys(self.ctx.pseudonyms.child(b) for b in decoded.leaving_bsns))
        leaving = tuple(c for c in leaving if table.members.get(known(c)) in (household, None))
        split_household = None
        if leaving:
            split_household = self.ctx.pseudonyms.split_household(
                decoded.leaving_bsns[0], message_id
            )
            moved += [(c, split_household) for c in table.move(leaving, split_household)]
        return HouseholdMoves(merge_from, moved, leaving, household, split_household)

    def _reject(
        self,
        partner: Partner,
        value: bytes,
        error: AdapterError,
        message_id: str,
        now: datetime,
        topic: str,
        partition: int,
        offset: int,
    ) -> list[OutRecord]:
        self.metrics.messages_in.labels(STAGE, partner.id, UNKNOWN_EVENT).inc()
        self.metrics.rejects.labels(STAGE, error.code.value).inc()
        log.info("rejected", partner=partner.id, reason=error.code.value, message_id=message_id,
                 trace_id=trace_id(message_id))  # fmt: skip
        nack = fhir.response_bundle(
            hub_message_id=derived_id(message_id, "nack"),
            in_response_to=message_id,
            partner_message_id=error.partner_message_id,
            recipient_id=partner.id,
            at=now,
            reject=error.code,
            reason=error.message,
            source=f"{topic}:{partition}:{offset}",
        )
        adapter = self.ctx.adapters.get(partner.adapter_name)
        self.metrics.messages_out.labels(STAGE, partner.id, "nack", UNKNOWN_EVENT).inc()
        return [
            self._dlq(partner.id, value, error, message_id, now, topic, partition, offset),
            OutRecord(
                topic=self.ctx.names.partner_in(partner.id),
                value=adapter.encode(nack),
                key=None,
                headers=[
                    (HEADER_MESSAGE_ID, message_id.encode()),
                    (HEADER_KIND, b"nack"),
                    (HEADER_EVENT, MessageEvent.ACKNOWLEDGEMENT.value.encode()),
                ],
            ),
        ]

    def _dlq(
        self,
        partner_id: str,
        value: bytes,
        error: AdapterError,
        message_id: str,
        now: datetime,
        topic: str,
        partition: int,
        offset: int,
    ) -> OutRecord:
        """The original bytes, untouched, with why and where from: replayable later."""
        return OutRecord(
            topic=self.ctx.names.dlq,
            key=partner_id.encode(),
            value=value,
            headers=[
                (HEADER_MESSAGE_ID, message_id.encode()),
                (HEADER_DLQ_REASON, error.code.value.encode()),
                (HEADER_DLQ_DETAIL, error.message.encode()),
                (HEADER_DLQ_PARTNER, partner_id.encode()),
                (HEADER_DLQ_SOURCE, f"{topic}:{partition}:{offset}".encode()),
                (HEADER_DLQ_AT, now.isoformat().encode()),
            ],
        )
