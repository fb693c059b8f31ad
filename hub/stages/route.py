"""Route: canonical Bundle -> the routing core's decision -> encoded partner deliveries.

Holds router state per household in memory; every change is also written to the compacted
``ketenhub.state`` topic in the same transaction as the deliveries, and read back on start.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from logging import DEBUG
from typing import Any, NamedTuple

import orjson

from adapters import notices
from adapters.base import Adapter
from hub.context import HubContext
from hub.stages.household_moves import HouseholdMoves
from hub.stages.records import (
    HEADER_EVENT,
    HEADER_KIND,
    HEADER_MESSAGE_ID,
    HEADER_SENT_AT,
    InRecord,
    OutRecord,
)
from hub.stages.state_restore import read_changelog, restore_states
from hub.stages.state_store import StateStore
from observability import audit as logboek
from observability.logging import get_logger
from observability.metrics import HubMetrics
from routing.decide import Delivery, DeliveryKind
from routing.directory import Directory
from routing.minimise import minimise
from routing.state import HouseholdState
from schemas import fhir
from schemas.envelope import RoutingEnvelope
from schemas.ids import derived_id
from schemas.partners import Partner

STAGE = "route"
log = get_logger(__name__)
_NO_STATE = HouseholdState()
"""The state of a household the router has not met: a frozen value, so made once."""


class _Recipient(NamedTuple):
    """A delivery's recipient: the partner, its adapter, whether that is built in, and the
    partner's inbox topic."""

    partner: Partner
    adapter: Adapter
    built_in: bool
    inbox: str


