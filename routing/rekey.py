"""A household moving to its pseudonym under a new key: pure functions over router state.

Nothing about the household changes, only its name and, child by child as messages name
them, its children's names; so nobody is told, and the one audit record says which
pseudonym the state came from (never a BSN: the shell alone knows those).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from routing.decide import Decision
from routing.state import HouseholdState
from schemas.audit import AuditAction, AuditRecord
from schemas.envelope import RoutingEnvelope


def migrate(
    old: HouseholdState, old_household: str, message: RoutingEnvelope, now: datetime
) -> Decision:
    """The state ``old_household`` had under the previous key, whole, as this (new)
    household's: regie, escalation, transfer offer, consents, signals, referrals, matches
    and the memory of recent messages (so a resend is still recognised as one)."""
    moved = old.evolve({"merged_into": None})
    audit = AuditRecord(
        message_id=message.message_id,
        at=now,
        action=AuditAction.REKEYED,
        event=message.event,
        sender_id=message.sender_id,
        recipient_id=None,
        household=message.household,
        area=moved.area,
        other_household=old_household,
    )
    return Decision(moved, (), (audit,))


def rename_children(state: HouseholdState, renamed: Iterable[tuple[str, str]]) -> HouseholdState:
    """Each (previous-key, current-key) child pseudonym pair: the child's consents, signals
    and referrals under its new pseudonym. A pair the state does not know changes nothing,
    so a rename that comes twice (two ingest instances, a retry) is harmless."""
    names = dict(renamed)
    if not names:
        return state
    known = (
        {c.child for c in state.consents}
        | {s.child for s in state.signals}
        | {r.child for r in state.referrals}
    )
    if not known & names.keys():
        return state
    return state.evolve(
        {
            "consents": tuple(
                c.evolve({"child": names.get(c.child, c.child)}) for c in state.consents
            ),
            "signals": tuple(
                s.evolve({"child": names.get(s.child, s.child)}) for s in state.signals
            ),
            "referrals": tuple(
                r.evolve({"child": names.get(r.child, r.child)}) for r in state.referrals
            ),
        }
    )
