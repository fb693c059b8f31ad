"""What the demo counts: per partner what it sent and received, and every nack, meant or not.

Counts only: the live table never shows message content. A nack is *meant* when it answers
one of the deliberate mistakes (matched by the SDK to its send); any other is a finding.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from hub.sdk import Delivery, DeliveryKind, Nack, Sent
from hub.tools.demo_script import Outgoing

Position = tuple[str, int, int]


@dataclass
class Ledger:
    sent: Counter[str] = field(default_factory=Counter)
    sent_bad: Counter[str] = field(default_factory=Counter)
    received: Counter[tuple[str, str]] = field(default_factory=Counter)
    nacks: Counter[tuple[str, bool]] = field(default_factory=Counter)
    """(reason code, meant) -> count."""
    unmeant: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(partner, reason code) of the nacks nobody meant."""
    dlq: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    meant: set[Position] = field(default_factory=set)

    def record_send(self, out: Outgoing, sent: Sent) -> None:
        self.sent[out.sender.id] += 1
        if out.mistake != "valid":
            self.sent_bad[out.sender.id] += 1
        if out.meant_to_fail and sent.partition is not None and sent.offset is not None:
            self.meant.add((sent.topic, sent.partition, sent.offset))

    def record(self, partner_id: str, delivery: Delivery) -> None:
        if delivery.kind is None:
            return
        self.received[(partner_id, delivery.kind.value)] += 1
        if delivery.kind is DeliveryKind.NACK and isinstance(delivery.answer, Nack):
            reason = delivery.answer.reason_code.value
            sent = delivery.sent
            meant = (
                sent is not None and sent.partition is not None and sent.offset is not None
                and (sent.topic, sent.partition, sent.offset) in self.meant
            )  # fmt: skip
            self.nacks[(reason, meant)] += 1
            if not meant:
                self.unmeant[(partner_id, reason)] += 1

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def silent(self, partner_ids: list[str]) -> tuple[list[str], list[str]]:
        """(partners that sent nothing, partners that received nothing) so far."""
        received = {p for p, _ in self.received}
        return ([p for p in partner_ids if not self.sent[p]],
                [p for p in partner_ids if p not in received])  # fmt: skip
