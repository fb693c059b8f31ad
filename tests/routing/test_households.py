"""Merges and splits of households: the policy's rules on concrete cases."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from routing.decide import DeliveryKind, NoticeSubject
from routing.directory import Directory
from routing.households import absorb, split
from routing.policy import Policy
from routing.state import ConsentRecord, Escalation, HouseholdState, Regie, SignalRecord
from schemas.audit import AuditAction
from schemas.codes import MessageEvent
from schemas.envelope import ConsentParty, RoutingEnvelope
from schemas.partners import PartnerKind
from tests.conftest import default_policy

POLICY = default_policy()
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
KINDS = {
    "wij-zuid": PartnerKind.WIJ, "ojg-wijert": PartnerKind.OJG, "school-a": PartnerKind.SCHOOL,
    "huisarts-a": PartnerKind.HUISARTS, "vh": PartnerKind.VEILIGHEIDSHUIS,
}  # fmt: skip
DIRECTORY = Directory(kinds=KINDS)
ANNA, BRAM, COR = "a" * 32, "b" * 32, "c" * 32


def _change() -> RoutingEnvelope:
    return RoutingEnvelope(
        message_id=str(uuid.uuid4()), event=MessageEvent.HOUSEHOLD_CHANGE, sender_id="wij-zuid",
        sender_kind=PartnerKind.WIJ, partner_message_id="HW-1", household="h" * 32, child=ANNA,
        received_at=NOW,
    )  # fmt: skip


def _regie(partner: str, days_ago: int) -> Regie:
    return Regie(partner_id=partner, kind=KINDS[partner], since=NOW - timedelta(days=days_ago),
                 partner_message_id=f"{partner}-claim")  # fmt: skip


def _signal(child: str, signaller: str) -> SignalRecord:
    today = NOW.date()
    return SignalRecord(child=child, signaller_id=signaller, signaller_kind=KINDS[signaller],
                        partner_message_id=f"{signaller}-{child[:2]}", at=today,
                        active_until=today + timedelta(days=30),
                        visible_until=today + timedelta(days=60))  # fmt: skip


def _consent(child: str) -> ConsentRecord:
    return ConsentRecord(consent_id=f"T-{child[:2]}", child=child, given_by=(ConsentParty.PARENT,),
                         purposes=("zorgcoordinatie",), recipients=("wij-zuid",),
                         recipient_kinds=(), valid_from=date(2026, 1, 1),
                         recorded_by="wij-zuid")  # fmt: skip


def test_two_regisseurs_the_earlier_regie_is_kept_both_are_told_and_the_audit_says_so() -> None:
    here = HouseholdState(regie=_regie("ojg-wijert", 3), consents=(_consent(ANNA),))
    there = HouseholdState(regie=_regie("wij-zuid", 40), consents=(_consent(BRAM),))
    d = absorb(here, there, "t" * 32, _change(), POLICY, NOW, DIRECTORY)
    assert d.new_state.regie == there.regie
    notices = {x.recipient_id: x.notice for x in d.deliveries}
    assert set(notices) == {"ojg-wijert", "wij-zuid"}
    assert all(n and n.subject is NoticeSubject.HOUSEHOLD_MERGED for n in notices.values())
    assert notices["ojg-wijert"].about == ("wij-zuid",)  # type: ignore[union-attr]
    [merged] = [r for r in d.audit if r.action is AuditAction.MERGED]
    assert (merged.other_household, merged.regie_kept, merged.regie_set_aside) == (
        "t" * 32, "wij-zuid", "ojg-wijert",
    )  # fmt: skip
    assert {c.child for c in d.new_state.consents} == {ANNA, BRAM}  # each still its own child's


def test_an_escalation_wins_over_an_earlier_regie() -> None:
    vh = _regie("vh", 1)
    here = HouseholdState(regie=_regie("wij-zuid", 90))
    there = HouseholdState(regie=vh, escalation=Escalation(by_id="vh", casus_message_id="C-1"))
    d = absorb(here, there, "t" * 32, _change(), POLICY, NOW, DIRECTORY)
    assert d.new_state.regie == vh and d.new_state.escalation == there.escalation
    assert {x.recipient_id for x in d.deliveries} == {"vh", "wij-zuid"}


def test_open_signals_carry_over_and_are_matched_again() -> None:
    here = HouseholdState(signals=(_signal(ANNA, "school-a"),))
    there = HouseholdState(signals=(_signal(BRAM, "huisarts-a"),))
    d = absorb(here, there, "t" * 32, _change(), POLICY, NOW, DIRECTORY)
    assert len(d.new_state.signals) == 2
    told = {(x.recipient_id, x.notice.subject) for x in d.deliveries if x.notice}
    assert told == {
        ("school-a", NoticeSubject.FAMILY_MATCH),
        ("huisarts-a", NoticeSubject.FAMILY_MATCH),
    }
    again = absorb(d.new_state, HouseholdState(), "u" * 32, _change(), POLICY, NOW, DIRECTORY)
    assert not [
        x for x in again.deliveries if x.notice and x.notice.subject.value.endswith("match")
    ]


def test_on_a_split_each_part_keeps_only_what_concerns_its_own_children() -> None:
    state = HouseholdState(
        regie=_regie("wij-zuid", 10),
        consents=(_consent(ANNA), _consent(BRAM)),
        signals=(_signal(ANNA, "school-a"), _signal(BRAM, "huisarts-a"), _signal(COR, "school-a")),
        matched=("huisarts-a|school-a|f",),
    )
    d, left = split(state, frozenset({BRAM}), "n" * 32, _change(), POLICY, NOW, DIRECTORY)
    assert {c.child for c in d.new_state.consents} == {ANNA}
    assert {s.child for s in d.new_state.signals} == {ANNA, COR}
    assert {c.child for c in left.consents} == {BRAM}
    assert {s.child for s in left.signals} == {BRAM}
    assert d.new_state.matched == () and left.matched == ()  # a pair needs both sides
    assert left.regie == state.regie  # the child keeps its regisseur until a transfer
    [told] = d.deliveries
    assert (told.kind, told.recipient_id) == (DeliveryKind.NOTIFY, "wij-zuid")
    [record] = [r for r in d.audit if r.action is AuditAction.SPLIT]
    assert (record.other_household, record.regie_kept) == ("n" * 32, "wij-zuid")


def test_the_policy_may_let_only_the_remaining_part_keep_regie() -> None:
    rules = [r.model_dump() for r in POLICY.household_rules]
    for r in rules:
        if (r["change"], r["aspect"]) == ("split", "regie"):
            r["rule"] = "remaining-part-keeps"
    policy = POLICY.model_copy(update={"household_rules": tuple(
        type(POLICY.household_rules[0]).model_validate(r) for r in rules)})  # fmt: skip
    state = HouseholdState(regie=_regie("wij-zuid", 10))
    _, left = split(state, frozenset({BRAM}), "n" * 32, _change(), policy, NOW, DIRECTORY)
    assert left.regie is None


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ({"change": "merge", "aspect": "regie", "rule": "newest-wins"}, "is not one of"),
        ({"change": "merge", "aspect": "escalation", "rule": "regie-wins"}, "is not one of"),
        ({"change": "merge", "aspect": "colour", "rule": "x"}, "not one of merge/regie"),
        ({"change": "merge", "aspect": "consents", "rule": "per-child", "why": ""}, "at least 1"),
    ],
)
def test_the_policy_check_refuses_a_merge_rule_the_hub_does_not_allow(
    rule: dict[str, str], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        Policy.model_validate({"flows": [], "household_rules": [{"why": "w", **rule}]})


def test_a_file_with_household_rules_must_give_every_aspect() -> None:
    rule = {"change": "merge", "aspect": "regie", "rule": "keep-earlier-tell-both", "why": "w"}
    with pytest.raises(ValidationError, match="household_rule missing for merge/escalation"):
        Policy.model_validate({"flows": [], "household_rules": [rule]})
    assert POLICY.household_rule("merge", "regie") == "keep-earlier-tell-both"
