"""The SDK's handlers and correlation on faststream's in-memory broker, with a fake hub.

The fake hub answers inside the publish call (that is how ``TestKafkaBroker`` delivers), so
these tests pin the orderings a fast real hub can produce too. Delivery guarantees are for
the real-broker tests in ``tests/e2e/test_sdk_e2e.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from hub.sdk import (
    Ack,
    Delivery,
    DeliveryKind,
    MessageTooLarge,
    Nack,
    PartnerClient,
    inbox_topic,
    outbox_topic,
)
from hub.sdk.client import Handler
from hub.sdk.wire import HEADER_EVENT, HEADER_KIND, HEADER_MESSAGE_ID
from schemas.codes import RejectReason
from schemas.huisarts import HuisartsReferral
from schemas.notices import HubNotice

GP = "huisarts-wijert"
GOLDEN = Path(__file__).resolve().parents[3] / "schemas/examples/huisarts-verwijzing.json"


def _fake_hub(broker: KafkaBroker) -> list[bytes]:
    """Acks what parses as JSON with a message_id, nacks the rest; a notice after each ack."""
    seen: list[bytes] = []

    @broker.subscriber(outbox_topic(GP))
    async def hub(message: KafkaMessage) -> None:
        body = message.body
        seen.append(body)
        at = datetime.now(UTC)
        answer: Ack | Nack
        try:
            message_id = json.loads(body)["message_id"]
            answer = Ack(in_response_to=message_id, hub_message_id="h-1", delivered_to=("x",),
                         at=at)  # fmt: skip
        except (ValueError, KeyError):
            answer = Nack(in_response_to=None, hub_message_id="h-2", at=at,
                          reason_code=RejectReason.MALFORMED, reason="not JSON")  # fmt: skip
        headers = {HEADER_KIND: answer.type, HEADER_MESSAGE_ID: answer.hub_message_id,
                   HEADER_EVENT: "acknowledgement"}  # fmt: skip
        await broker.publish(answer.model_dump_json().encode(), inbox_topic(GP), headers=headers)
        if isinstance(answer, Ack):
            notice = HubNotice(hub_message_id="h-3", subject="regie-granted", at=at)
            await broker.publish(
                notice.model_dump_json().encode(), inbox_topic(GP),
                headers={HEADER_KIND: "notify", HEADER_MESSAGE_ID: "h-3"},
            )  # fmt: skip

    return seen


async def test_a_model_is_sent_as_its_json_and_its_ack_matched() -> None:
    client = PartnerClient(GP)
    seen = _fake_hub(client.broker)
    acks: list[Delivery] = []
    notices: list[Delivery] = []
    client.on_ack(_append_to(acks))
    client.on_notify(_append_to(notices))
    referral = HuisartsReferral.model_validate_json(GOLDEN.read_bytes())
    async with TestKafkaBroker(client.broker, connect_only=False), client:
        sent = await client.send(referral)
        answer = await client.answer(sent, timeout=1)
    assert json.loads(seen[0])["message_id"] == referral.message_id
    assert isinstance(answer, Ack) and answer.in_response_to == referral.message_id
    [ack] = acks
    assert ack.kind is DeliveryKind.ACK and ack.sent == sent and ack.answer == answer
    [notice] = notices
    assert notice.notice is not None and notice.notice.subject == "regie-granted"
    assert notice.sent is None


async def test_unreadable_bytes_are_nacked_and_the_nack_handler_runs() -> None:
    client = PartnerClient(GP)
    _fake_hub(client.broker)
    nacks: list[Delivery] = []
    client.on_nack(_append_to(nacks))
    async with TestKafkaBroker(client.broker, connect_only=False), client:
        await client.send(b"\x00 not json")
    [nack] = nacks
    assert isinstance(nack.answer, Nack)
    assert nack.answer.reason_code is RejectReason.MALFORMED
    # In memory there is no outbox position to match by: the real-broker test covers that.
    assert nack.sent is None


async def test_a_failing_handler_does_not_stop_the_inbox() -> None:
    client = PartnerClient(GP)
    _fake_hub(client.broker)
    notices: list[Delivery] = []

    @client.on_ack
    async def broken(delivery: Delivery) -> None:
        raise RuntimeError("a partner's bug")

    client.on_notify(_append_to(notices))
    async with TestKafkaBroker(client.broker, connect_only=False), client:
        await client.send(GOLDEN.read_bytes())
    assert len(notices) == 1


async def test_too_large_is_refused_before_sending_naming_the_limit() -> None:
    client = PartnerClient(GP, max_bytes=1024)
    seen = _fake_hub(client.broker)
    async with TestKafkaBroker(client.broker, connect_only=False), client:
        with pytest.raises(MessageTooLarge, match="at most 1 KiB") as raised:
            await client.send(b"{" + b" " * 5000 + b"}")
    assert raised.value.size == 5002
    assert seen == []


def _append_to(into: list[Delivery]) -> Handler:
    async def handler(delivery: Delivery) -> None:
        into.append(delivery)

    return handler
