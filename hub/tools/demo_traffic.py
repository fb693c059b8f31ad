"""Realistic demo traffic: what GP practices send on a working day, a few mistakes included."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

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


EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
OTHER_MESSAGES: tuple[tuple[int, str, PartnerKind], ...] = (
    (12, "huisarts-signaal.json", PartnerKind.HUISARTS),
    (14, "school-zorgsignaal.json", PartnerKind.SCHOOL),
    (8, "ojg-signaal.json", PartnerKind.OJG),
    (6, "ojg-verwijzing.json", PartnerKind.OJG),
    (8, "wij-regie-claim.json", PartnerKind.WIJ),
    (4, "wij-toestemming.json", PartnerKind.WIJ),
    (6, "aanbieder-jw315.xml", PartnerKind.AANBIEDER),
    *(
        (1, f"aanbieder-jw3{n}.xml", PartnerKind.AANBIEDER)
        for n in ("02", "05", "07", "17", "20", "23")
    ),
    *(
        (1, f"rigg-jw3{n}.xml", PartnerKind.RIGG)
        for n in ("01", "06", "08", "16", "18", "19", "25")
    ),
    (2, "veiligheidshuis-opschalen.json", PartnerKind.VEILIGHEIDSHUIS),
)
"""(weight, golden example, sender kind): the everyday mix besides GP referrals."""


def _names_itself(partner: Partner, text: str) -> bool:
    """Whether an example was written as this partner (its AGB, BRIN or code appears)."""
    return any(code in text for code in (*partner.sender_codes(), *partner.municipality_codes))


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
    other_share: float = 0.45

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
        self.others = [
            (weight, template, partner)
            for weight, template, kind in OTHER_MESSAGES
            if (EXAMPLES / template).exists()
            for partner in self.registry.of_kind(kind)
            if _names_itself(partner, (EXAMPLES / template).read_text())
        ]

    def _other(self) -> DemoMessage:
        weights = [w for w, _, _ in self.others]
        _, template, partner = self.rng.choices(self.others, weights=weights)[0]
        self.counter += 1
        (bsn, born), (sibling, sibling_born) = self.rng.sample(self.children, 2)
        text = (EXAMPLES / template).read_text()
        if template.endswith(".xml"):
            text = re.sub(
                r"<ijw:Identificatie>[^<]*<", f"<ijw:Identificatie>D{self.counter:010d}<", text
            )
            return DemoMessage(partner, text.replace("999990019", bsn).encode(), Mistake.NONE)
        body = json.loads(text)
        body["message_id"] = f"{partner.id.upper()}-{self.counter:07d}"
        body["sent_at"] = datetime.now(UTC).isoformat()
        kid = {"bsn": bsn, "birth_date": born.isoformat()}
        for key in ("child", "pupil"):
            if key in body:
                body[key] = kid
        if "household" in body:
            body["household"] = [kid, {"bsn": sibling, "birth_date": sibling_born.isoformat()}]
        return DemoMessage(partner, json.dumps(body).encode(), Mistake.NONE)

    def next_message(self) -> DemoMessage:
        """A GP referral most of the time (the only kind with deliberate mistakes), else one
        of the other partners' everyday messages, built from the golden examples."""
        if self.others and self.rng.random() < self.other_share:
            return self._other()
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
