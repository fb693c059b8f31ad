"""What a GP practice's system (HIS) publishes: a referral to youth care (verwijzing) and a
concern signal (signaal)."""

from __future__ import annotations

from schemas.native import AgbParty, Child, Referral, Signal

Referrer = AgbParty
"""The referring GP, by AGB code."""

__all__ = ["INBOUND", "Child", "HuisartsReferral", "HuisartsSignal", "Referrer"]


class HuisartsReferral(Referral[AgbParty]):
    """A referral to youth care (Jeugdwet art. 2.6: the GP is a legal referrer)."""


class HuisartsSignal(Signal[AgbParty]):
    """A concern signal about a child, from the GP practice named by ``sender.agb``."""


INBOUND = (HuisartsReferral, HuisartsSignal)
