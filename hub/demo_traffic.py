"""Realistic demo traffic: what GP practices send on a working day, a few mistakes included."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from schemas.codes import CareCategory, Urgency
from schemas.huisarts import Child, HuisartsReferral, Referrer
from schemas.partners import Partner, PartnerKind, PartnerRegistry

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)
REASONS = (
    "Aanhoudende angstklachten en schoolverzuim; verzoek om diagnostiek.",
    "Vermoeden van ADHD, problemen thuis en op school; graag onderzoek en behandeling.",
    "Somberheid sinds overlijden grootouder, slaapproblemen.",
    "Ernstige leesachterstand, vermoeden dyslexie, school heeft dossier aangeleverd.",
    "Driftbuien en agressie thuis, ouders vragen om opvoedondersteuning.",
)


def random_bsn(rng: random.Random) -> str:
    """A random nine-digit number that passes the elfproef (test data, not a real person)."""
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
        check = sum(d * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


def broken_bsn(rng: random.Random) -> str:
    """A BSN with a wrong check digit: what a typing error looks like."""
    valid = random_bsn(rng)
    return valid[:8] + str((int(valid[8]) + rng.randint(1, 9)) % 10)


class Mistake(StrEnum):
    NONE = "valid"
    INVALID_BSN = "invalid-bsn"
    GARBAGE = "garbage"
    UNKNOWN_PROVIDER = "unknown-provider"
    MISSING_FIELD = "missing-field"
    RESEND = "resend"


@dataclass(frozen=True)
class DemoMessage:
    sender: Partner
    payload: bytes
    mistake: Mistake


@dataclass
class DemoTraffic:
    registry: PartnerRegistry
    rng: random.Random
    bad_share: float = 0.08
    children: list[tuple[str, date]] = field(default_factory=list)
    counter: int = 0
    last_sent: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        today = date(2026, 11, 23)
        self.children = [
            (random_bsn(self.rng), today - timedelta(days=self.rng.randint(365 * 2, 365 * 17)))
            for _ in range(300)
        ]
        self.gps = self.registry.of_kind(PartnerKind.HUISARTS)
        self.providers = self.registry.of_kind(PartnerKind.AANBIEDER)
        if not self.gps or not self.providers:
            raise ValueError("the demo needs at least one huisarts and one aanbieder partner")

    def next_message(self) -> DemoMessage:
        gp = self.rng.choice(self.gps)
        mistake = Mistake.NONE
        if self.rng.random() < self.bad_share:
            mistake = self.rng.choice([m for m in Mistake if m is not Mistake.NONE])
        if mistake is Mistake.RESEND and gp.id in self.last_sent:
            return DemoMessage(gp, self.last_sent[gp.id], mistake)
        if mistake is Mistake.GARBAGE:
            return DemoMessage(gp, b"\x00\x17MSH|^~\\&|HIS|not json", mistake)
        referral = self._referral(gp, mistake)
        payload = referral.model_dump_json().encode()
        if mistake is Mistake.INVALID_BSN:
            payload = payload.replace(referral.child.bsn.encode(), broken_bsn(self.rng).encode())
        if mistake is Mistake.MISSING_FIELD:
            payload = payload.replace(b'"urgency"', b'"urgentie"')
        if mistake in (Mistake.NONE, Mistake.RESEND):
            mistake = Mistake.NONE
            self.last_sent[gp.id] = payload
        return DemoMessage(gp, payload, mistake)

    def _referral(self, gp: Partner, mistake: Mistake) -> HuisartsReferral:
        self.counter += 1
        bsn, birth_date = self.rng.choice(self.children)
        provider = self.rng.choice(self.providers)
        provider_agb = "99999999" if mistake is Mistake.UNKNOWN_PROVIDER else provider.agb
        return HuisartsReferral(
            type="verwijzing",
            message_id=f"{gp.id.upper()}-{self.counter:07d}",
            sent_at=datetime.now(UTC),
            referrer=Referrer(agb=gp.agb or ""),
            child=Child(bsn=bsn, birth_date=birth_date),
            urgency=self.rng.choices(list(Urgency), weights=(85, 13, 2))[0],
            care_category=self.rng.choice(list(CareCategory)),
            addressed_to_agb=provider_agb or "",
            reason=self.rng.choice(REASONS),
        )