@dataclass
class RouteStage:
    ctx: HubContext
    metrics: HubMetrics
    states: MutableMapping[str, HouseholdState] = field(default_factory=dict)
    name: str = STAGE
    _undo: dict[str, HouseholdState | None] = field(default_factory=dict, repr=False)
    """State of each household before the batch in flight changed it (None: unknown then)."""
    _recipients: dict[str, _Recipient] = field(default_factory=dict, repr=False)
    _published: list[tuple[str, int]] = field(default_factory=list, repr=False)
    """(delivery kind, partner publish time in ms) of the batch in flight, for the latency."""

    @property
    def topics(self) -> tuple[str, ...]:
        return (self.ctx.names.canonical,)

    _owned: set[int] | None = field(default=None, repr=False)
    """Canonical partitions this instance owns; None before the first assignment."""

    def __post_init__(self) -> None:
        self.directory = Directory.from_registry(self.ctx.registry)
        self.moves = HouseholdMoves(self.ctx, self.directory)

    async def partitions_assigned(self, partitions: list[int]) -> None:
        """A partition gained in a rebalance is read back from ``ketenhub.state`` first.

        The state and canonical topics have the same key and partition count, so a
        household's state sits in the partition number of its messages. At the first
        assignment the hub has restored everything moments ago, but other instances may have
        changed state since (while this one joined the group): it reads on from there.
        """
        if self._owned is None:
            self._owned = set(partitions)
            if isinstance(self.states, StateStore) and self.states.restored_to and partitions:
                await read_changelog(
                    self.ctx.kafka, self.ctx.names.state, self.states,
                    only=partitions, since=self.states.restored_to,
                )  # fmt: skip
                log.info("state-caught-up-on-first-assignment", partitions=sorted(partitions))
            return
        gained = sorted(set(partitions) - self._owned)
        self._owned |= set(partitions)
        if not gained:
            return
        fresh = await restore_states(self.ctx.kafka, self.ctx.names.state, only=gained)
        for household in list(fresh):
            self.states[household] = fresh[household]
        log.info("state-restored-on-rebalance", partitions=gained, households=len(fresh))

    def partitions_revoked(self, partitions: list[int]) -> None:
        if self._owned is not None:
            self._owned -= set(partitions)

    def handle(self, record: InRecord) -> list[OutRecord]:
        envelope = RoutingEnvelope.from_headers(record.headers)
        event = envelope.event  # a StrEnum: a str as label, header and log value alike
        self.metrics.messages_in.labels(STAGE, envelope.sender_id, event).inc()
        known = self.states.get(envelope.household)
        moving = self.moves.in_place(record, envelope, known)
        if moving is not None:  # a new key's pseudonym, in this partition: decided there now
            arriving, pointer = moving
            return [*self._keep(envelope.household, pointer), *self.handle(arriving)]
        passed = self.moves.pass_on(record, envelope, known)
        if passed is not None:  # merged into another household: it decides there
            out, state = passed
            return [*out, *self._keep(envelope.household, state)]
        before = _NO_STATE if known is None else known
        now = datetime.now(UTC)
        decision, out = self.moves.decide(record, envelope, before, now)
        key = envelope.household.encode()
        message_id = (HEADER_MESSAGE_ID, envelope.message_id.encode())
        shared = [(HEADER_EVENT, event.encode()), (HEADER_SENT_AT, b"%d" % record.timestamp_ms)]
        messages_out = self.metrics.messages_out
        for index, delivery in enumerate(decision.deliveries):
            payload = self._payload(envelope, delivery, index, record.value or b"{}", now)
            kind = delivery.kind
            if delivery.reject is not None:
                self.metrics.rejects.labels(STAGE, delivery.reject).inc()
                log.info("refused", sender=envelope.sender_id, reason=delivery.reject.value,
                         message_id=envelope.message_id,
                         trace_id=logboek.trace_id(envelope.message_id))  # fmt: skip
            messages_out.labels(STAGE, delivery.recipient_id, kind, event).inc()
            if record.timestamp_ms > 0:
                self._published.append((kind, record.timestamp_ms))
            out.append(
                OutRecord(
                    topic=self._recipient(delivery.recipient_id).inbox,
                    key=key,
                    value=payload,
                    headers=[message_id, (HEADER_KIND, kind.encode()), *shared],
                )
            )
        self.metrics.observe_decision(envelope, decision, self.directory.kind)
        audit_headers = [message_id]
        audit_topic = self.ctx.names.audit
        for entry in logboek.route_records_json(
            decision.audit, envelope, ended=datetime.now(UTC), kind_of=self.directory.kind,
            instance_id=self.ctx.settings.instance_id,
        ):  # fmt: skip
            out.append(OutRecord(audit_topic, entry, key, audit_headers))
        if log.is_enabled_for(DEBUG):
            log.debug("routed", trace_id=logboek.trace_id(envelope.message_id),
                      message_event=event.value,
                      sender=envelope.sender_id, deliveries=len(decision.deliveries))  # fmt: skip
        if decision.new_state is not before:  # a refusal or a duplicate leaves it as it was
            out += self._keep(envelope.household, decision.new_state)
        return out

    def _keep(self, household: str, state: HouseholdState) -> list[OutRecord]:
        """A household's new state: in memory (undone if the batch aborts) and the changelog."""
        known = self.states.get(household)
        # Field by field, as the models' ``==`` compares them (they have no extra or private
        # attributes), without its overhead: once per message.
        if (_NO_STATE if known is None else known).__dict__ == state.__dict__:
            return []
        self._undo.setdefault(household, known)
        self.states[household] = state
        return [
            OutRecord(self.ctx.names.state, state.model_dump_json().encode(), household.encode())
        ]

    def batch_committed(self) -> None:
        """The batch's transaction committed: its state changes are durable now."""
        self._undo.clear()
        now = time.time()
        for kind, published_ms in self._published:
            self.metrics.delivered(kind, published_ms, now)
        self._published.clear()

    def batch_aborted(self) -> None:
        """The transaction aborted and the batch comes again: undo its state changes."""
        for household, state in self._undo.items():
            if state is None:
                self.states.pop(household, None)
            else:
                self.states[household] = state
        self._undo.clear()
        self._published.clear()

    def _recipient(self, partner_id: str) -> _Recipient:
        """Looked up once per partner (bounded by the registry), not per delivery."""
        found = self._recipients.get(partner_id)
        if found is None:
            partner = self.ctx.partner(partner_id)
            name = partner.adapter_name
            found = _Recipient(
                partner,
                self.ctx.adapters.get(name),
                name in self.ctx.adapters.built_in,
                self.ctx.names.partner_in(partner_id),
            )
            self._recipients[partner_id] = found
        return found

    def _payload(
        self,
        envelope: RoutingEnvelope,
        delivery: Delivery,
        index: int,
        canonical: bytes,
        now: datetime,
    ) -> bytes:
        """The delivery in the recipient's native format, minimised for its kind."""
        recipient, adapter, built_in, _ = self._recipient(delivery.recipient_id)
        if delivery.kind is DeliveryKind.FORWARD:
            drop = self.ctx.policy.minimisation_for(recipient.kind)
            return adapter.encode(minimise(orjson.loads(canonical), drop))
        if delivery.kind is DeliveryKind.NOTIFY and delivery.notice is not None:
            notice = delivery.notice
            about = tuple(
                (pid, p.name, p.contact)
                for pid in notice.about
                if (p := self.ctx.registry.get(pid)) is not None
            )
            bundle = fhir.notification_bundle(
                hub_message_id=derived_id(envelope.message_id, f"notice-{index}"),
                recipient_id=recipient.id,
                at=now,
                subject=notice.subject.value,
                about=about,
                regarding=notice.regarding,
            )
            return adapter.encode(bundle)
        if built_in:  # encode_hub_message's
            return notices.encode_response(
                in_response_to=envelope.message_id,
                partner_message_id=envelope.partner_message_id,
                at=datetime.now(UTC),
                delivered_to=delivery.delivered_to,
                reject=delivery.reject,
                reason=delivery.reason,
                duplicate=delivery.duplicate,
                source=envelope.source,
            )
        return adapter.encode(_response(envelope, delivery))


def _response(envelope: RoutingEnvelope, delivery: Delivery) -> dict[str, Any]:
    kind = delivery.kind.value
    return fhir.response_bundle(
        hub_message_id=derived_id(envelope.message_id, kind),
        in_response_to=envelope.message_id,
        partner_message_id=envelope.partner_message_id,
        recipient_id=delivery.recipient_id,
        at=datetime.now(UTC),
        delivered_to=delivery.delivered_to,
        reject=delivery.reject,
        reason=delivery.reason,
        duplicate=delivery.duplicate,
        source=envelope.source,
    )
