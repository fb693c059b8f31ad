"""Households that merge and split: pure functions over router state, like ``decide``.

The shell calls ``absorb`` when another household's state joins this one (before it decides
the message that caused the merge), and ``split`` when children leave (the part that left
travels to its new household and is absorbed there). The policy's ``household_rule``s say
what happens to each aspect; the rules in words are in ``hub/defaults/policy.toml``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from routing.decide import Decision, NoticeSubject, _Builder, match
from routing.directory import Directory
from routing.policy import Policy
from routing.state import (
    RECENT_MESSAGES_KEPT,
    REFERRALS_KEPT,
    ConsentRecord,
    Escalation,
    HouseholdState,
    Regie,
    SignalRecord,
)
from schemas.audit import AuditAction
from schemas.envelope import RoutingEnvelope


@dataclass(frozen=True)
class _RegieOutcome:
    regie: Regie | None
    escalation: Escalation | None
    set_aside: Regie | None


def _earlier(a: Regie, b: Regie) -> bool:
    return (a.since, a.partner_id) <= (b.since, b.partner_id)


def _merged_regie(here: HouseholdState, there: HouseholdState) -> _RegieOutcome:
    """One regisseur: an escalation wins; else the regie that began first is kept."""
    if here.escalation is not None or there.escalation is not None:
        winner = here
        if here.escalation is None or (
            there.escalation is not None
            and here.regie is not None
            and there.regie is not None
            and not _earlier(here.regie, there.regie)
        ):
            winner = there
        loser = there if winner is here else here
        return _RegieOutcome(winner.regie, winner.escalation, loser.regie)
    if here.regie is None or there.regie is None:
        return _RegieOutcome(here.regie or there.regie, None, None)
    if here.regie.partner_id == there.regie.partner_id:
        kept = here.regie if _earlier(here.regie, there.regie) else there.regie
        return _RegieOutcome(kept, None, None)
    if _earlier(here.regie, there.regie):
        return _RegieOutcome(here.regie, None, there.regie)
    return _RegieOutcome(there.regie, None, here.regie)


def _union(first: Iterable[str], second: Iterable[str], keep: int) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *second)))[-keep:]


def absorb(
    state: HouseholdState,
    joining: HouseholdState,
    joining_id: str,
    message: RoutingEnvelope,
    policy: Policy,
    now: datetime,
    directory: Directory,
) -> Decision:
    """``joining`` (household ``joining_id``) merges into ``state``, by the policy's rules:
    one regisseur (an escalation wins, else the earlier regie; both regisseurs are told),
    consents stay per child, open signals carry over and are matched again."""
    outcome = _merged_regie(state, joining)
    consents: dict[tuple[str, str], ConsentRecord] = {
        (c.consent_id, c.child): c for c in (*joining.consents, *state.consents)
    }
    kept_signals: dict[tuple[str, str], SignalRecord] = {
        (s.child, s.signaller_id): s for s in state.signals
    }
    transfer = state.transfer or joining.transfer
    if transfer is not None and (
        outcome.regie is None
        or transfer.from_id != outcome.regie.partner_id
        or outcome.escalation is not None
    ):
        transfer = None
    merged = state.evolve(
        {
            "recent": _union(joining.recent, state.recent, RECENT_MESSAGES_KEPT),
            "area": state.area or joining.area,
            "regie": outcome.regie,
            "escalation": outcome.escalation,
            "transfer": transfer,
            "consents": tuple(consents.values()),
            "referrals": (*joining.referrals, *state.referrals)[-REFERRALS_KEPT:],
            "matched": _union(state.matched, joining.matched, 10_000),
        }
    )
    b = _Builder(merged, message, policy, now, directory)
    b.record(
        AuditAction.MERGED,
        None,
        other_household=joining_id,
        regie_kept=outcome.regie.partner_id if outcome.regie else None,
        regie_set_aside=outcome.set_aside.partner_id if outcome.set_aside else None,
    )
    for told, about in _merge_notices(outcome):
        b.notify(told.partner_id, NoticeSubject.HOUSEHOLD_MERGED, about=about,
                 regarding=told.partner_message_id)  # fmt: skip
    matched = list(merged.matched)
    today = now.date()
    for new in joining.signals:
        key = (new.child, new.signaller_id)
        if key in kept_signals:
            continue
        for other in list(kept_signals.values()):
            if (
                other.signaller_id != new.signaller_id
                and min(other.active_until, new.active_until) >= today
            ):
                match(b, new, other, matched)
        kept_signals[key] = new
    new_state = merged.evolve({"signals": tuple(kept_signals.values()), "matched": tuple(matched)})
    return Decision(new_state, tuple(b.deliveries), tuple(b.audit))


def _merge_notices(outcome: _RegieOutcome) -> list[tuple[Regie, tuple[str, ...]]]:
    """Who is told of a merge: the kept regisseur, and the one set aside (about each other)."""
    if outcome.regie is None:
        return []
    if outcome.set_aside is None or outcome.set_aside.partner_id == outcome.regie.partner_id:
        return [(outcome.regie, ())]
    return [
        (outcome.regie, (outcome.set_aside.partner_id,)),
        (outcome.set_aside, (outcome.regie.partner_id,)),
    ]


def _part(state: HouseholdState, children: frozenset[str]) -> HouseholdState:
    """What concerns these children only: consents, signals, referrals and their matches."""
    signals = tuple(s for s in state.signals if s.child in children)
    signallers = {s.signaller_id for s in signals}
    return state.evolve(
        {
            "consents": tuple(c for c in state.consents if c.child in children),
            "signals": signals,
            "referrals": tuple(r for r in state.referrals if r.child in children),
            "matched": tuple(m for m in state.matched if set(m.split("|")[:2]) <= signallers),
        }
    )


def split(
    state: HouseholdState,
    leaving: frozenset[str],
    new_household: str,
    message: RoutingEnvelope,
    policy: Policy,
    now: datetime,
    directory: Directory,
) -> tuple[Decision, HouseholdState]:
    """Children ``leaving`` form ``new_household``: each part keeps only what concerns its
    own children. Returns the decision for this household and the state of the part that
    left (the shell sends it to its new household)."""
    staying = (
        frozenset(
            {c.child for c in state.consents}
            | {s.child for s in state.signals}
            | {r.child for r in state.referrals}
        )
        - leaving
    )
    remaining = _part(state, staying)
    left = _part(state, leaving).evolve({"transfer": None, "merged_into": None})
    if policy.household_rule("split", "regie") == "remaining-part-keeps":
        left = left.evolve({"regie": state.regie if state.escalation else None})
    b = _Builder(remaining, message, policy, now, directory)
    b.record(AuditAction.SPLIT, None, other_household=new_household,
             regie_kept=state.regie.partner_id if state.regie else None)  # fmt: skip
    if state.regie is not None:
        b.notify(state.regie.partner_id, NoticeSubject.HOUSEHOLD_SPLIT,
                 regarding=state.regie.partner_message_id)  # fmt: skip
    return Decision(remaining, tuple(b.deliveries), tuple(b.audit)), left
