"""The realistic message mix the benchmark sends: valid messages of every partner kind.

GP referrals come from ``hub.demo_traffic`` (as ``make run`` sends them, without its deliberate
mistakes); the other kinds follow the golden examples in ``schemas/examples`` with a fresh
message id, send time and child per message. Every message is valid, so every one runs the
whole pipeline (decode, FHIR validation, pseudonyms, policy, state, encode); some are still
refused by the router (a second regie claim, a flow without legal basis), as in real life.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from hub.demo_traffic import DemoTraffic, random_bsn
from schemas.partners import Partner, PartnerKind, PartnerRegistry

CHILDREN = 5_000
"""Distinct children: enough that a household's state stays as small as in real life."""

MIX: tuple[tuple[str, int], ...] = (
    ("huisarts-verwijzing", 50),
    ("huisarts-signaal", 10),
    ("school-zorgsignaal", 10),
    ("aanbieder-jw315", 10),
    ("ojg-signaal", 10),
    ("ojg-toestemming", 5),
    ("wij-regie-claim", 5),
)
"""Message kind and its share (per cent) of the traffic."""


@dataclass(frozen=True)
class MixMessage:
    sender: Partner
    kind: str
    payload: bytes


@dataclass
class BenchMix:
    """Generates the mix; the same seed gives the same messages (ids aside, which count up)."""

    registry: PartnerRegistry
    rng: random.Random = field(default_factory=lambda: random.Random(9))
    children: int = CHILDREN
    counter: int = 0

    def __post_init__(self) -> None:
        self.demo = DemoTraffic(self.registry, self.rng, bad_share=0.0)
        today = date(2026, 11, 23)
        self.demo.children = [
            (random_bsn(self.rng), today - timedelta(days=self.rng.randint(365 * 2, 365 * 17)))
            for _ in range(self.children)
        ]
        self.kinds = [kind for kind, _ in MIX]
        self.weights = [weight for _, weight in MIX]
        self._makers: dict[str, Callable[[], MixMessage | None]] = {
            "huisarts-verwijzing": self._gp_referral,
            "huisarts-signaal": self._gp_signal,
            "school-zorgsignaal": self._school_signal,
            "aanbieder-jw315": self._jw315,
            "ojg-verwijzing": self._ojg_referral,
            "ojg-signaal": self._ojg_signal,
            "ojg-toestemming": self._ojg_consent,
            "wij-regie-claim": self._wij_claim,
        }

    def next_message(self) -> MixMessage:
        while True:
            kind = self.rng.choices(self.kinds, weights=self.weights)[0]
            message = self._makers[kind]()
            if message is not None:  # None: the registry has no partner of that kind
                return message

    def messages(self, count: int) -> list[MixMessage]:
        return [self.next_message() for _ in range(count)]

    # One maker per kind.

    def _one(self, kind: PartnerKind) -> Partner | None:
        partners = self.registry.of_kind(kind)
        return self.rng.choice(partners) if partners else None

    def _child(self) -> dict[str, str]:
        bsn, birth_date = self.rng.choice(self.demo.children)
        return {"bsn": bsn, "birth_date": birth_date.isoformat()}

    def _id(self, sender: Partner) -> str:
        self.counter += 1
        return f"BENCH-{sender.id.upper()}-{self.counter:08d}"

    def _json(self, sender: Partner, kind: str, body: dict[str, object]) -> MixMessage:
        body = {"message_id": self._id(sender), "sent_at": datetime.now(UTC).isoformat(), **body}
        return MixMessage(sender, kind, json.dumps(body).encode())

    def _gp_referral(self) -> MixMessage | None:
        message = self.demo.next_message()
        return MixMessage(message.sender, "huisarts-verwijzing", message.payload)

    def _gp_signal(self) -> MixMessage | None:
        gp = self._one(PartnerKind.HUISARTS)
        if gp is None:
            return None
        return self._json(gp, "huisarts-signaal", {
            "type": "signaal", "sender": {"agb": gp.agb}, "child": self._child(),
            "concern_category": self.rng.choice(("welzijn", "thuissituatie", "verzuim")),
        })  # fmt: skip

    def _school_signal(self) -> MixMessage | None:
        school = self._one(PartnerKind.SCHOOL)
        if school is None:
            return None
        return self._json(school, "school-zorgsignaal", {
            "type": "zorgsignaal", "school": {"brin": school.brin}, "pupil": self._child(),
            "concern_category": "verzuim",
            "contact_person": {"role": "zorgcoordinator", "phone": "050 000 1201"},
        })  # fmt: skip

    def _ojg_referral(self) -> MixMessage | None:
        ojg, provider = self._one(PartnerKind.OJG), self._one(PartnerKind.AANBIEDER)
        if ojg is None or provider is None:
            return None
        return self._json(ojg, "ojg-verwijzing", {
            "type": "verwijzing", "referrer": {"code": ojg.code}, "child": self._child(),
            "urgency": "urgent", "care_category": "jeugdhulp-ambulant",
            "addressed_to_agb": provider.agb,
            "reason": "Spanningen thuis na scheiding ouders; verzoek om gezinsbegeleiding.",
        })  # fmt: skip

    def _ojg_signal(self) -> MixMessage | None:
        ojg = self._one(PartnerKind.OJG)
        if ojg is None:
            return None
        return self._json(ojg, "ojg-signaal", {
            "type": "signaal", "sender": {"code": ojg.code}, "child": self._child(),
            "concern_category": "thuissituatie",
        })  # fmt: skip

    def _ojg_consent(self) -> MixMessage | None:
        ojg, provider = self._one(PartnerKind.OJG), self._one(PartnerKind.AANBIEDER)
        if ojg is None or provider is None:
            return None
        self.counter += 1
        return self._json(ojg, "ojg-toestemming", {
            "type": "toestemming", "sender": {"code": ojg.code},
            "consent_id": f"BENCH-TOE-{self.counter:08d}", "child": self._child(),
            "given_by": ["parent", "child"], "purposes": ["verwijzing", "zorgcoordinatie"],
            "recipients": [provider.id], "recipient_kinds": ["wij"],
            "valid_from": "2026-01-01", "valid_until": "2030-12-31",
        })  # fmt: skip

    def _wij_claim(self) -> MixMessage | None:
        wij = self._one(PartnerKind.WIJ)
        if wij is None:
            return None
        size = self.rng.randint(1, 3)
        household = list({c["bsn"]: c for c in (self._child() for _ in range(size))}.values())
        return self._json(wij, "wij-regie-claim", {
            "type": "regie-claim", "sender": {"code": wij.code}, "household": household,
        })  # fmt: skip

    def _jw315(self) -> MixMessage | None:
        provider, gp = self._one(PartnerKind.AANBIEDER), self._one(PartnerKind.HUISARTS)
        rigg = self._one(PartnerKind.RIGG)
        if provider is None or gp is None or rigg is None or not rigg.municipality_codes:
            return None
        child = self._child()
        self.counter += 1
        xml = JW315.format(
            provider=provider.agb, municipality=rigg.municipality_codes[0],
            ident=f"BN{self.counter:010d}", bsn=child["bsn"], birth=child["birth_date"],
            reference=f"BENCH-REF-{self.counter:08d}", gp=gp.agb,
        )  # fmt: skip
        return MixMessage(provider, "aanbieder-jw315", xml.encode())


