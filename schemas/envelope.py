"""The slim routing envelope that travels as Kafka headers beside each canonical Bundle.

The router decides on the envelope alone, so it never has to parse or re-validate the FHIR
Bundle; the Bundle was validated once, at ingest. Only pseudonyms travel here, never a BSN.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import AwareDatetime

from schemas.base import PrivateModel
from schemas.codes import MessageEvent
from schemas.partners import PartnerKind

_PREFIX = "kh-"


class RoutingEnvelope(PrivateModel):
    message_id: str
    event: MessageEvent
    sender_id: str
    sender_kind: PartnerKind
    partner_message_id: str
    household: str
    child: str
    recipient_id: str | None = None
    recipient_kind: PartnerKind | None = None
    received_at: AwareDatetime

    def to_headers(self) -> list[tuple[str, bytes]]:
        fields = self.model_dump(mode="json", exclude_none=True)
        return [
            (_PREFIX + name.replace("_", "-"), str(value).encode())
            for name, value in fields.items()
        ]

    @classmethod
    def from_headers(cls, headers: Iterable[tuple[str, bytes]]) -> RoutingEnvelope:
        values = {
            k[len(_PREFIX) :].replace("-", "_"): v.decode()
            for k, v in headers
            if k.startswith(_PREFIX)
        }
        return cls.model_validate(values)


def header_value(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    """The first header of that name, decoded; Kafka headers are a list, not a dict."""
    return next((v.decode() for k, v in headers if k == name), None)
