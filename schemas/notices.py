"""Acknowledgements the hub sends back to a partner that published a message."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.base import PrivateModel
from schemas.codes import RejectReason


class OutboxRef(PrivateModel):
    """The outbox record an ack or nack answers: what ``ketenhub send`` printed for it.

    The one reference a partner always has, also for bytes the hub could not read.
    """

    topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)

    @classmethod
    def parse(cls, text: str) -> OutboxRef:
        """From ``topic:partition:offset`` (Kafka topic names hold no colon)."""
        topic, partition, offset = text.rsplit(":", 2)
        return cls(topic=topic, partition=int(partition), offset=int(offset))


class Ack(PrivateModel):
    """The message was accepted and delivered to every recipient it may reach.

    ``duplicate`` is true when the partner resent a message the hub had already delivered:
    nothing was delivered a second time.
    """

    type: Literal["ack"] = "ack"
    in_response_to: str
    hub_message_id: str
    delivered_to: tuple[str, ...]
    duplicate: bool = False
    at: AwareDatetime
    source: OutboxRef | None = None


class Nack(PrivateModel):
    """The message was not accepted; ``reason_code`` is stable, ``reason`` is for people.

    Neither ever contains personal data from the rejected message. ``in_response_to`` is the
    partner's message id when the hub could read one; ``source`` is always there for a nack
    of a record on the partner's outbox.
    """

    type: Literal["nack"] = "nack"
    in_response_to: str | None
    hub_message_id: str
    reason_code: RejectReason
    reason: str
    at: AwareDatetime
    source: OutboxRef | None = None


class AboutPartner(PrivateModel):
    partner: str
    name: str
    contact: str | None = None


class HubNotice(PrivateModel):
    """Something the hub tells a partner: a regie change, a signal match, start of care.

    ``regarding`` is the partner's own message id the notice concerns, so it can find its
    client without the hub repeating any personal data.
    """

    type: Literal["hub-melding"] = "hub-melding"
    hub_message_id: str
    subject: str
    regarding: str | None = None
    about: tuple[AboutPartner, ...] = ()
    at: AwareDatetime


Notice = Ack | Nack
