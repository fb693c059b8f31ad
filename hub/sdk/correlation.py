"""Which of its sends an ack or nack answers: by outbox position first, else by message id.

The position (``source``) is on every answer, also when the hub could not read the bytes;
the partner's message id only when it could. Pure bookkeeping, no I/O.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TypeVar

from hub.sdk.messages import Answer, Sent

Position = tuple[str, int, int]
K = TypeVar("K")
V = TypeVar("V")


@dataclass
class Pending:
    """A send that awaits its answer; ``sent`` is set once Kafka confirmed its position."""

    topic: str
    message_id: str | None
    future: asyncio.Future[Answer] = field(repr=False)
    sent: Sent | None = None

    def as_sent(self) -> Sent:
        return self.sent or Sent(self.topic, None, None, self.message_id, self.future)


class Correlator:
    """Open sends, keyed by position and by message id; holds at most ``capacity`` each."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._by_position: OrderedDict[Position, Pending] = OrderedDict()
        self._by_message_id: OrderedDict[str, Pending] = OrderedDict()
        self._early: OrderedDict[Position, Answer] = OrderedDict()
        """Answers that came before Kafka confirmed their send (rare: the hub can be fast)."""

    def open(self, topic: str, message_id: str | None) -> Pending:
        """Before publishing: an in-memory broker answers inside the publish call itself."""
        pending = Pending(topic, message_id, asyncio.get_running_loop().create_future())
        if message_id is not None:
            _put(self._by_message_id, message_id, pending, self.capacity)
        return pending

    def confirm(self, pending: Pending, sent: Sent) -> None:
        """Kafka confirmed where the send landed; an answer that was there first applies."""
        pending.sent = sent
        if pending.future.done() or (position := position_of(sent)) is None:
            return
        early = self._early.pop(position, None)
        if early is not None:
            self._settle(pending, early)
        else:
            _put(self._by_position, position, pending, self.capacity)

    def abandon(self, pending: Pending) -> None:
        """The publish failed: no answer will come."""
        self._forget(pending)
        pending.future.cancel()

    def match(self, answer: Answer) -> Sent | None:
        """The send ``answer`` answers, or None (another client's, or long forgotten)."""
        pending: Pending | None = None
        position: Position | None = None
        if answer.source is not None:
            position = (answer.source.topic, answer.source.partition, answer.source.offset)
            pending = self._by_position.get(position)
        if pending is None and answer.in_response_to:
            pending = self._by_message_id.get(answer.in_response_to)
        if pending is None:
            if position is not None:
                _put(self._early, position, answer, self.capacity)
            return None
        self._settle(pending, answer)
        return pending.as_sent()

    def _settle(self, pending: Pending, answer: Answer) -> None:
        self._forget(pending)
        if not pending.future.done():
            pending.future.set_result(answer)

    def _forget(self, pending: Pending) -> None:
        if (
            pending.message_id is not None
            and self._by_message_id.get(pending.message_id) is pending
        ):
            del self._by_message_id[pending.message_id]
        if pending.sent is not None and (position := position_of(pending.sent)) is not None:
            self._by_position.pop(position, None)


def position_of(sent: Sent) -> Position | None:
    if sent.partition is None or sent.offset is None:
        return None
    return (sent.topic, sent.partition, sent.offset)


def _put(store: OrderedDict[K, V], key: K, value: V, capacity: int) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > capacity:
        store.popitem(last=False)
