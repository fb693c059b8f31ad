"""The base of every model that may hold personal data."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PrivateModel(BaseModel):
    """Frozen, strict about unknown fields, and its validation errors never show input values.

    pydantic's error text includes ``input_value=...`` by default; for a model holding a BSN,
    a name or free text, that text would carry personal data into whatever logs the error.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
