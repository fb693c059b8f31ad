"""The partner SDK: what a partner system embeds to send to and receive from the hub.

Built on faststream (aiokafka) and the native pydantic models in ``schemas``; it imports
nothing of the hub's stages or Kafka plumbing, so it is the same code path a real partner
runs. See ``docs/partners.md``.
"""

from hub.sdk.client import MessageTooLarge, PartnerClient
from hub.sdk.messages import Answer, Delivery, Sent
from hub.sdk.wire import DeliveryKind, consumer_group, inbox_topic, outbox_topic
from schemas.notices import Ack, HubNotice, Nack, OutboxRef

__all__ = [
    "Ack",
    "Answer",
    "Delivery",
    "DeliveryKind",
    "HubNotice",
    "MessageTooLarge",
    "Nack",
    "OutboxRef",
    "PartnerClient",
    "Sent",
    "consumer_group",
    "inbox_topic",
    "outbox_topic",
]
