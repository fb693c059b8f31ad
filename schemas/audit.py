"""One audit record per processing act, written to ``ketenhub.audit``.

Holds pseudonyms and partner ids only: enough to answer "who received what about this
household, on which basis" without a BSN or a name in the log itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, TypedDict

from pydantic import AwareDatetime, ConfigDict, TypeAdapter

from schemas.base import PrivateModel
from schemas.codes import MessageEvent, RejectReason
from schemas.partners import PartnerKind


class LegalBasis(StrEnum):
    STATUTORY = "statutory"
    CONSENT = "consent"
    SAFETY = "safety"


class AuditAction(StrEnum):
    DELIVERED = "delivered"
    REFUSED = "refused"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    NOTIFIED = "notified"
    RECORDED = "recorded"
    MERGED = "merged"
    """Another household's state joined this one (``other_household``; ``regie_kept``)."""
    SPLIT = "split"
    """Children left this household and now form ``other_household``."""
    REKEYED = "rekeyed"
    """The household's state moved here from its pseudonym under the previous key
    (``other_household``); nothing about the household changed, so nobody is told."""
    DISCLOSED = "disclosed"
    """An operator was shown a dead letter's original bytes (``ketenhub dlq show --payload``)."""


@dataclass(slots=True, kw_only=True)
class AuditRecord:
    """What the routing core says it did, one per act: a plain value it makes two or three
    times per message (a third of the cost of a model; not frozen, which would treble it:
    see ``hub.stages.records.OutRecord``). Read from outside (the audit
    topic's earliest records) only through ``from_json``, which validates it in full."""

    __pydantic_config__: ClassVar[ConfigDict] = PrivateModel.model_config

    message_id: str
    at: AwareDatetime
    action: AuditAction
    event: MessageEvent
    sender_id: str
    recipient_id: str | None
    household: str
    basis: LegalBasis | None = None
    reason_code: RejectReason | None = None
    notice: str | None = None
    area: str | None = None
    """The household's area (a WIJ team's area code): what the indicators count by."""
    regisseur_kind: PartnerKind | None = None
    """On an acknowledgement: the kind of the household's regisseur after the message."""
    direct_access: bool | None = None
    other_household: str | None = None
    """On a merge or split: the household pseudonym that merged in, or the part that left."""
    regie_kept: str | None = None
    """On a merge: the partner that keeps regie; ``regie_set_aside`` the one that lost it."""
    regie_set_aside: str | None = None
    """On a delivery: True when the recipient is a direct-access provider (no assignment)."""

    @staticmethod
    def from_json(raw: bytes | str) -> AuditRecord:
        """Validate a record read back as JSON (a time without its zone is refused)."""
        return _RECORDS.validate_json(raw)

    def to_json(self) -> bytes:
        """The record as JSON: the shape the hub once wrote to ``ketenhub.audit``."""
        return _RECORDS.dump_json(self)


class AuditDetails(TypedDict, total=False):
    """The optional facts of an ``AuditRecord``, for functions that pass them on."""

    basis: LegalBasis | None
    reason_code: RejectReason | None
    notice: str | None
    regisseur_kind: PartnerKind | None
    direct_access: bool | None
    other_household: str | None
    regie_kept: str | None
    regie_set_aside: str | None


_RECORDS: TypeAdapter[AuditRecord] = TypeAdapter(AuditRecord)
