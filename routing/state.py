"""Router state per household, as plain immutable values (pseudonyms and partner ids only)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from schemas.envelope import ConsentParty
from schemas.partners import PartnerKind

RECENT_MESSAGES_KEPT = 256
REFERRALS_KEPT = 64


class _Value(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def evolve(self, update: Mapping[str, Any]) -> Self:
        """``model_copy(update=update)``, at about half its cost: the router makes one or
        two new states per message, and these values have no extra or private attributes to
        copy. Like ``model_copy``, it does not validate ``update``."""
        copied = object.__new__(type(self))
        object.__setattr__(copied, "__dict__", {**self.__dict__, **update})
        object.__setattr__(
            copied, "__pydantic_fields_set__", self.__pydantic_fields_set__ | update.keys()
        )
        object.__setattr__(copied, "__pydantic_extra__", None)
        object.__setattr__(copied, "__pydantic_private__", None)
        return copied


class Regie(_Value):
    """Who holds regie, since when, and the message that gave it to them."""

    partner_id: str
    kind: PartnerKind
    since: datetime
    partner_message_id: str


class Transfer(_Value):
    """An open offer from the current regisseur to hand regie to another partner."""

    offer_message_id: str
    from_id: str
    to_id: str
    to_kind: PartnerKind


class Escalation(_Value):
    """Veiligheidshuis regie; ``previous`` gets regie back on de-escalation."""

    by_id: str
    casus_message_id: str
    previous: Regie | None = None


class ConsentRecord(_Value):
    consent_id: str
    child: str
    given_by: tuple[ConsentParty, ...]
    purposes: tuple[str, ...]
    recipients: tuple[str, ...]
    recipient_kinds: tuple[PartnerKind, ...]
    valid_from: date | None = None
    valid_until: date | None = None
    revoked_at: datetime | None = None
    recorded_by: str

    def in_force(self, now: datetime) -> bool:
        today = now.date()
        if self.revoked_at is not None and now >= self.revoked_at:
            return False
        if self.valid_from is not None and today < self.valid_from:
            return False
        return self.valid_until is None or today <= self.valid_until

    def covers(self, child: str, recipient_id: str, kind: PartnerKind, purpose: str) -> bool:
        return (
            self.child == child
            and purpose in self.purposes
            and (recipient_id in self.recipients or kind in self.recipient_kinds)
        )


class SignalRecord(_Value):
    """That a professional is involved with a young person: never what about."""

    child: str
    signaller_id: str
    signaller_kind: PartnerKind
    partner_message_id: str
    at: date
    active_until: date
    visible_until: date


class ReferralRecord(_Value):
    """Who referred which child to which provider, so the referrer hears of start and stop."""

    child: str
    referrer_id: str
    referrer_kind: PartnerKind
    provider_id: str
    partner_message_id: str


class HouseholdState(_Value):
    """What the router remembers about one household between messages.

    ``recent`` holds the last delivered partner message keys, so a partner that resends a
    message after a timeout gets its acknowledgement again instead of a second delivery.
    """

    recent: tuple[str, ...] = ()
    area: str | None = None
    regie: Regie | None = None
    transfer: Transfer | None = None
    escalation: Escalation | None = None
    consents: tuple[ConsentRecord, ...] = ()
    signals: tuple[SignalRecord, ...] = ()
    matched: tuple[str, ...] = ()
    referrals: tuple[ReferralRecord, ...] = ()
    merged_into: str | None = None
    """This household merged into another: its messages are passed on there."""

    def seen(self, key: str) -> bool:
        return key in self.recent

    def remember(self, key: str, update: Mapping[str, Any] | None = None) -> HouseholdState:
        """This state with ``key`` remembered and ``update`` applied: one copy for both."""
        recent = (*self.recent, key)[-RECENT_MESSAGES_KEPT:]
        return self.evolve({**update, "recent": recent} if update else {"recent": recent})
