"""The wire facts a partner system relies on: topic names, ``kh-*`` headers, delivery kinds.

They are the published contract (see ``docs/contracts/``), stated here once for the SDK so it
needs none of the hub's own modules; a test holds them equal to what the hub's stages write.
"""

from __future__ import annotations

from enum import StrEnum

DEFAULT_TOPIC_PREFIX = "ketenhub"

HEADER_MESSAGE_ID = "kh-message-id"
"""On every inbox record: the hub's id of the message it concerns (a UUID)."""
HEADER_KIND = "kh-kind"
"""On every inbox record: the delivery kind (``DeliveryKind``)."""
HEADER_EVENT = "kh-event"
"""On every inbox record: the hub's message event (``referral``, ``signal``, ...)."""
HEADER_SENT_AT = "kh-sent-at"
"""On a delivery from another partner: when it published the original (ms since the epoch)."""

INBOX_HEADERS = {
    HEADER_MESSAGE_ID: "the hub's id of the message this record concerns (UUID)",
    HEADER_KIND: "delivery kind: forward, ack, nack or notify",
    HEADER_EVENT: "the hub's message event, e.g. referral, signal, acknowledgement",
    HEADER_SENT_AT: "forward only: when the sender published the original (ms since the epoch)",
}


class DeliveryKind(StrEnum):
    """What an inbox record is: a message from another partner, or the hub's own answer."""

    FORWARD = "forward"
    """A message another partner sent, in this partner's native format."""
    ACK = "ack"
    """The hub accepted one of this partner's sends and delivered it."""
    NACK = "nack"
    """The hub refused one of this partner's sends; the reason code says why."""
    NOTIFY = "notify"
    """Something the hub tells: regie changes, signal matches, start of care."""


def outbox_topic(partner_id: str, prefix: str = DEFAULT_TOPIC_PREFIX) -> str:
    """Where a partner publishes (it may write here and nowhere else)."""
    return f"{prefix}.partner.{partner_id}.out"


def inbox_topic(partner_id: str, prefix: str = DEFAULT_TOPIC_PREFIX) -> str:
    """Where the hub delivers to a partner (it may read here and nowhere else)."""
    return f"{prefix}.partner.{partner_id}.in"


def consumer_group(partner_id: str, prefix: str = DEFAULT_TOPIC_PREFIX) -> str:
    """The consumer group a partner's inbox reader uses: inside its ACL's group prefix."""
    return f"{prefix}.partner.{partner_id}.inbox"
