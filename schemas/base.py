"""The base of every model that may hold personal data."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

_ALLOWED = r"[^\x00-\x08\x0b\x0c\x0e-\x1f]"
FHIR_STRING_PATTERN = rf"^{_ALLOWED}*[^\s\x00-\x08\x0b\x0c\x0e-\x1f]{_ALLOWED}*$"
"""What a FHIR ``string`` may hold: no control character but tab, line feed and carriage
return, and something besides whitespace. A native field whose value becomes a FHIR string
uses it, so the built-in adapters' Bundles need no validation per message."""


class PrivateModel(BaseModel):
    """Frozen, strict about unknown fields, and its validation errors never show input values.

    pydantic's error text includes ``input_value=...`` by default; for a model holding a BSN,
    a name or free text, that text would carry personal data into whatever logs the error.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
