"""What an Ondersteuner Jeugd en Gezin (OJG, inside a GP practice) publishes.

The OJG names itself by the organisation code the hub registered (``referrer.code`` or
``sender.code``). Consent and regie claims use the shared shapes of ``schemas.native``.
"""

from __future__ import annotations

from schemas.native import (
    CodeParty,
    ConsentGiven,
    ConsentRevoked,
    OrganisationReferral,
    RegieClaim,
    Signal,
)


class OjgSignal(Signal[CodeParty]):
    """A concern signal about a child, from the OJG named by ``sender.code``."""


INBOUND = (OrganisationReferral, OjgSignal, RegieClaim, ConsentGiven, ConsentRevoked)
