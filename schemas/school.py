"""What a school's care coordinator (zorgcoördinator) publishes: a care signal (zorgsignaal).

There is deliberately no field for a diagnosis, a reason or any other free text: a school
shares *that* it is concerned and about what category, and how to reach its contact person.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import Field, model_validator

from schemas.base import PrivateModel
from schemas.codes import ConcernCategory
from schemas.native import BrinParty, Child, NativeMessage, Party

SCHOOL_ROLE_SYSTEM = "urn:ketenhub:codesystem:school-contact-role"


class SchoolContactRole(StrEnum):
    ZORGCOORDINATOR = "zorgcoordinator"
    INTERN_BEGELEIDER = "intern-begeleider"
    MENTOR = "mentor"
    SCHOOLMAATSCHAPPELIJK_WERKER = "schoolmaatschappelijk-werker"
    DIRECTIE = "directie"


class ContactPerson(PrivateModel):
    """How partners reach the school about this pupil: a role and work contacts, no name."""

    role: SchoolContactRole
    phone: str | None = Field(
        default=None, pattern=r"^\+?[0-9][0-9 -]{5,18}[0-9]$", description="work phone"
    )
    email: str | None = Field(
        default=None,
        max_length=254,
        pattern=r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$",
        description="work e-mail",
    )

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.phone is None and self.email is None:
            raise ValueError("contact_person needs a phone or an email")
        return self


class SchoolSignal(NativeMessage):
    """A care signal about a pupil, from the school named by ``school.brin``."""

    type: Literal["zorgsignaal"]
    school: BrinParty
    pupil: Child
    concern_category: ConcernCategory
    contact_person: ContactPerson

    def sender_identity(self) -> tuple[str, Party]:
        return "school.brin", self.school


INBOUND = (SchoolSignal,)
