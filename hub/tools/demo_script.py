"""What the demo's simulated partners say, and how they answer what they receive: no I/O.

``DemoScript`` plays a Groningen-like chain on a working day. Initiatives: GP referrals and
signals, school signals, an OJG that records the family's consent before it refers, WIJ
teams taking in walk-in families, the Veiligheidshuis escalating and later de-escalating a
household. Reactions, as real systems would: a provider that receives a referral asks the
RIGG for an assignment (JW315), the RIGG answers (JW316) and assigns (JW301), the provider
confirms (JW302), starts care (JW305) and later stops it (JW307); a WIJ team claims regie of
a household it hears about. A share of deliberate mistakes stays, each marked as meant.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from adapters.registry import AdapterRegistry, load_adapters
from hub.stages.ingest import age_on
from hub.tools import demo_ijw
from hub.tools.demo_ijw import Cycle
from hub.tools.demo_traffic import EXAMPLES, REASONS, Mistake, broken_bsn, random_bsn
from schemas.codes import CareCategory, Urgency
from schemas.partners import Partner, PartnerKind, PartnerRegistry

GP_MISTAKES = (Mistake.INVALID_BSN, Mistake.GARBAGE, Mistake.UNKNOWN_PROVIDER,
               Mistake.MISSING_FIELD, Mistake.RESEND)  # fmt: skip
NO_CONSENT = "no-consent"
"""The OJG's mistake: a referral without the family's consent recorded first."""


@dataclass(frozen=True)
class Outgoing:
    """One message a simulated partner sends; ``then`` follows ``delay_s`` after its ack."""

    sender: Partner
    payload: BaseModel | bytes
    mistake: str = "valid"
    """What it gets wrong on purpose (a ``Mistake`` or ``NO_CONSENT``); ``valid`` if nothing."""
    then: Outgoing | None = None
    delay_s: float = 0.0

    @property
    def meant_to_fail(self) -> bool:
        """A resend is acknowledged as a duplicate: the only mistake that is not nacked."""
        return self.mistake not in (Mistake.NONE.value, Mistake.RESEND.value)


@dataclass(frozen=True)
class Kid:
    bsn: str
    birth_date: date

    def native(self) -> dict[str, str]:
        return {"bsn": self.bsn, "birth_date": self.birth_date.isoformat()}


INITIATIVES = (
    ("gp-referral", 40), ("gp-signal", 10), ("school-signal", 14), ("ojg-referral", 9),
    ("ojg-signal", 6), ("wij-walk-in", 8), ("vhg-escalation", 3),
)  # fmt: skip
"""(initiative, weight): the everyday mix of what partners start themselves."""


@dataclass
class DemoScript:
    registry: PartnerRegistry
    rng: random.Random
    bad_share: float = 0.08
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    adapters: AdapterRegistry = field(default_factory=load_adapters)
    pool_size: int = 120
    claimed: set[str] = field(default_factory=set)
    """BSNs of children whose household a WIJ team claimed (or is claiming)."""
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _last_referral: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.gps = self.registry.of_kind(PartnerKind.HUISARTS)
        self.providers = self.registry.of_kind(PartnerKind.AANBIEDER)
        self.riggs = self.registry.of_kind(PartnerKind.RIGG)
        if not self.gps or not self.providers or not self.riggs:
            raise ValueError("the demo needs a huisarts, an aanbieder and a rigg partner")
        areas = {p.area for p in self.registry.partners if p.area}
        # One pool of children per area, so one WIJ team hears of each household: two
        # teams claiming the same household would be a nack the demo does not mean.
        self.pools = {a: [self._kid() for _ in range(self.pool_size)] for a in sorted(areas)}

    # -- initiatives -------------------------------------------------------------------

    def next_initiative(self) -> Outgoing | None:
        names, weights = zip(*INITIATIVES, strict=True)
        action = self.rng.choices(names, weights=weights)[0]
        make = {
            "gp-referral": self.gp_referral, "gp-signal": self.gp_signal,
            "school-signal": self.school_signal, "ojg-referral": self.ojg_referral,
            "ojg-signal": self.ojg_signal, "wij-walk-in": self.wij_walk_in,
            "vhg-escalation": self.vhg_escalation,
        }[action]  # fmt: skip
        return make()

    def gp_referral(self) -> Outgoing:
        gp = self.rng.choice(self.gps)
        mistake = Mistake.NONE
        if self.rng.random() < self.bad_share:
            mistake = self.rng.choice(GP_MISTAKES)
        if mistake is Mistake.RESEND and gp.id in self._last_referral:
            return Outgoing(gp, self._last_referral[gp.id], mistake.value)
        if mistake is Mistake.GARBAGE:
            return Outgoing(gp, b"\x00\x17MSH|^~\\&|HIS|not json", mistake.value)
        kid = self._kid_of(gp)
        provider = self.rng.choice(self.providers)
        urgency = self.rng.choices(list(Urgency), weights=(85, 13, 2))[0]
        body = self._body(
            "huisarts-verwijzing.json",
            gp,
            child=kid.native(),
            urgency=urgency,
            care_category=self.rng.choice(list(CareCategory)),
            addressed_to_agb=provider.agb,
            reason=self.rng.choice(REASONS),
        )
        if mistake is Mistake.UNKNOWN_PROVIDER:
            body["addressed_to_agb"] = "99999999"
        payload = json.dumps(body).encode()
        if mistake is Mistake.INVALID_BSN:
            payload = payload.replace(kid.bsn.encode(), broken_bsn(self.rng).encode())
        if mistake is Mistake.MISSING_FIELD:
            payload = payload.replace(b'"urgency"', b'"urgentie"')
        if mistake in (Mistake.NONE, Mistake.RESEND):
            mistake = Mistake.NONE
            self._last_referral[gp.id] = payload
        return Outgoing(gp, payload, mistake.value)

    def gp_signal(self) -> Outgoing:
        gp = self.rng.choice(self.gps)
        return self._native(gp, "huisarts-signaal.json", child=self._kid_of(gp).native())

    def school_signal(self) -> Outgoing | None:
        schools = self.registry.of_kind(PartnerKind.SCHOOL)
        if not schools:
            return None
        school = self.rng.choice(schools)
        return self._native(school, "school-zorgsignaal.json", pupil=self._kid_of(school).native())

    def ojg_signal(self) -> Outgoing | None:
        ojg = self._one(PartnerKind.OJG)
        if ojg is None:
            return None
        return self._native(ojg, "ojg-signaal.json", child=self._kid_of(ojg).native())

    def ojg_referral(self) -> Outgoing | None:
        """The family's consent first (signed as the child's age requires), then, once it
        is acknowledged, the referral it covers; without it (a meant mistake) a nack."""
        ojg = self._one(PartnerKind.OJG)
        if ojg is None:
            return None
        kid, provider = self._kid_of(ojg), self.rng.choice(self.providers)
        referral = self._native(ojg, "ojg-verwijzing.json", child=kid.native(),
                                addressed_to_agb=provider.agb)  # fmt: skip
        if self.rng.random() < self.bad_share:
            return Outgoing(ojg, referral.payload, NO_CONSENT)
        consent = self._native(
            ojg, "ojg-toestemming.json", child=kid.native(), given_by=self._signers(kid),
            consent_id=f"TOE-{next(self._ids):07d}", recipients=[provider.id],
            valid_from=self.today.isoformat(),
            valid_until=(self.today + timedelta(days=365)).isoformat(),
        )  # fmt: skip
        return Outgoing(ojg, consent.payload, then=referral)

    def wij_walk_in(self) -> Outgoing | None:
        """A family at a WIJ team's front door: the team claims regie of the household."""
        teams = self.registry.of_kind(PartnerKind.WIJ)
        if not teams:
            return None
        team = self.rng.choice(teams)
        household = [self._kid(), self._kid()]
        self.claimed.update(k.bsn for k in household)
        return self._native(team, "wij-regie-claim.json",
                            household=[k.native() for k in household])  # fmt: skip

    def vhg_escalation(self) -> Outgoing | None:
        """Escalation of a household of its own (the safety house's casus), handed back
        after a while."""
        vhg = self._one(PartnerKind.VEILIGHEIDSHUIS)
        if vhg is None:
            return None
        household = [self._kid() for _ in range(self.rng.randint(1, 3))]
        casus = f"VHG-CASUS-{next(self._ids):07d}"
        self.claimed.update(k.bsn for k in household)
        down = self._native(vhg, "veiligheidshuis-afschalen.json", casus_id=casus,
                            child=household[0].native())  # fmt: skip
        up = self._native(vhg, "veiligheidshuis-opschalen.json", casus_id=casus,
                          household=[k.native() for k in household])  # fmt: skip
        return Outgoing(vhg, up.payload, then=down, delay_s=self.rng.uniform(20, 40))

    # -- reactions ---------------------------------------------------------------------

    def react(self, recipient: Partner, value: bytes) -> list[Outgoing]:
        """What ``recipient`` sends when the hub delivers ``value`` to it (a forward)."""
        if value.lstrip().startswith(b"<"):
            return self._react_ijw(recipient, demo_ijw.read(value))
        try:
            body: Any = json.loads(value)
        except ValueError:
            return []
        kind = body.get("type") if isinstance(body, dict) else None
        if recipient.kind is PartnerKind.AANBIEDER and kind == "verwijzing-ontvangen":
            return [self._assignment_request(recipient, body)]
        if recipient.kind is PartnerKind.WIJ and kind in ("signaal-ontvangen",
                                                          "verwijzing-ontvangen"):  # fmt: skip
            return self._claim_on_hearing(recipient, body.get("child") or body.get("client"))
        return []

    def _assignment_request(self, provider: Partner, referral: dict[str, Any]) -> Outgoing:
        client, rigg = referral["client"], self.riggs[0]
        cycle = Cycle(
            provider_agb=provider.agb or "", municipality=rigg.municipality_codes[0],
            bsn=client["bsn"], birth_date=client["birth_date"],
            reference=f"REF-{next(self._ids):08d}", referrer_agb=referral.get("referrer_agb"),
        )  # fmt: skip
        return Outgoing(provider, demo_ijw.jw315(cycle, self._ijw_id("A")))

    def _react_ijw(self, recipient: Partner, seen: dict[str, str]) -> list[Outgoing]:
        bericht = seen["bericht"]
        if recipient.kind is PartnerKind.RIGG and bericht == "JW315":
            cycle = Cycle(
                provider_agb=seen["Afzender"], municipality=seen["Ontvanger"], bsn=seen["Bsn"],
                birth_date=seen["birth_date"], reference=seen["ReferentieAanbieder"],
                referrer_agb=seen.get("ZorgverlenerCode"),
                assignment=str(300000 + next(self._ids) % 9_000_000),
            )  # fmt: skip
            return [
                Outgoing(
                    recipient, demo_ijw.jw316(cycle, seen["Identificatie"], self._ijw_id("R"))
                ),
                Outgoing(recipient, demo_ijw.jw301(cycle, self._ijw_id("T"))),
            ]
        if recipient.kind is PartnerKind.AANBIEDER and bericht == "JW301":
            cycle = Cycle(
                provider_agb=seen["Ontvanger"], municipality=seen["Afzender"], bsn=seen["Bsn"],
                birth_date=seen["birth_date"], reference=seen["ReferentieAanbieder"],
                assignment=seen["ToewijzingNummer"],
            )  # fmt: skip
            stop = Outgoing(recipient, demo_ijw.jw307(cycle, self._ijw_id("E")))
            return [
                Outgoing(
                    recipient, demo_ijw.jw302(cycle, seen["Identificatie"], self._ijw_id("C"))
                ),
                Outgoing(
                    recipient,
                    demo_ijw.jw305(cycle, self._ijw_id("S")),
                    then=stop,
                    delay_s=self.rng.uniform(10, 25),
                ),
            ]
        return []

    def _claim_on_hearing(self, team: Partner, child: dict[str, Any] | None) -> list[Outgoing]:
        if not child or not child.get("bsn") or not child.get("birth_date"):
            return []
        if child["bsn"] in self.claimed:
            return []  # already ours (or being claimed): we hear as its regisseur
        self.claimed.add(child["bsn"])
        kid = {"bsn": child["bsn"], "birth_date": child["birth_date"]}
        return [self._native(team, "wij-regie-claim.json", household=[kid])]

    # -- helpers -----------------------------------------------------------------------

    def _kid(self) -> Kid:
        born = self.today - timedelta(days=self.rng.randint(365 * 2, 365 * 17))
        return Kid(random_bsn(self.rng), born)

    def _kid_of(self, partner: Partner) -> Kid:
        """A child of the partner's area; one no WIJ team has claimed is not required."""
        return self.rng.choice(self.pools[partner.area]) if partner.area else self._kid()

    def _signers(self, kid: Kid) -> list[str]:
        """Who signs a consent, by the child's age (under 12 a parent; 12-15 both; 16+), the
        age counted as the hub counts it (days // 365 made a child 16 four days early)."""
        age = age_on(kid.birth_date, self.today) or 0
        if age < 12:
            return ["parent"]
        return ["child", "parent"] if age < 16 else ["child"]

    def _one(self, kind: PartnerKind) -> Partner | None:
        found = self.registry.of_kind(kind)
        return self.rng.choice(found) if found else None

    def _ijw_id(self, letter: str) -> str:
        """An iJw Identificatie: unique per sender and message type, at most 12 characters."""
        return f"D{letter}{next(self._ids):09d}"

    def _body(self, template: str, sender: Partner, **changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = json.loads((EXAMPLES / template).read_text())
        body["message_id"] = f"{sender.id.upper()[:40]}-{next(self._ids):08d}"
        body["sent_at"] = datetime.now(UTC).isoformat()
        for key in ("sender", "referrer", "school"):
            if key in body:
                (party,) = body[key]
                body[key] = {party: getattr(sender, party)}
        body.update(changes)
        return body

    def _native(self, sender: Partner, template: str, **changes: Any) -> Outgoing:
        """A message from a golden example, made this partner's and checked by its model."""
        body = self._body(template, sender, **changes)
        adapter = self.adapters.get(sender.adapter_name)
        model: type[BaseModel] = adapter.inbound[body["type"]].model  # type: ignore[attr-defined]
        return Outgoing(sender, model.model_validate(body))
