"""``PartnerClient``: what a partner system embeds to talk to the hub, on faststream.

A partner publishes its native messages on its outbox and reads its inbox; that is all the
hub's ACLs let it do. The client logs in with the partner's SCRAM-SHA-512 secret, publishes
idempotently (acks from all in-sync replicas), and hands every inbox record to the handler
registered for its delivery kind, with acks and nacks matched to the send they answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from ssl import SSLContext
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.security import BaseSecurity, SASLScram512
from pydantic import BaseModel

from hub.sdk.correlation import Correlator
from hub.sdk.messages import Answer, Delivery, Sent, parse_answer, parse_notice
from hub.sdk.wire import (
    DEFAULT_TOPIC_PREFIX,
    HEADER_EVENT,
    HEADER_KIND,
    HEADER_MESSAGE_ID,
    DeliveryKind,
    inbox_topic,
    outbox_topic,
)

Handler = Callable[[Delivery], Awaitable[None]]
"""**Protocol:** an async callable that gets one inbox record."""

DEFAULT_MAX_BYTES = 512 * 1024
"""The hub's default ``KETENHUB_MAX_PAYLOAD_BYTES``: larger messages are nacked anyway."""
READY_TIMEOUT_S = 30.0
log = logging.getLogger(__name__)


class MessageTooLarge(ValueError):
    """Refused before sending: the hub would nack it (``payload-too-large``)."""

    def __init__(self, size: int, limit: int, what: str = "the message") -> None:
        super().__init__(
            f"{what} is {_size(size)}; the hub takes at most {_size(limit)} per message"
        )
        self.size = size
        self.limit = limit


