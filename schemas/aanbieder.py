"""What a youth-care provider's system receives: a referral addressed to it."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.base import PrivateModel
from schemas.bsn import Bsn
from schemas.codes import CareCategory, Urgency


class ReferredClient(PrivateModel):
    bsn: Bsn
    birth_date: date


class ReferralReceived(PrivateModel):
    """A referral as the provider gets it; ``referrer_agb`` goes into its later JW315 Verwijzer.

    A GP is named by AGB; an OJG or WIJ team, which have none, by ``referrer_code``.
    """

    type: Literal["verwijzing-ontvangen"] = "verwijzing-ontvangen"
    hub_message_id: str
    referral_id: str = Field(description="the referrer's own message id")
    referrer_agb: str | None = None
    referrer_code: str | None = None
    referrer_partner: str = Field(description="the referrer's partner id in the hub")
    referred_at: AwareDatetime
    client: ReferredClient
    urgency: Urgency
    care_category: CareCategory
    reason: str
