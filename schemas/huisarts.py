"""What a GP practice's system (HIS) publishes: a referral to youth care (verwijzing)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.base import PrivateModel
from schemas.bsn import Bsn
from schemas.codes import CareCategory, Urgency


class Referrer(PrivateModel):
    agb: str = Field(pattern=r"^\d{8}$", description="AGB code of the referring GP")


class Child(PrivateModel):
    bsn: Bsn
    birth_date: date


class HuisartsReferral(PrivateModel):
    """A referral to youth care (Jeugdwet art. 2.6: the GP is a legal referrer)."""

    type: Literal["verwijzing"]
    message_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    sent_at: AwareDatetime
    referrer: Referrer
    child: Child
    urgency: Urgency
    care_category: CareCategory
    addressed_to_agb: str = Field(
        pattern=r"^\d{8}$", description="AGB code of the youth-care provider referred to"
    )
    reason: str = Field(min_length=1, max_length=4000)
