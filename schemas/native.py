"""Building blocks of the partners' native JSON messages, shared by every partner kind.

Every inbound message has a ``type``, the partner's own ``message_id``, an aware ``sent_at``
and one field naming the sender by the identifier the hub registered for it (AGB, BRIN or
organisation code); ``sender_identity`` says which, so one check catches spoofing for all.
Outbound messages (what a partner *receives*) make every field optional except ids: the router
may have removed elements the recipient may not see.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import date
from typing import Annotated, ClassVar, Generic, Literal, Self, TypeVar

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, model_validator

from schemas.base import FHIR_STRING_PATTERN, PrivateModel
from schemas.bsn import Bsn
from schemas.codes import (
    AGB_SYSTEM,
    BRIN_SYSTEM,
    ORGANISATION_CODE_SYSTEM,
    CareCategory,
    ConcernCategory,
    ConsentPurpose,
    Urgency,
)
from schemas.envelope import ConsentParty
from schemas.partners import PartnerKind

MessageId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
"""A partner's own id for a message (or a consent, a casus): echoed in acks, so kept tame."""
PartnerId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
"""A partner id in the hub's registry, e.g. ``aanbieder-noorderlicht``."""
AgbCode = Annotated[str, Field(pattern=r"^\d{8}$")]
Brin = Annotated[str, Field(pattern=r"^\d{2}[A-Z0-9]{2}$")]
OrganisationCode = Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{1,31}$")]
FreeText = Annotated[str, Field(min_length=1, max_length=4000, pattern=FHIR_STRING_PATTERN)]
"""Text a person wrote (a referral's reason, a plan's summary): what a FHIR string may hold."""

H = TypeVar("H", bound=Hashable)


def _iso_text(value: object) -> object:
    """Dates and times come as ISO 8601 text: pydantic would read 42 as 1970-01-01T00:00:42Z."""
    if isinstance(value, int | float):
        raise ValueError("must be ISO 8601 text, not a number")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_text)]
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


def _distinct(values: tuple[H, ...]) -> tuple[H, ...]:
    if len(set(values)) != len(values):
        raise ValueError("must not name the same value twice")
    return values


class Child(PrivateModel):
    """A child (or pupil, or client) as every partner names one: BSN and birth date."""

    bsn: Bsn
    birth_date: IsoDate


def _distinct_children(children: tuple[Child, ...]) -> tuple[Child, ...]:
    if len({c.bsn for c in children}) != len(children):
        raise ValueError("names the same child twice")
    return children


Household = Annotated[
    tuple[Child, ...],
    Field(
        min_length=1,
        max_length=20,
        description="the children of the household; the first is the child the message is "
        "about, the others are optional",
    ),
    AfterValidator(_distinct_children),
]


class Party(PrivateModel):
    """How a sender names itself in a message; ``system`` is the FHIR identifier system."""

    system: ClassVar[str]
    key: ClassVar[str]

    @property
    def identifier(self) -> str:
        raise NotImplementedError

    @classmethod
    def of(cls, value: str) -> Self:
        return cls.model_validate({cls.key: value})


class AgbParty(Party):
    system: ClassVar[str] = AGB_SYSTEM
    key: ClassVar[str] = "agb"
    agb: AgbCode = Field(description="AGB code of the sending practice or professional")

    @property
    def identifier(self) -> str:
        return self.agb


class CodeParty(Party):
    system: ClassVar[str] = ORGANISATION_CODE_SYSTEM
    key: ClassVar[str] = "code"
    code: OrganisationCode = Field(description="the organisation code the hub registered")

    @property
    def identifier(self) -> str:
        return self.code


class BrinParty(Party):
    system: ClassVar[str] = BRIN_SYSTEM
    key: ClassVar[str] = "brin"
    brin: Brin = Field(description="the school's BRIN number")

    @property
    def identifier(self) -> str:
        return self.brin


P = TypeVar("P", bound=Party)


class NativeMessage(PrivateModel):
    """What every inbound native message has."""

    type: str
    message_id: MessageId
    sent_at: IsoDateTime

    def sender_identity(self) -> tuple[str, Party]:
        """The field naming the sender (its path, for error messages) and its value."""
        raise NotImplementedError


class CodeMessage(NativeMessage):
    """A message from a partner that names itself by its organisation code."""

    sender: CodeParty

    def sender_identity(self) -> tuple[str, Party]:
        return "sender.code", self.sender


class Referral(NativeMessage, Generic[P]):
    """A referral to youth care: the GP's shape, with the referrer named by its own kind."""

    type: Literal["verwijzing"]
    referrer: P
    child: Child
    urgency: Urgency
    care_category: CareCategory
    addressed_to_agb: AgbCode = Field(description="AGB code of the youth-care provider")
    reason: FreeText

    def sender_identity(self) -> tuple[str, Party]:
        return f"referrer.{self.referrer.key}", self.referrer


