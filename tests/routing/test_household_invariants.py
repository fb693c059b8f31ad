"""Property tests of the router's invariants over sequences with households that merge and
split (hypothesis): one regisseur per household at every step, no delivery without a basis,
nothing about a child reaches the other part after a split.

The test plays the shell: it keeps the household table (child -> household) and the states,
and calls ``absorb`` and ``split`` the way the route stage does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from hypothesis import event, given, settings
from hypothesis import strategies as st

from routing.decide import Decision, DeliveryKind, NoticeSubject, decide
from routing.households import absorb, split
from routing.state import HouseholdState
from schemas.audit import AuditAction
from schemas.codes import MessageEvent
from schemas.envelope import RoutingEnvelope
from tests.routing.test_invariants import (
    DIRECTORY,
    EXAMPLES,
    PARTNERS,
    POLICY,
    START,
    _check_bases,
    _check_regie,
    steps,
)

CHILDREN = tuple(c * 32 for c in "cdef")


@dataclass
class World:
    members: dict[str, str] = field(
        default_factory=lambda: {
            CHILDREN[0]: "h0",
            CHILDREN[1]: "h0",
            CHILDREN[2]: "h1",
            CHILDREN[3]: "h2",
        }
    )
    states: dict[str, HouseholdState] = field(default_factory=dict)
    made: int = 0

    def state(self, household: str) -> HouseholdState:
        return self.states.get(household, HouseholdState())

    def children_of(self, household: str) -> frozenset[str]:
        return frozenset(c for c, h in self.members.items() if h == household)


def _change(household: str, child: str) -> RoutingEnvelope:
    return RoutingEnvelope(
        message_id=str(uuid.uuid4()), event=MessageEvent.HOUSEHOLD_CHANGE, sender_id="wij-a",
        sender_kind=PARTNERS["wij-a"], partner_message_id=uuid.uuid4().hex[:8],
        household=household, child=child, received_at=START,
    )  # fmt: skip


def _check_notices_have_a_basis(d: Decision) -> None:
    for delivery in d.deliveries:
        assert delivery.kind is DeliveryKind.NOTIFY and delivery.notice is not None
        rule = POLICY.notice(delivery.notice.subject.value)
        assert rule is not None and delivery.basis in rule.bases


def _check_state(state: HouseholdState, children: frozenset[str]) -> None:
    """One regisseur, and nothing about a child of another household."""
    if state.escalation is not None:
        assert state.regie is not None and state.regie.partner_id == state.escalation.by_id
    if state.transfer is not None:
        assert state.regie is not None and state.transfer.from_id == state.regie.partner_id
    about = {c.child for c in state.consents} | {s.child for s in state.signals}
    about |= {r.child for r in state.referrals}
    assert about <= children, "the state holds something about a child of another household"


def _merge(world: World, here: str, there: str, now: datetime) -> None:
    a, b = world.state(here), world.state(there)
    child = next(iter(sorted(world.children_of(here))))
    d = absorb(a, b, there, _change(here, child), POLICY, now, DIRECTORY)
    _check_notices_have_a_basis(d)
    after = d.new_state
    [merged] = [r for r in d.audit if r.action is AuditAction.MERGED]
    told = {x.recipient_id for x in d.deliveries
            if x.notice and x.notice.subject is NoticeSubject.HOUSEHOLD_MERGED}  # fmt: skip
    escalated = [s for s in (a, b) if s.escalation is not None]
    if escalated:  # an escalation wins
        event("merge with an escalation")
        assert after.escalation is not None and after.escalation in {
            s.escalation for s in escalated
        }
    elif a.regie and b.regie and a.regie.partner_id != b.regie.partner_id:
        event("merge with two regisseurs")
        earlier = min((a.regie, b.regie), key=lambda r: (r.since, r.partner_id))
        assert after.regie == earlier  # the earlier regie is kept ...
        assert told == {a.regie.partner_id, b.regie.partner_id}  # ... and both are told
        assert (merged.regie_kept, merged.regie_set_aside) == (
            earlier.partner_id,
            ({a.regie.partner_id, b.regie.partner_id} - {earlier.partner_id}).pop(),
        )
    else:
        assert after.regie in {a.regie or b.regie, b.regie or a.regie}
    # Consents stay per child; open signals are all carried over.
    assert {(c.consent_id, c.child, c.given_by) for c in after.consents} == {
        (c.consent_id, c.child, c.given_by) for c in (*a.consents, *b.consents)
    }
    assert {(s.child, s.signaller_id) for s in after.signals} == {
        (s.child, s.signaller_id) for s in (*a.signals, *b.signals)
    }
    for child in world.children_of(there):
        world.members[child] = here
    world.states[here] = after
    world.states[there] = HouseholdState(merged_into=here)


def _split(world: World, household: str, leaving: frozenset[str], now: datetime) -> None:
    world.made += 1
    event("split" + (" with a regisseur" if world.state(household).regie else ""))
    new = f"n{world.made}"
    before = world.state(household)
    child = next(iter(sorted(leaving)))
    d, left = split(before, leaving, new, _change(household, child), POLICY, now, DIRECTORY)
    _check_notices_have_a_basis(d)
    installed = absorb(HouseholdState(), left, household, _change(new, child), POLICY, now,
                       DIRECTORY)  # fmt: skip
    _check_notices_have_a_basis(installed)
    for c in leaving:
        world.members[c] = new
    world.states[household] = d.new_state
    world.states[new] = installed.new_state
    assert (before.escalation is not None) <= (installed.new_state.escalation is not None)


@st.composite
def claims(draw: st.DrawFn) -> tuple[int, RoutingEnvelope]:
    """A regie claim or an escalation, so households with regisseurs merge often."""
    sender = draw(st.sampled_from(["wij-a", "wij-b", "ojg-a", "vh-a"]))
    event = MessageEvent.ESCALATION if sender == "vh-a" else MessageEvent.REGIE_CLAIM
    envelope = _change("h", CHILDREN[0]).model_copy(
        update={"event": event, "sender_id": sender, "sender_kind": PARTNERS[sender]}
    )
    return draw(st.integers(0, 30)), envelope


@st.composite
def worlds(draw: st.DrawFn) -> list[tuple[str, object]]:
    ages = (draw(st.integers(0, 17)), draw(st.integers(0, 17)))
    actions = st.one_of(
        st.tuples(st.just("message"), st.tuples(steps(ages), st.integers(0, 3))),
        st.tuples(st.just("claim"), st.tuples(claims(), st.integers(0, 3))),
        st.tuples(st.just("merge"), st.tuples(st.integers(0, 3), st.integers(0, 3))),
        st.tuples(st.just("split"), st.sets(st.integers(0, 3), min_size=1)),
    )
    return draw(st.lists(actions, min_size=1, max_size=30))


@settings(max_examples=EXAMPLES, deadline=None)
@given(worlds())
def test_invariants_hold_over_sequences_with_merges_and_splits(
    sequence: list[tuple[str, object]],
) -> None:
    world, now = World(), START
    for kind, arg in sequence:
        now += timedelta(days=3)
        if kind in ("message", "claim"):
            step, index = cast(tuple[tuple[int, RoutingEnvelope], int], arg)
            days, message = step
            now += timedelta(days=days)
            child = CHILDREN[index]
            household = world.members[child]
            message = message.model_copy(update={"household": household, "child": child})
            before = world.state(household)
            decision = decide(before, message, POLICY, now, DIRECTORY)
            _check_bases(before, message, decision, now)
            _check_regie(before, message, decision)
            for delivery in decision.deliveries:  # matches name only this household's signallers
                if delivery.notice and delivery.notice.subject is NoticeSubject.FAMILY_MATCH:
                    signallers = {s.signaller_id for s in before.signals} | {message.sender_id}
                    assert set(delivery.notice.about) <= signallers
            world.states[household] = decision.new_state
        elif kind == "merge":
            i, j = cast(tuple[int, int], arg)
            here, there = world.members[CHILDREN[i]], world.members[CHILDREN[j]]
            if here != there:
                _merge(world, here, there, now)
        else:
            chosen = frozenset(CHILDREN[n] for n in cast(set[int], arg))
            household = world.members[next(iter(sorted(chosen)))]
            leaving = chosen & world.children_of(household)
            if leaving != world.children_of(household):
                _split(world, household, leaving, now)
        for household, state in world.states.items():
            if state.merged_into is None:
                _check_state(state, world.children_of(household))