class PartnerClient:
    """One partner's connection to the hub.

    ``password`` is the partner's SCRAM-SHA-512 secret (its Kafka user is its partner id);
    ``ssl_context`` turns on TLS. ``group_id`` None reads the inbox without a consumer group
    (every partition, no committed position; ``consumer_group`` names the one its ACL
    allows); ``from_beginning`` starts at the oldest record instead of new ones.
    Pass ``broker`` to run on another faststream broker, e.g. inside ``TestKafkaBroker``.
    """

    def __init__(
        self,
        partner_id: str,
        *,
        bootstrap: str = "localhost:19092",
        password: str | None = None,
        ssl_context: SSLContext | None = None,
        topic_prefix: str = DEFAULT_TOPIC_PREFIX,
        group_id: str | None = None,
        from_beginning: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
        broker: KafkaBroker | None = None,
    ) -> None:
        self.partner_id = partner_id
        self.outbox = outbox_topic(partner_id, topic_prefix)
        self.inbox = inbox_topic(partner_id, topic_prefix)
        self.max_bytes = max_bytes
        self.broker = broker or KafkaBroker(
            bootstrap,
            security=_security(partner_id, password, ssl_context),
            client_id=f"ketenhub-sdk-{partner_id}",
            acks="all",
            enable_idempotence=True,
            allow_auto_create_topics=False,
            logger=None,
        )
        self._handlers: dict[DeliveryKind, list[Handler]] = {k: [] for k in DeliveryKind}
        self._correlator = Correlator()
        self._subscriber = self.broker.subscriber(
            self.inbox,
            group_id=group_id,
            auto_offset_reset="earliest" if from_beginning else "latest",
            isolation_level="read_committed",
            title=f"{self.inbox}:inbox",
        )
        self._subscriber(self._on_record)

    # -- handlers --------------------------------------------------------------------------

    def on(self, kind: DeliveryKind) -> Callable[[Handler], Handler]:
        """Decorator: call the handler for every inbox record of that kind."""

        def register(handler: Handler) -> Handler:
            self._handlers[kind].append(handler)
            return handler

        return register

    def on_forward(self, handler: Handler) -> Handler:
        return self.on(DeliveryKind.FORWARD)(handler)

    def on_ack(self, handler: Handler) -> Handler:
        return self.on(DeliveryKind.ACK)(handler)

    def on_nack(self, handler: Handler) -> Handler:
        return self.on(DeliveryKind.NACK)(handler)

    def on_notify(self, handler: Handler) -> Handler:
        return self.on(DeliveryKind.NOTIFY)(handler)

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, log in, and return once the inbox is being read (nothing is missed)."""
        await self.broker.start()
        await self._inbox_ready()

    async def stop(self) -> None:
        await self.broker.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        await self.stop()

    # -- sending ---------------------------------------------------------------------------

    async def send(self, message: BaseModel | bytes, *, key: bytes | None = None) -> Sent:
        """Publish one native message on the outbox; returns where Kafka put it.

        A pydantic model is sent as its JSON; bytes as they are (iJw XML, say). The hub
        keys by household itself, so ``key`` only matters for ordering on the outbox.
        """
        if isinstance(message, BaseModel):
            value = message.model_dump_json(exclude_none=True).encode()
            message_id = getattr(message, "message_id", None)
        else:
            value, message_id = message, _message_id_of(message)
        if len(value) > self.max_bytes:
            raise MessageTooLarge(len(value), self.max_bytes)
        pending = self._correlator.open(self.outbox, message_id)
        try:
            metadata = await self.broker.publish(value, self.outbox, key=key)
        except BaseException:
            self._correlator.abandon(pending)
            raise
        if metadata is None:  # faststream's in-memory test broker confirms no position
            sent = Sent(self.outbox, None, None, message_id, pending.future)
        else:
            sent = Sent(metadata.topic, metadata.partition, metadata.offset, message_id,
                        pending.future)  # fmt: skip
        self._correlator.confirm(pending, sent)
        return sent

    async def answer(self, sent: Sent, timeout: float = 30.0) -> Answer:
        """The hub's ack or nack of ``sent``; TimeoutError if none came in time."""
        if sent.answered is None:
            raise LookupError(f"{sent} was not sent by this client")
        return await asyncio.wait_for(asyncio.shield(sent.answered), timeout)

    # -- receiving -------------------------------------------------------------------------

    async def _on_record(self, message: KafkaMessage) -> None:
        record = message.raw_message
        headers = tuple((k, bytes(v)) for k, v in (getattr(record, "headers", None) or ()))
        value = bytes(message.body or b"")
        kind = _kind(_header(headers, HEADER_KIND))
        answer = parse_answer(value) if kind in (DeliveryKind.ACK, DeliveryKind.NACK) else None
        delivery = Delivery(
            kind=kind,
            topic=getattr(record, "topic", self.inbox),
            partition=getattr(record, "partition", 0) or 0,
            offset=getattr(record, "offset", 0) or 0,
            timestamp_ms=getattr(record, "timestamp", 0) or 0,
            hub_message_id=_header(headers, HEADER_MESSAGE_ID) or "",
            event=_header(headers, HEADER_EVENT) or "",
            value=value,
            headers=headers,
            answer=answer,
            notice=parse_notice(value) if kind is DeliveryKind.NOTIFY else None,
            sent=self._correlator.match(answer) if answer is not None else None,
        )
        if kind is None:
            return  # not a hub record: nothing this client knows how to hand on
        for handler in self._handlers[kind]:
            try:
                await handler(delivery)
            except Exception:
                # One failing handler must not stop the inbox; the partner's code logs why.
                log.exception("inbox handler failed", extra={"kind": kind.value})

    async def _inbox_ready(self) -> None:
        """Wait until the inbox consumer has its partitions and positions.

        Without this a send right after ``start`` could be answered before the consumer
        looked for the newest offset, and the answer would be skipped.
        """
        consumer = getattr(self._subscriber, "consumer", None)
        if not isinstance(consumer, AIOKafkaConsumer):
            return  # in-memory test broker
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT_S
        while not consumer.assignment():
            if loop.time() > deadline:
                raise TimeoutError(f"no partitions of {self.inbox} assigned in time")
            await asyncio.sleep(0.05)
        for tp in consumer.assignment():
            await consumer.position(tp)


def _security(
    partner_id: str, password: str | None, ssl_context: SSLContext | None
) -> BaseSecurity | None:
    """SCRAM-SHA-512 as the partner's own Kafka user when there is a secret; TLS with a
    context."""
    if password is not None:
        return SASLScram512(partner_id, password, ssl_context=ssl_context)
    if ssl_context is not None:
        return BaseSecurity(ssl_context=ssl_context)
    return None


def _message_id_of(value: bytes) -> str | None:
    """The partner's ``message_id`` of a native JSON message, if there is one."""
    if not value.lstrip().startswith(b"{"):
        return None
    with contextlib.suppress(ValueError):
        body: Any = json.loads(value)
        if isinstance(body, dict) and isinstance(body.get("message_id"), str):
            return str(body["message_id"])
    return None


def _kind(value: str | None) -> DeliveryKind | None:
    try:
        return DeliveryKind(value) if value is not None else None
    except ValueError:
        return None


def _header(headers: tuple[tuple[str, bytes], ...], name: str) -> str | None:
    return next((v.decode(errors="replace") for k, v in headers if k == name), None)


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    return f"{n / 1024:.0f} KiB"
