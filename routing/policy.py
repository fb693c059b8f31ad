"""The routing policy: a reviewable data file, not code branches.

A privacy officer reads ``hub/defaults/policy.toml``; this module only gives it a shape and
refuses files that are incomplete or contradict the hub's hard rules.
"""

from __future__ import annotations

import tomllib
from functools import cached_property
from pathlib import Path
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.audit import LegalBasis
from schemas.codes import MessageEvent
from schemas.envelope import ConsentParty
from schemas.partners import PartnerKind

CLINICAL_ELEMENTS = (
    "ServiceRequest.reasonCode",
    "ServiceRequest.reasonReference",
    "ServiceRequest.note",
    "ServiceRequest.category",
    "ServiceRequest.code",
    "Flag.code",
    "Condition",
    "Observation",
    "DiagnosticReport",
    "CarePlan.description",
    "CarePlan.note",
    "Task.description",
    "Task.note",
    "EpisodeOfCare.diagnosis",
)
"""What a school may never receive (diagnoses, reasons, clinical codes, free text)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Flow(_Frozen):
    event: MessageEvent
    sender: PartnerKind
    recipient: PartnerKind
    bases: tuple[LegalBasis, ...] = Field(min_length=1)
    purpose: str | None = Field(
        default=None, description="what a consent must cover when the basis is consent"
    )
    why: str = Field(min_length=1, description="the legal ground in words a privacy officer reads")

    @model_validator(mode="after")
    def _consent_needs_a_purpose(self) -> Flow:
        if LegalBasis.CONSENT in self.bases and not self.purpose:
            raise ValueError(
                f"flow {self.event}/{self.sender}->{self.recipient}: basis consent needs a purpose"
            )
        return self


class NoticeRule(_Frozen):
    """A notice the hub itself sends (regie, matches, care start/stop to the referrer).

    Notices carry who is involved and how to reach them, never content; their bases are
    statutory or safety (a consent names recipients, which a notice's recipient is not).
    """

    subject: str
    bases: tuple[LegalBasis, ...] = Field(min_length=1)
    why: str = Field(min_length=1)

    @model_validator(mode="after")
    def _no_consent(self) -> NoticeRule:
        if LegalBasis.CONSENT in self.bases:
            raise ValueError(f"notice {self.subject}: use statutory or safety, not consent")
        return self


class ConsentRule(_Frozen):
    """Who must sign a consent for a child of this age (WGBO/Jeugdwet)."""

    min_age: int = Field(ge=0)
    max_age: int | None = None
    any_of: tuple[tuple[ConsentParty, ...], ...] = Field(min_length=1)
    why: str = ""

    def applies(self, age: int) -> bool:
        return self.min_age <= age and (self.max_age is None or age <= self.max_age)


class SignalRules(_Frozen):
    """Verwijsindex-like signal lifetime and scope."""

    active_days: int = Field(default=730, ge=1)
    visible_days: int = Field(default=1825, ge=1)
    max_age: int = Field(default=23, ge=0)


class Minimisation(_Frozen):
    """What a recipient kind never gets: whole resource types or ``Type.field`` elements."""

    recipient: PartnerKind
    drop: tuple[str, ...] = ()
    why: str = ""


HOUSEHOLD_RULES: dict[tuple[str, str], tuple[str, ...]] = {
    ("merge", "regie"): ("keep-earlier-tell-both",),
    ("merge", "escalation"): ("escalation-wins",),
    ("merge", "consents"): ("per-child",),
    ("merge", "signals"): ("carry-over-and-rematch",),
    ("split", "data"): ("own-children-only",),
    ("split", "regie"): ("both-parts-keep-tell-regisseur", "remaining-part-keeps"),
}
"""What a household merge or split may do with each aspect of the router's state; the first
choice is the default. The hard ones have one choice: a file may not let two regisseurs
silently stay, an escalation lose, a consent cover another child, or a part keep what
concerns the other part's children."""


class HouseholdRule(_Frozen):
    """How a merge or a split treats one aspect of the households' state, and why."""

    change: str
    aspect: str
    rule: str
    why: str = Field(min_length=1)

    @model_validator(mode="after")
    def _known(self) -> HouseholdRule:
        choices = HOUSEHOLD_RULES.get((self.change, self.aspect))
        if choices is None:
            known = ", ".join(f"{c}/{a}" for c, a in HOUSEHOLD_RULES)
            raise ValueError(f"household_rule {self.change}/{self.aspect}: not one of {known}")
        if self.rule not in choices:
            raise ValueError(
                f"household_rule {self.change}/{self.aspect}: rule {self.rule!r} is not one "
                f"of {', '.join(choices)}"
            )
        return self


class Policy(_Frozen):
    flows: tuple[Flow, ...]
    notices: tuple[NoticeRule, ...] = ()
    consent_rules: tuple[ConsentRule, ...] = ()
    signals: SignalRules = SignalRules()
    minimisation: tuple[Minimisation, ...] = ()
    household_rules: tuple[HouseholdRule, ...] = ()

    @model_validator(mode="after")
    def _coherent(self) -> Policy:
        keys = [(f.event, f.sender, f.recipient) for f in self.flows]
        if len(set(keys)) != len(keys):
            raise ValueError("each (event, sender, recipient) may appear only once")
        if len({n.subject for n in self.notices}) != len(self.notices):
            raise ValueError("each notice subject may appear only once")
        if len({m.recipient for m in self.minimisation}) != len(self.minimisation):
            raise ValueError("each recipient kind may have only one minimisation profile")
        aspects = [(r.change, r.aspect) for r in self.household_rules]
        if len(set(aspects)) != len(aspects):
            raise ValueError("each household_rule (change, aspect) may appear only once")
        missing = [f"{c}/{a}" for c, a in HOUSEHOLD_RULES if (c, a) not in aspects]
        if self.household_rules and missing:
            raise ValueError(f"household_rule missing for {', '.join(missing)}")
        for age in range(0, 131):
            if not any(rule.applies(age) for rule in self.consent_rules) and self.consent_rules:
                raise ValueError(f"no consent rule covers age {age}")
        return self

    # The lookups the router makes per message, indexed once in the instance's own dict (a
    # cached_property; a pydantic private attribute costs ~2 us per read, this ~40 ns).
    _INDEXES: ClassVar[tuple[str, ...]] = ("_flow_index", "_notice_index", "_drop_index")

    def __copy__(self) -> Self:
        """A copy (``model_copy`` too) indexes afresh: its fields may be updated."""
        copied = super().__copy__()
        for name in self._INDEXES:
            copied.__dict__.pop(name, None)
        return copied

    @cached_property
    def _flow_index(self) -> dict[tuple[MessageEvent, PartnerKind, PartnerKind], Flow]:
        return {(f.event, f.sender, f.recipient): f for f in self.flows}

    @cached_property
    def _notice_index(self) -> dict[str, NoticeRule]:
        return {n.subject: n for n in self.notices}

    @cached_property
    def _drop_index(self) -> dict[PartnerKind, tuple[str, ...]]:
        return {kind: self._drop_for(kind) for kind in PartnerKind}

    def flow(self, event: MessageEvent, sender: PartnerKind, recipient: PartnerKind) -> Flow | None:
        return self._flow_index.get((event, sender, recipient))

    def notice(self, subject: str) -> NoticeRule | None:
        return self._notice_index.get(subject)

    def household_rule(self, change: str, aspect: str) -> str:
        """The rule the file gives for this aspect of a merge or split, else the default."""
        given = next(
            (r.rule for r in self.household_rules if (r.change, r.aspect) == (change, aspect)),
            None,
        )
        return given or HOUSEHOLD_RULES[(change, aspect)][0]

    def minimisation_for(self, recipient: PartnerKind) -> tuple[str, ...]:
        """What to drop for this recipient kind; for schools always every clinical element,
        whatever the file says, because that rule is not the file's to relax."""
        return self._drop_index[recipient]

    def _drop_for(self, recipient: PartnerKind) -> tuple[str, ...]:
        drop = next((m.drop for m in self.minimisation if m.recipient is recipient), ())
        if recipient is PartnerKind.SCHOOL:
            drop = (*drop, *(e for e in CLINICAL_ELEMENTS if e not in drop))
        return drop

    def signatories_sufficient(self, age: int | None, given_by: tuple[ConsentParty, ...]) -> bool:
        """True when the parties who signed are enough for a child of this age."""
        if age is None:
            return False
        rule = next((r for r in self.consent_rules if r.applies(age)), None)
        return rule is not None and any(set(need) <= set(given_by) for need in rule.any_of)

    @classmethod
    def from_toml(cls, path: Path) -> Policy:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        return cls.model_validate(
            {
                "flows": data.get("flow", []),
                "notices": data.get("notice", []),
                "consent_rules": data.get("consent_rule", []),
                "signals": data.get("signals", {}),
                "minimisation": data.get("minimisation", []),
                "household_rules": data.get("household_rule", []),
            }
        )
