"""The realistic message mix the benchmark sends: ``hub.tools.demo_traffic`` without its mistakes.

The demo traffic is what ``make run`` sends: GP referrals most of the time, besides signals
(GP, school, OJG), OJG referrals, regie claims and consents (WIJ), iJw JW315 requests from
providers and Veiligheidshuis escalations, built from the golden examples. The benchmark
turns the deliberate mistakes off (every message runs the whole pipeline: decode, FHIR
validation, pseudonyms, policy, state, encode; some are still refused by the router, a
second regie claim say, as in real life) and spreads them over more children, so that a
household's state stays as small as in real life rather than growing with the run.

The children live in fixed pairs of siblings: a message that names a household names the
child and its own sibling. The demo picks any second child, and over a run of thousands of
messages that chains households into ever larger merges, which real households do not do
(and which once left two households passing one message back and forth for good).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from hub.tools.demo_traffic import DemoTraffic, random_bsn
from schemas.partners import Partner, PartnerRegistry

CHILDREN = 5_000
"""Distinct children in the traffic (the demo uses 300: fine for a screen, not for state)."""


@dataclass(frozen=True)
class MixMessage:
    sender: Partner
    kind: str
    """Sender kind and message type, e.g. ``huisarts-verwijzing``: for the report's mix table."""
    payload: bytes


def kind_of(sender: Partner, payload: bytes) -> str:
    if payload.lstrip().startswith(b"<"):
        return f"{sender.kind.value}-ijw"
    try:
        body = json.loads(payload)
    except ValueError:
        return f"{sender.kind.value}-?"
    kind = body.get("type") if isinstance(body, dict) else None
    return f"{sender.kind.value}-{kind}"


def with_sibling(payload: bytes, siblings: dict[str, tuple[str, date]]) -> bytes:
    """``payload`` with its household's second member replaced by the first one's sibling."""
    if b'"household"' not in payload:
        return payload
    body = json.loads(payload)
    members = body.get("household") if isinstance(body, dict) else None
    if not isinstance(members, list) or len(members) != 2:
        return payload
    pair = siblings.get(members[0].get("bsn", ""))
    if pair is None:
        return payload
    members[1] = {"bsn": pair[0], "birth_date": pair[1].isoformat()}
    return json.dumps(body).encode()


@dataclass
class BenchMix:
    """Generates the mix; the same seed gives the same messages."""

    registry: PartnerRegistry
    rng: random.Random = field(default_factory=lambda: random.Random(9))
    children: int = CHILDREN

    def __post_init__(self) -> None:
        self.demo = DemoTraffic(self.registry, self.rng, bad_share=0.0)
        today = date(2026, 11, 23)
        self.demo.children = [
            (random_bsn(self.rng), today - timedelta(days=self.rng.randint(365 * 2, 365 * 17)))
            for _ in range(self.children)
        ]
        kids = self.demo.children
        self.siblings = {
            kids[i][0]: kids[i ^ 1] for i in range(len(kids) - len(kids) % 2)
        }  # fmt: skip

    def next_message(self) -> MixMessage:
        message = self.demo.next_message()
        payload = with_sibling(message.payload, self.siblings)
        return MixMessage(message.sender, kind_of(message.sender, payload), payload)

    def messages(self, count: int) -> list[MixMessage]:
        return [self.next_message() for _ in range(count)]
