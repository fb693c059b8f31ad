"""What the Veiligheidshuis publishes: escalation (opschalen) and de-escalation (afschalen).

Opschalen takes regie of a household on a safety basis; afschalen hands it back. Both name
the Veiligheidshuis casus, so partners and the hub can tie them together.
"""

from __future__ import annotations

from typing import Literal

from schemas.codes import EscalationReason
from schemas.native import Child, CodeMessage, Household, HouseholdChange, MessageId


class Escalation(CodeMessage):
    """Opschalen: the household (first child = the child it is about) and why."""

    type: Literal["opschalen"]
    casus_id: MessageId
    household: Household
    reason: EscalationReason


class Deescalation(CodeMessage):
    """Afschalen: the casus is handed back; regie returns to the previous regisseur."""

    type: Literal["afschalen"]
    casus_id: MessageId
    child: Child


INBOUND = (Escalation, Deescalation, HouseholdChange)
