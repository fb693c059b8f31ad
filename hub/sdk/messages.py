"""What a partner gets back from the SDK: its sends, and the records on its inbox."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hub.sdk.wire import DeliveryKind
from schemas.notices import Ack, HubNotice, Nack, OutboxRef

Answer = Ack | Nack
"""The hub's answer to one send."""


@dataclass(frozen=True)
class Sent:
    """One published message: where Kafka put it, and the partner's own id when it had one.

    ``partition`` and ``offset`` are None only on faststream's in-memory test broker, which
    confirms no position.
    """

    topic: str
    partition: int | None
    offset: int | None
    message_id: str | None = None
    answered: asyncio.Future[Answer] | None = field(default=None, repr=False, compare=False)
    """Resolved with the hub's answer (``PartnerClient.answer`` waits for it)."""

    @property
    def ref(self) -> OutboxRef | None:
        """The reference every ack and nack of this send carries as ``source``."""
        if self.partition is None or self.offset is None:
            return None
        return OutboxRef(topic=self.topic, partition=self.partition, offset=self.offset)

    def __str__(self) -> str:
        return f"{self.topic} partition {self.partition} offset {self.offset}"


@dataclass(frozen=True)
class Delivery:
    """One record from the partner's inbox.

    ``sent`` is the send an ack or nack answers, when it was made by this client; ``answer``
    the parsed ack or nack, ``notice`` the parsed hub notice.
    """

    kind: DeliveryKind | None
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    hub_message_id: str
    event: str
    value: bytes = field(repr=False)
    headers: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)
    answer: Answer | None = None
    notice: HubNotice | None = None
    sent: Sent | None = None

    def body(self) -> Any:
        """The value as JSON, or as text for an XML (iJw) message."""
        try:
            return json.loads(self.value)
        except ValueError:
            return self.value.decode(errors="replace")


def parse_answer(value: bytes) -> Answer | None:
    """An ack or nack body; None for anything else (a foreign record on the topic)."""
    for model in (Ack, Nack):
        try:
            return model.model_validate_json(value)
        except ValidationError:
            continue
    return None


def parse_notice(value: bytes) -> HubNotice | None:
    try:
        return HubNotice.model_validate_json(value)
    except ValidationError:
        return None
