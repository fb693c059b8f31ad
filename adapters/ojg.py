"""Ondersteuners Jeugd en Gezin (OJG): referrals, signals, regie claims and consent in.

They receive acknowledgements, hub notices, referrals (``verwijzing-ontvangen``), signals
(``signaal-ontvangen``) and regie transfer offers (``regie-overdracht-aanbod-ontvangen``).
"""

from __future__ import annotations

from adapters.json_adapter import (
    CONSENT_GIVEN,
    CONSENT_REVOKED,
    ORGANISATION_REFERRAL,
    REGIE_CLAIM,
    SOCIAL_OUTBOUND,
    JsonAdapter,
    signal_inbound,
)
from schemas.native import CodeParty
from schemas.ojg import OjgSignal

SIGNAL = signal_inbound(OjgSignal, CodeParty)


class OjgAdapter(JsonAdapter):
    def __init__(self) -> None:
        super().__init__(
            "ojg",
            inbound=(ORGANISATION_REFERRAL, SIGNAL, REGIE_CLAIM, CONSENT_GIVEN, CONSENT_REVOKED),
            outbound=SOCIAL_OUTBOUND,
        )