JW315 = """<?xml version="1.0" encoding="UTF-8"?>
<jw315:Bericht xmlns:jw315="http://www.istandaarden.nl/ijw/3_2/jw315/schema" \
xmlns:ijw="http://www.istandaarden.nl/ijw/3_2/basisschema/schema">
  <jw315:Header>
    <jw315:BerichtCode>446</jw315:BerichtCode>
    <jw315:BerichtVersie>3</jw315:BerichtVersie>
    <jw315:BerichtSubversie>2</jw315:BerichtSubversie>
    <jw315:Afzender>{provider}</jw315:Afzender>
    <jw315:Ontvanger>{municipality}</jw315:Ontvanger>
    <jw315:BerichtIdentificatie>
      <ijw:Identificatie>{ident}</ijw:Identificatie>
      <ijw:Dagtekening>2026-11-30</ijw:Dagtekening>
    </jw315:BerichtIdentificatie>
    <jw315:XsdVersie>
      <ijw:BasisschemaXsdVersie>1.0.0</ijw:BasisschemaXsdVersie>
      <ijw:BerichtXsdVersie>1.0.0</ijw:BerichtXsdVersie>
    </jw315:XsdVersie>
  </jw315:Header>
  <jw315:Client>
    <jw315:Bsn>{bsn}</jw315:Bsn>
    <jw315:Geboortedatum>
      <ijw:Datum>{birth}</ijw:Datum>
    </jw315:Geboortedatum>
    <jw315:Geslacht>2</jw315:Geslacht>
    <jw315:Naam>
      <ijw:Geslachtsnaam>
        <ijw:Achternaam>Proefpersoon</ijw:Achternaam>
      </ijw:Geslachtsnaam>
      <ijw:Voorletters>T</ijw:Voorletters>
    </jw315:Naam>
    <jw315:GezagsdragerBekend>1</jw315:GezagsdragerBekend>
    <jw315:AangevraagdeProducten>
      <jw315:AangevraagdProduct>
        <jw315:ReferentieAanbieder>{reference}</jw315:ReferentieAanbieder>
        <jw315:Product>
          <ijw:Categorie>54</ijw:Categorie>
          <ijw:Code>54001</ijw:Code>
        </jw315:Product>
        <jw315:ToewijzingIngangsdatum>2026-12-07</jw315:ToewijzingIngangsdatum>
        <jw315:ToewijzingEinddatum>2027-06-06</jw315:ToewijzingEinddatum>
        <jw315:Omvang>
          <ijw:Volume>2</ijw:Volume>
          <ijw:Eenheid>04</ijw:Eenheid>
          <ijw:Frequentie>2</ijw:Frequentie>
        </jw315:Omvang>
        <jw315:Verwijzer>
          <ijw:Type>02</ijw:Type>
          <ijw:ZorgverlenerCode>{gp}</ijw:ZorgverlenerCode>
        </jw315:Verwijzer>
        <jw315:Raamcontract>2</jw315:Raamcontract>
      </jw315:AangevraagdProduct>
    </jw315:AangevraagdeProducten>
  </jw315:Client>
</jw315:Bericht>
"""
"""An iJw 3.2 JW315 (request for assignment), as ``schemas/examples/aanbieder-jw315.xml``."""
