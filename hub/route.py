"""Route: canonical Bundle -> the routing core's decision -> encoded partner deliveries.

Holds router state per household in memory; every change is also written to the compacted
``ketenhub.state`` topic in the same transaction as the deliveries, and read back on start.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from hub.context import HubContext
from hub.records import (
    HEADER_EVENT,
    HEADER_KIND,
    HEADER_MESSAGE_ID,
    HEADER_SENT_AT,
    InRecord,
    OutRecord,
)
from observability.logging import get_logger
from observability.metrics import HubMetrics
from routing.decide import Delivery, DeliveryKind, decide
from routing.state import HouseholdState
from schemas import fhir
from schemas.envelope import RoutingEnvelope

STAGE = "route"
log = get_logger(__name__)


@dataclass
class RouteStage:
    ctx: HubContext
    metrics: HubMetrics
    states: dict[str, HouseholdState] = field(default_factory=dict)
    name: str = STAGE

    @property
    def topics(self) -> tuple[str, ...]:
        return (self.ctx.names.canonical,)

    def handle(self, record: InRecord) -> list[OutRecord]:
        value, timestamp_ms = record.value or b"{}", record.timestamp_ms
        envelope = RoutingEnvelope.from_headers(record.headers)
        self.metrics.messages_in.labels(STAGE, envelope.sender_id).inc()
        before = self.states.get(envelope.household, HouseholdState())
        decision = decide(before, envelope, self.ctx.policy, datetime.now(UTC))
        key = envelope.household.encode()
        bundle: Mapping[str, Any] | None = None
        out: list[OutRecord] = []
        for delivery in decision.deliveries:
            if delivery.kind is DeliveryKind.FORWARD:
                bundle = bundle or orjson.loads(value)
                payload = self._encode_for(delivery.recipient_id, bundle)
            else:
                payload = self._encode_for(delivery.recipient_id, _response(envelope, delivery))
            if delivery.reject is not None:
                self.metrics.rejects.labels(STAGE, delivery.reject.value).inc()
                log.info("refused", sender=envelope.sender_id, reason=delivery.reject.value,
                         message_id=envelope.message_id)  # fmt: skip
            self.metrics.messages_out.labels(
                STAGE, delivery.recipient_id, delivery.kind.value
            ).inc()
            out.append(
                OutRecord(
                    topic=self.ctx.names.partner_in(delivery.recipient_id),
                    key=key,
                    value=payload,
                    headers=[
                        (HEADER_MESSAGE_ID, envelope.message_id.encode()),
                        (HEADER_KIND, delivery.kind.value.encode()),
                        (HEADER_EVENT, envelope.event.value.encode()),
                        (HEADER_SENT_AT, str(timestamp_ms).encode()),
                    ],
                )
            )
        for audit in decision.audit:
            out.append(OutRecord(self.ctx.names.audit, audit.model_dump_json().encode(), key))
        if decision.new_state != before:
            self.states[envelope.household] = decision.new_state
            out.append(
                OutRecord(self.ctx.names.state, decision.new_state.model_dump_json().encode(), key)
            )
        return out

    def _encode_for(self, partner_id: str, bundle: Mapping[str, Any]) -> bytes:
        partner = self.ctx.partner(partner_id)
        return self.ctx.adapters.get(partner.adapter_name).encode(bundle)


def _response(envelope: RoutingEnvelope, delivery: Delivery) -> dict[str, Any]:
    kind = delivery.kind.value
    return fhir.response_bundle(
        hub_message_id=str(uuid.uuid5(uuid.UUID(envelope.message_id), kind)),
        in_response_to=envelope.message_id,
        partner_message_id=envelope.partner_message_id,
        recipient_id=delivery.recipient_id,
        at=datetime.now(UTC),
        delivered_to=delivery.delivered_to,
        reject=delivery.reject,
        reason=delivery.reason,
        duplicate=delivery.duplicate,
    )


def restore_record(
    states: dict[str, HouseholdState], key: bytes | None, value: bytes | None
) -> None:
    """Apply one changelog record; a tombstone (no value) forgets the household."""
    if key is None:
        return
    if value is None:
        states.pop(key.decode(), None)
    else:
        states[key.decode()] = HouseholdState.model_validate_json(value)
