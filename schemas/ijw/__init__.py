"""iJw (Jeugdwet) release 3.2: XSDs of all fourteen messages and pydantic models of them.

The XSD files beside this module are the authority for what the hub accepts; ``models`` holds
the content the hub carries. ``README.md`` says which elements are left out and why.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from schemas.codes import MessageEvent

XSD_DIR = Path(__file__).resolve().parent
RELEASE = "3.2"
BASIS_NS = "http://www.istandaarden.nl/ijw/3_2/basisschema/schema"
XSD_VERSION = "1.0.0"
"""``BasisschemaXsdVersie`` and ``BerichtXsdVersie`` of the XSDs in this folder."""


class Bericht(StrEnum):
    """The iJw messages the hub supports, by their iJw name."""

    JW301 = "JW301"
    JW302 = "JW302"
    JW305 = "JW305"
    JW306 = "JW306"
    JW307 = "JW307"
    JW308 = "JW308"
    JW315 = "JW315"
    JW316 = "JW316"
    JW317 = "JW317"
    JW318 = "JW318"
    JW319 = "JW319"
    JW320 = "JW320"
    JW323 = "JW323"
    JW325 = "JW325"

    @property
    def namespace(self) -> str:
        return f"http://www.istandaarden.nl/ijw/3_2/{self.value.lower()}/schema"

    @property
    def prefix(self) -> str:
        return self.value.lower()

    @property
    def code(self) -> int:
        """``BerichtCode`` from the Vektis list COD002-VEKT."""
        return BERICHT_CODES[self]

    @property
    def event(self) -> MessageEvent:
        return EVENTS[self]

    @property
    def is_retour(self) -> bool:
        """A retourbericht copies the header and content of the message it answers.

        JW325 answers a JW323 too, but with a header of its own (see ``answers``).
        """
        return self in RETOUR_OF

    @property
    def answers(self) -> Bericht | None:
        """The heenbericht this message answers (retourberichten, JW319 and JW325)."""
        return RETOUR_OF.get(self) or ANSWER_OF.get(self)

    @property
    def xsd(self) -> Path:
        return XSD_DIR / f"{self.value}.xsd"

    @classmethod
    def of_event(cls, event: str) -> Bericht | None:
        return _OF_EVENT.get(event)

    @classmethod
    def of_namespace(cls, namespace: str | None) -> Bericht | None:
        return _OF_NAMESPACE.get(namespace) if namespace is not None else None


BERICHT_CODES = {
    Bericht.JW301: 436,
    Bericht.JW302: 437,
    Bericht.JW305: 438,
    Bericht.JW306: 439,
    Bericht.JW307: 440,
    Bericht.JW308: 441,
    Bericht.JW315: 446,
    Bericht.JW316: 447,
    Bericht.JW317: 486,
    Bericht.JW318: 487,
    Bericht.JW319: 488,
    Bericht.JW320: 489,
    Bericht.JW323: 490,
    Bericht.JW325: 491,
}
EVENTS = {
    Bericht.JW301: MessageEvent.ASSIGNMENT,
    Bericht.JW302: MessageEvent.ASSIGNMENT_RECEIPT,
    Bericht.JW305: MessageEvent.CARE_START,
    Bericht.JW306: MessageEvent.CARE_START_RECEIPT,
    Bericht.JW307: MessageEvent.CARE_END,
    Bericht.JW308: MessageEvent.CARE_END_RECEIPT,
    Bericht.JW315: MessageEvent.ASSIGNMENT_REQUEST,
    Bericht.JW316: MessageEvent.ASSIGNMENT_REQUEST_ANSWER,
    Bericht.JW317: MessageEvent.ASSIGNMENT_CHANGE_REQUEST,
    Bericht.JW318: MessageEvent.ASSIGNMENT_CHANGE_REQUEST_RECEIPT,
    Bericht.JW319: MessageEvent.REQUEST_ANSWER,
    Bericht.JW320: MessageEvent.REQUEST_ANSWER_RECEIPT,
    Bericht.JW323: MessageEvent.CLAIM,
    Bericht.JW325: MessageEvent.CLAIM_RESPONSE,
}
RETOUR_OF = {
    Bericht.JW302: Bericht.JW301,
    Bericht.JW306: Bericht.JW305,
    Bericht.JW308: Bericht.JW307,
    Bericht.JW316: Bericht.JW315,
    Bericht.JW318: Bericht.JW317,
    Bericht.JW320: Bericht.JW319,
}
"""Each retourbericht and the heenbericht whose header it copies."""
ANSWER_OF = {Bericht.JW325: Bericht.JW323}
"""Answers with a header of their own (JW325 names the JW323 in DeclaratieIdentificatie)."""
FROM_MUNICIPALITY = (
    Bericht.JW301,
    Bericht.JW316,
    Bericht.JW306,
    Bericht.JW308,
    Bericht.JW318,
    Bericht.JW319,
    Bericht.JW325,
)
"""The messages the municipality's side sends (here a RIGG, acting for its municipalities)."""
FROM_PROVIDER = (
    Bericht.JW315,
    Bericht.JW302,
    Bericht.JW305,
    Bericht.JW307,
    Bericht.JW317,
    Bericht.JW320,
    Bericht.JW323,
)
"""The messages a youth-care provider sends: what the other side receives, and the reverse."""
if set(FROM_MUNICIPALITY) | set(FROM_PROVIDER) != set(Bericht) or set(FROM_MUNICIPALITY) & set(
    FROM_PROVIDER
):
    raise AssertionError("every iJw message is sent by exactly one side")
_OF_EVENT = {e.value: b for b, e in reversed(EVENTS.items())}  # the first, were one twice
_OF_NAMESPACE = {b.namespace: b for b in Bericht}
"""Looked up once or twice per iJw message: a scan of the fourteen cost ~7 us."""
