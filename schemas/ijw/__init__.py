"""iJw (Jeugdwet) release 3.2: a faithful subset of its XSDs and pydantic models of its messages.

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
    JW307 = "JW307"
    JW315 = "JW315"
    JW316 = "JW316"

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
        """A retourbericht copies the header and content of the message it answers."""
        return self in (Bericht.JW302, Bericht.JW316)

    @property
    def xsd(self) -> Path:
        return XSD_DIR / f"{self.value}.xsd"

    @classmethod
    def of_event(cls, event: str) -> Bericht | None:
        return next((b for b, e in EVENTS.items() if e.value == event), None)

    @classmethod
    def of_namespace(cls, namespace: str | None) -> Bericht | None:
        return next((b for b in cls if b.namespace == namespace), None)


BERICHT_CODES = {
    Bericht.JW301: 436,
    Bericht.JW302: 437,
    Bericht.JW305: 438,
    Bericht.JW307: 440,
    Bericht.JW315: 446,
    Bericht.JW316: 447,
}
EVENTS = {
    Bericht.JW301: MessageEvent.ASSIGNMENT,
    Bericht.JW302: MessageEvent.ASSIGNMENT_RECEIPT,
    Bericht.JW305: MessageEvent.CARE_START,
    Bericht.JW307: MessageEvent.CARE_END,
    Bericht.JW315: MessageEvent.ASSIGNMENT_REQUEST,
    Bericht.JW316: MessageEvent.ASSIGNMENT_REQUEST_ANSWER,
}
