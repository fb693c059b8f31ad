"""What a municipal WIJ team (the front door and default regisseur) publishes.

Regie messages name the household by its children: the first is the child the message is
about, the others are optional. Referrals, consent and claims share ``schemas.native``.
"""

from __future__ import annotations

from typing import Literal

from schemas.native import (
    CodeMessage,
    ConsentGiven,
    ConsentRevoked,
    FreeText,
    Household,
    HouseholdChange,
    MessageId,
    OrganisationReferral,
    PartnerId,
    RegieClaim,
)


class RegieTransferOffer(CodeMessage):
    """The current regisseur offers regie to another partner (``to``, a partner id)."""

    type: Literal["regie-overdracht-aanbod"]
    household: Household
    to: PartnerId


class RegieTransferAccept(CodeMessage):
    """The offered partner takes regie over; ``offer_message_id`` names the offer."""

    type: Literal["regie-overdracht-akkoord"]
    household: Household
    offer_message_id: MessageId


class RegieTransferDecline(CodeMessage):
    """The offered partner declines; regie stays where it was."""

    type: Literal["regie-overdracht-afwijzing"]
    household: Household
    offer_message_id: MessageId


class RegieClose(CodeMessage):
    """The regisseur closes regie: the household needs no coordination any more."""

    type: Literal["regie-afsluiting"]
    household: Household


class PlanUpdate(CodeMessage):
    """The household's plan (één gezin, één plan) changed: a short summary for the chain."""

    type: Literal["plan-update"]
    household: Household
    summary: FreeText


INBOUND = (
    RegieClaim,
    RegieTransferOffer,
    RegieTransferAccept,
    RegieTransferDecline,
    RegieClose,
    PlanUpdate,
    OrganisationReferral,
    ConsentGiven,
    ConsentRevoked,
    HouseholdChange,
)
