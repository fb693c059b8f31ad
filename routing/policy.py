"""The routing policy: a reviewable data file, not code branches."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.audit import LegalBasis
from schemas.codes import MessageEvent
from schemas.partners import PartnerKind


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event: MessageEvent
    sender: PartnerKind
    recipient: PartnerKind
    bases: tuple[LegalBasis, ...] = Field(min_length=1)
    why: str = Field(min_length=1, description="the legal ground in words a privacy officer reads")


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    flows: tuple[Flow, ...]

    @model_validator(mode="after")
    def _one_entry_per_flow(self) -> Policy:
        keys = [(f.event, f.sender, f.recipient) for f in self.flows]
        if len(set(keys)) != len(keys):
            raise ValueError("each (event, sender, recipient) may appear only once")
        return self

    def flow(self, event: MessageEvent, sender: PartnerKind, recipient: PartnerKind) -> Flow | None:
        return next(
            (
                f
                for f in self.flows
                if f.event is event and f.sender is sender and f.recipient is recipient
            ),
            None,
        )

    @classmethod
    def from_toml(cls, path: Path) -> Policy:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        return cls.model_validate({"flows": data.get("flow", [])})
