"""GP practices (huisarts): referrals and concern signals in, as native JSON.

They receive acknowledgements, hub notices, referrals (in their own ``verwijzing`` form) and
signals (``signaal-ontvangen``).
"""

from __future__ import annotations

from adapters.json_adapter import JsonAdapter, referral_inbound, signal_inbound, signal_received
from schemas.codes import MessageEvent
from schemas.huisarts import HuisartsReferral, HuisartsSignal
from schemas.native import AgbParty

REFERRAL = referral_inbound(HuisartsReferral, AgbParty)
SIGNAL = signal_inbound(HuisartsSignal, AgbParty)


class HuisartsAdapter(JsonAdapter):
    def __init__(self) -> None:
        super().__init__(
            "huisarts",
            inbound=(REFERRAL, SIGNAL),
            outbound={
                MessageEvent.REFERRAL: REFERRAL.from_fhir,
                MessageEvent.SIGNAL: signal_received,
            },
        )
