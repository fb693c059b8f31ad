"""iJw 3.2 XML for the demo's providers and RIGG, made from the golden examples.

The golden messages (``schemas/examples/*-jw3*.xml``) are valid against the hub's XSDs; the
demo changes only who sends to whom, the message ids, the client and the references that
tie a cycle together (JW315 -> JW316 + JW301 -> JW302, JW305, JW307). Reading a received
message takes the same elements back out, by local name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"

TEMPLATES = {
    "JW315": "aanbieder-jw315.xml",
    "JW316": "rigg-jw316.xml",
    "JW301": "rigg-jw301.xml",
    "JW302": "aanbieder-jw302.xml",
    "JW305": "aanbieder-jw305.xml",
    "JW307": "aanbieder-jw307.xml",
}


@dataclass(frozen=True)
class Cycle:
    """What ties one client's assignment cycle together: who, for whom, which references."""

    provider_agb: str
    municipality: str
    bsn: str
    birth_date: str
    reference: str
    """ReferentieAanbieder: the provider's own case reference."""
    referrer_agb: str | None = None
    """The GP behind the referral (Verwijzer type 02); None: the municipality (type 01)."""
    assignment: str = ""
    """ToewijzingNummer, once the RIGG assigned."""


def _template(bericht: str) -> str:
    return (EXAMPLES / TEMPLATES[bericht]).read_text()


def _set(xml: str, element: str, value: str) -> str:
    """Every ``element``'s text set to ``value`` (any namespace prefix)."""
    pattern = rf"(<(?:\w+:)?{element}>)[^<]*(</(?:\w+:)?{element}>)"
    changed, n = re.subn(pattern, lambda m: f"{m.group(1)}{value}{m.group(2)}", xml)
    if n == 0:
        raise ValueError(f"template has no {element}")
    return changed


def _client(xml: str, cycle: Cycle) -> str:
    xml = _set(xml, "Bsn", cycle.bsn)
    return re.sub(r"(Geboortedatum>\s*<ijw:Datum>)[^<]*", rf"\g<1>{cycle.birth_date}", xml)


def _verwijzer(xml: str, cycle: Cycle) -> str:
    if cycle.referrer_agb is not None:
        return _set(xml, "ZorgverlenerCode", cycle.referrer_agb)
    xml = re.sub(r"\s*<ijw:ZorgverlenerCode>[^<]*</ijw:ZorgverlenerCode>", "", xml)
    return re.sub(r"(<ijw:Type>)02(</ijw:Type>)", r"\g<1>01\g<2>", xml)


def jw315(cycle: Cycle, identificatie: str) -> bytes:
    """The provider asks the municipality (its RIGG) to assign care."""
    xml = _set(_template("JW315"), "Afzender", cycle.provider_agb)
    xml = _set(xml, "Ontvanger", cycle.municipality)
    xml = _set(xml, "Identificatie", identificatie)
    xml = _set(xml, "ReferentieAanbieder", cycle.reference)
    return _verwijzer(_client(xml, cycle), cycle).encode()


def jw316(cycle: Cycle, answered: str, identificatie_retour: str) -> bytes:
    """The RIGG's retourbericht on a JW315: its header copied, all codes 0200 (accepted)."""
    xml = _set(_template("JW316"), "Afzender", cycle.provider_agb)
    xml = _set(xml, "Ontvanger", cycle.municipality)
    xml = _set(xml, "Identificatie", answered)
    xml = _set(xml, "IdentificatieRetour", identificatie_retour)
    xml = _set(xml, "ReferentieAanbieder", cycle.reference)
    return _verwijzer(_client(xml, cycle), cycle).encode()


def jw301(cycle: Cycle, identificatie: str) -> bytes:
    """The RIGG assigns (toewijzing) the care the provider asked for."""
    xml = _set(_template("JW301"), "Afzender", cycle.municipality)
    xml = _set(xml, "Ontvanger", cycle.provider_agb)
    xml = _set(xml, "Identificatie", identificatie)
    xml = _set(xml, "ReferentieAanbieder", cycle.reference)
    xml = _set(xml, "ToewijzingNummer", cycle.assignment)
    return _client(xml, cycle).encode()


def jw302(cycle: Cycle, answered: str, identificatie_retour: str) -> bytes:
    """The provider's retourbericht on a JW301."""
    xml = _set(_template("JW302"), "Afzender", cycle.municipality)
    xml = _set(xml, "Ontvanger", cycle.provider_agb)
    xml = _set(xml, "Identificatie", answered)
    xml = _set(xml, "IdentificatieRetour", identificatie_retour)
    xml = _set(xml, "ReferentieAanbieder", cycle.reference)
    xml = _set(xml, "ToewijzingNummer", cycle.assignment)
    return _client(xml, cycle).encode()


def jw305(cycle: Cycle, identificatie: str) -> bytes:
    """Start of care (start zorg) on the assignment."""
    return _care("JW305", cycle, identificatie)


def jw307(cycle: Cycle, identificatie: str) -> bytes:
    """End of care (stop zorg) on the assignment."""
    return _care("JW307", cycle, identificatie)


def _care(bericht: str, cycle: Cycle, identificatie: str) -> bytes:
    xml = _set(_template(bericht), "Afzender", cycle.provider_agb)
    xml = _set(xml, "Ontvanger", cycle.municipality)
    xml = _set(xml, "Identificatie", identificatie)
    xml = _set(xml, "ToewijzingNummer", cycle.assignment)
    return _client(xml, cycle).encode()


def read(xml: bytes) -> dict[str, str]:
    """The first text of each element by local name, plus ``bericht`` (JW301, ...)."""
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    found = {"bericht": (etree.QName(root).namespace or "").split("/")[-2].upper()}
    for element in root.iter():
        if isinstance(element.tag, str) and element.text and element.text.strip():
            found.setdefault(etree.QName(element).localname, element.text.strip())
    found["birth_date"] = next(
        (d.text or "" for d in root.iter("{*}Datum") if d.getparent() is not None
         and etree.QName(d.getparent()).localname == "Geboortedatum"), "",
    )  # fmt: skip
    return found
