"""Matching answers to sends: by outbox position, by message id, and in awkward orders."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.sdk.correlation import Correlator
from hub.sdk.messages import Answer, Sent
from schemas.codes import RejectReason
from schemas.notices import Ack, Nack, OutboxRef

OUT = "ketenhub.partner.huisarts-wijert.out"
AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _nack(offset: int, message_id: str | None = None) -> Nack:
    source = OutboxRef(topic=OUT, partition=1, offset=offset)
    return Nack(in_response_to=message_id, hub_message_id="h", reason_code=RejectReason.MALFORMED,
                reason="r", at=AT, source=source)  # fmt: skip


def _ack(message_id: str, offset: int | None = None) -> Ack:
    source = None if offset is None else OutboxRef(topic=OUT, partition=1, offset=offset)
    return Ack(in_response_to=message_id, hub_message_id="h", delivered_to=(), at=AT,
               source=source)  # fmt: skip


async def test_a_nack_without_a_message_id_is_matched_by_its_outbox_position() -> None:
    correlator = Correlator()
    first, second = correlator.open(OUT, None), correlator.open(OUT, None)
    correlator.confirm(first, Sent(OUT, 1, 7))
    correlator.confirm(second, Sent(OUT, 1, 8))
    assert correlator.match(_nack(8)) == Sent(OUT, 1, 8)
    assert second.future.result() == _nack(8)
    assert not first.future.done()


async def test_an_answer_before_kafka_confirmed_the_send_still_lands() -> None:
    correlator = Correlator()
    pending = correlator.open(OUT, None)
    assert correlator.match(_nack(3)) is None  # the hub was faster than the produce response
    correlator.confirm(pending, Sent(OUT, 1, 3))
    answer: Answer = pending.future.result()
    assert answer == _nack(3)


async def test_a_resent_message_id_is_told_apart_by_position() -> None:
    correlator = Correlator()
    original, resend = correlator.open(OUT, "M-1"), correlator.open(OUT, "M-1")
    correlator.confirm(original, Sent(OUT, 1, 1, "M-1"))
    correlator.confirm(resend, Sent(OUT, 1, 2, "M-1"))
    assert correlator.match(_ack("M-1", offset=1)) == Sent(OUT, 1, 1, "M-1")
    assert correlator.match(_ack("M-1", offset=2)) == Sent(OUT, 1, 2, "M-1")
    assert original.future.done() and resend.future.done()


async def test_without_positions_the_message_id_matches_and_strangers_do_not() -> None:
    correlator = Correlator()
    pending = correlator.open(OUT, "M-2")
    assert correlator.match(_ack("someone-else")) is None
    assert correlator.match(_ack("M-2")) == Sent(OUT, None, None, "M-2")
    assert pending.future.done()


async def test_memory_is_bounded() -> None:
    correlator = Correlator(capacity=3)
    for offset in range(10):
        correlator.confirm(correlator.open(OUT, f"M-{offset}"), Sent(OUT, 1, offset, f"M-{offset}"))
    assert correlator.match(_ack("M-0", offset=0)) is None
    assert correlator.match(_ack("M-9", offset=9)) is not None