class OrganisationReferral(Referral[CodeParty]):
    """A referral from an OJG or a WIJ team, named by organisation code."""


class Signal(NativeMessage, Generic[P]):
    """A concern signal (zorgsignaal): that a professional is concerned about a child."""

    type: Literal["signaal"]
    sender: P
    child: Child
    concern_category: ConcernCategory

    def sender_identity(self) -> tuple[str, Party]:
        return f"sender.{self.sender.key}", self.sender


class ConsentGiven(CodeMessage):
    """Consent (toestemming) to share a child's data, scoped by purpose, recipient, period."""

    type: Literal["toestemming"]
    consent_id: MessageId
    child: Child
    given_by: tuple[ConsentParty, ...] = Field(
        min_length=1, max_length=4, description="who signed; two parents are two entries"
    )
    purposes: Annotated[tuple[ConsentPurpose, ...], Field(min_length=1), AfterValidator(_distinct)]
    recipients: Annotated[
        tuple[PartnerId, ...], Field(description="partner ids"), AfterValidator(_distinct)
    ] = ()
    recipient_kinds: Annotated[tuple[PartnerKind, ...], AfterValidator(_distinct)] = ()
    valid_from: IsoDate
    valid_until: IsoDate | None = None

    @model_validator(mode="after")
    def _scope(self) -> Self:
        if not self.recipients and not self.recipient_kinds:
            raise ValueError("recipients or recipient_kinds must name at least one recipient")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("valid_until must not be before valid_from")
        return self


class ConsentRevoked(CodeMessage):
    """Revocation (intrekking) of a consent given earlier: it stops deliveries at once."""

    type: Literal["toestemming-ingetrokken"]
    consent_id: MessageId
    child: Child
    revoked_by: tuple[ConsentParty, ...] = Field(min_length=1, max_length=4)


class RegieClaim(CodeMessage):
    """The sender claims regie (the one regisseur) of a household."""

    type: Literal["regie-claim"]
    household: Household


class HouseholdChange(CodeMessage):
    """Huishouden-wijziging: who lives together now (``together``, the first is the child
    the message is about), and which children left that household (``left``: they now form
    a household of their own). Children of two households the hub knew apart that are named
    together merge those households; a WIJ team or the Veiligheidshuis sends it."""

    type: Literal["huishouden-wijziging"]
    together: Household
    left: Annotated[
        tuple[Child, ...], Field(max_length=20), AfterValidator(_distinct_children)
    ] = ()

    @model_validator(mode="after")
    def _apart(self) -> Self:
        if {c.bsn for c in self.together} & {c.bsn for c in self.left}:
            raise ValueError("a child cannot both live in the household and have left it")
        return self


# What partners receive. Ids are always there; anything else may have been minimised away.


class ChildSeen(PrivateModel):
    bsn: Bsn | None = None
    birth_date: date | None = None


class SignalReceived(PrivateModel):
    """A concern signal as a regisseur, WIJ team or safety house receives it."""

    type: Literal["signaal-ontvangen"] = "signaal-ontvangen"
    hub_message_id: str
    signal_id: str = Field(description="the signaller's own message id")
    signaller: str = Field(description="the signaller's partner id in the hub")
    signalled_at: AwareDatetime | None = None
    child: ChildSeen | None = None
    concern_category: ConcernCategory | None = None


class ReferralNotice(PrivateModel):
    """A referral as a WIJ team, an OJG or a safety house receives it (to know, not to treat).

    The provider's own form is ``schemas.aanbieder.ReferralReceived``; this one names a
    referrer by AGB *or* organisation code and lets the router leave out what it may not show.
    """

    type: Literal["verwijzing-ontvangen"] = "verwijzing-ontvangen"
    hub_message_id: str
    referral_id: str = Field(description="the referrer's own message id")
    referrer_partner: str = Field(description="the referrer's partner id in the hub")
    referrer_agb: str | None = None
    referrer_code: str | None = None
    referred_at: AwareDatetime | None = None
    client: ChildSeen | None = None
    urgency: Urgency | None = None
    care_category: CareCategory | None = None
    addressed_to_agb: str | None = None
    reason: str | None = None


class TransferOfferReceived(PrivateModel):
    """An offer to take over regie; answer with ``regie-overdracht-akkoord`` or ``-afwijzing``
    naming ``offer_message_id``."""

    type: Literal["regie-overdracht-aanbod-ontvangen"] = "regie-overdracht-aanbod-ontvangen"
    hub_message_id: str
    offer_message_id: str = Field(description="the offering regisseur's message id")
    from_partner: str = Field(description="partner id of the current regisseur")
    offered_at: AwareDatetime | None = None
    household: tuple[ChildSeen, ...] = ()


def children(household: Sequence[Child]) -> tuple[tuple[str, date], ...]:
    """(bsn, birth date) pairs, the form the FHIR builders take."""
    return tuple((c.bsn, c.birth_date) for c in household)
