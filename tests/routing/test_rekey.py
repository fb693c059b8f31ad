"""The pure part of a key rotation: a state moves whole, children are renamed."""

from __future__ import annotations

from datetime import UTC, date, datetime

from routing.rekey import migrate, rename_children
from routing.state import ConsentRecord, HouseholdState, ReferralRecord, Regie, SignalRecord
from schemas.audit import AuditAction
from schemas.codes import MessageEvent
from schemas.envelope import RoutingEnvelope
from schemas.partners import PartnerKind

NOW = datetime(2026, 12, 2, 14, tzinfo=UTC)


def _state() -> HouseholdState:
    return HouseholdState(
        recent=("wij-zuid/M-1",),
        area="zuid",
        regie=Regie(
            partner_id="wij-zuid", kind=PartnerKind.WIJ, since=NOW, partner_message_id="M-1"
        ),
        consents=(
            ConsentRecord(
                consent_id="T-1",
                child="old-a",
                given_by=(),
                purposes=("verwijzing",),
                recipients=("aanbieder-kompas",),
                recipient_kinds=(),
                recorded_by="wij-zuid",
            ),
        ),
        signals=(
            SignalRecord(
                child="old-b",
                signaller_id="school-montessori",
                signaller_kind=PartnerKind.SCHOOL,
                partner_message_id="S-1",
                at=date(2026, 12, 1),
                active_until=date(2027, 1, 1),
                visible_until=date(2027, 6, 1),
            ),
        ),
        referrals=(
            ReferralRecord(
                child="old-a",
                referrer_id="huisarts-wijert",
                referrer_kind=PartnerKind.HUISARTS,
                provider_id="aanbieder-kompas",
                partner_message_id="R-1",
            ),
        ),
        merged_into="v2-new",
    )


def _message() -> RoutingEnvelope:
    return RoutingEnvelope(
        message_id="m-1", event=MessageEvent.SIGNAL, sender_id="huisarts-wijert",
        sender_kind=PartnerKind.HUISARTS, partner_message_id="S-2", household="v2-new",
        child="v2-a", received_at=NOW,
    )  # fmt: skip


def test_a_migration_keeps_everything_tells_nobody_and_says_where_from() -> None:
    old = _state()
    d = migrate(old, "old-h", _message(), NOW)
    assert d.new_state == old.model_copy(update={"merged_into": None})
    assert d.deliveries == ()
    [audit] = d.audit
    assert (audit.action, audit.household, audit.other_household) == (
        AuditAction.REKEYED, "v2-new", "old-h",
    )  # fmt: skip


def test_renaming_moves_a_childs_consents_signals_and_referrals_only() -> None:
    state = _state()
    renamed = rename_children(state, [("old-a", "v2-a")])
    assert [c.child for c in renamed.consents] == ["v2-a"]
    assert [r.child for r in renamed.referrals] == ["v2-a"]
    assert [s.child for s in renamed.signals] == ["old-b"]
    assert renamed.regie == state.regie and renamed.recent == state.recent


def test_a_rename_the_state_does_not_know_changes_nothing() -> None:
    state = _state()
    assert rename_children(state, [("old-x", "v2-x")]) is state
    once = rename_children(state, [("old-a", "v2-a")])
    assert rename_children(once, [("old-a", "v2-a")]) is once
