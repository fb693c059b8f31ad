"""Property tests of the router's invariants over random message sequences (hypothesis).

Each example is a sequence of messages about one household from a small chain of partners,
with time moving on between messages so consents expire and signals age. After every step
the decision is checked against the rules, using only the state *before* the step.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.decide import Decision, DeliveryKind, decide
from routing.directory import Directory
from routing.minimise import REQUIRED, WITHHELD, minimise
from routing.policy import CLINICAL_ELEMENTS, Policy
from routing.state import HouseholdState
from schemas.audit import LegalBasis
from schemas.codes import MessageEvent
from schemas.envelope import ConsentFacts, ConsentParty, RoutingEnvelope, RoutingFacts
from schemas.partners import PartnerKind
from tests.conftest import default_policy

POLICY = default_policy()
PARTNERS = {
    "huisarts-a": PartnerKind.HUISARTS,
    "ojg-a": PartnerKind.OJG,
    "school-a": PartnerKind.SCHOOL,
    "wij-a": PartnerKind.WIJ,
    "wij-b": PartnerKind.WIJ,
    "vh-a": PartnerKind.VEILIGHEIDSHUIS,
    "aanbieder-a": PartnerKind.AANBIEDER,
    "rigg-a": PartnerKind.RIGG,
}
DIRECTORY = Directory(kinds=PARTNERS, wij_by_area={"zuid": "wij-a"})
CHILDREN = ("c" * 32, "d" * 32)
START = datetime(2026, 1, 1, 9, tzinfo=UTC)
REGIE_EVENTS = (
    MessageEvent.REGIE_CLAIM,
    MessageEvent.REGIE_TRANSFER_OFFER,
    MessageEvent.REGIE_TRANSFER_ACCEPT,
    MessageEvent.REGIE_TRANSFER_DECLINE,
    MessageEvent.REGIE_CLOSE,
    MessageEvent.ESCALATION,
    MessageEvent.DEESCALATION,
)
EXAMPLES = int(os.environ.get("KETENHUB_PROPERTY_EXAMPLES", "400"))


LIKELY_SENDERS = {
    MessageEvent.REFERRAL: ["huisarts-a", "ojg-a", "wij-a"],
    MessageEvent.SIGNAL: ["huisarts-a", "ojg-a", "school-a"],
    MessageEvent.CONSENT_GIVEN: ["wij-a", "ojg-a", "huisarts-a"],
    MessageEvent.CONSENT_REVOKED: ["wij-a", "ojg-a"],
    MessageEvent.REGIE_CLAIM: ["wij-a", "wij-b", "ojg-a"],
    MessageEvent.REGIE_TRANSFER_OFFER: ["wij-a", "wij-b", "ojg-a"],
    MessageEvent.REGIE_TRANSFER_ACCEPT: ["wij-a", "wij-b", "ojg-a"],
    MessageEvent.REGIE_TRANSFER_DECLINE: ["wij-a", "wij-b", "ojg-a"],
    MessageEvent.REGIE_CLOSE: ["wij-a", "wij-b", "ojg-a"],
    MessageEvent.ESCALATION: ["vh-a"],
    MessageEvent.DEESCALATION: ["vh-a"],
    MessageEvent.CARE_START: ["aanbieder-a"],
}
LIKELY_RECIPIENTS = {
    MessageEvent.REFERRAL: ["aanbieder-a"],
    MessageEvent.CARE_START: ["rigg-a"],
}


def _right_signatories(age: int) -> tuple[str, ...]:
    return ("parent",) if age < 12 else ("child", "parent") if age < 16 else ("child",)


@st.composite
def consent_facts(draw: st.DrawFn, age: int) -> ConsentFacts:
    """Mostly well-formed consents (so deliveries on consent happen), sometimes not."""
    start = START.date() + timedelta(days=draw(st.integers(-30, 120)))
    parties = st.sampled_from([("parent",), ("child", "parent"), ("child",), ("guardian",), ()])
    given_by = draw(st.just(_right_signatories(age)) | parties)
    return ConsentFacts(
        consent_id=f"TS-{draw(st.integers(0, 3))}",
        given_by=tuple(ConsentParty(p) for p in given_by),
        purposes=tuple(
            draw(
                st.just(["verwijzing", "zorgcoordinatie"])
                | st.sets(st.sampled_from(["verwijzing", "zorgcoordinatie", "x"]), min_size=1)
            )
        ),
        recipients=tuple(
            draw(
                st.just(["aanbieder-a", "wij-a"])
                | st.sets(st.sampled_from(["aanbieder-a", "wij-a", "ojg-a", "school-a"]))
            )
        ),
        recipient_kinds=tuple(
            draw(st.sets(st.sampled_from([PartnerKind.AANBIEDER, PartnerKind.WIJ]), max_size=1))
        ),
        valid_from=start,
        valid_until=draw(st.none() | st.just(start + timedelta(days=draw(st.integers(0, 400))))),
    )


@st.composite
def steps(draw: st.DrawFn, ages: tuple[int, int]) -> tuple[int, RoutingEnvelope]:
    """One message and the days that pass before it; senders and recipients mostly plausible."""
    event = draw(
        st.sampled_from([*LIKELY_SENDERS, MessageEvent.REFERRAL, MessageEvent.CONSENT_GIVEN])
    )
    anyone = st.sampled_from(sorted(PARTNERS))
    sender = draw(st.sampled_from(LIKELY_SENDERS[event]) | anyone)
    likely = LIKELY_RECIPIENTS.get(event)
    recipient = draw((st.sampled_from(likely) if likely else st.none()) | st.none() | anyone)
    child_index = draw(st.integers(0, 1))
    facts = RoutingFacts(
        child_age=draw(st.just(ages[child_index]) | st.none()),
        area=draw(st.sampled_from(["zuid", "zuid", "noord"])),
        regie_target=draw(st.sampled_from(["wij-a", "wij-b", "ojg-a"]) | st.none() | anyone),
        consent=draw(consent_facts(ages[child_index]))
        if event.value.startswith("consent")
        else None,
        related_partner_message_id=None,
    )
    envelope = RoutingEnvelope(
        message_id=str(uuid.uuid4()),
        event=event,
        sender_id=sender,
        sender_kind=PARTNERS[sender],
        partner_message_id=f"M-{draw(st.integers(0, 60))}",
        household="h" * 32,
        child=CHILDREN[child_index],
        recipient_id=recipient,
        recipient_kind=PARTNERS[recipient] if recipient else None,
        received_at=START,
        facts=facts,
    )
    return draw(st.integers(0, 90)), envelope


@st.composite
def sequences(draw: st.DrawFn) -> list[tuple[int, RoutingEnvelope]]:
    ages = (draw(st.integers(0, 25)), draw(st.integers(0, 25)))
    return draw(st.lists(steps(ages), min_size=1, max_size=25))


def _check_bases(before: HouseholdState, m: RoutingEnvelope, d: Decision, now: datetime) -> None:
    """No delivery without a basis, and each basis really held before this message."""
    for delivery in d.deliveries:
        if delivery.kind not in (DeliveryKind.FORWARD, DeliveryKind.NOTIFY):
            continue
        assert delivery.basis is not None
        kind = PARTNERS[delivery.recipient_id]
        if delivery.kind is DeliveryKind.NOTIFY:
            assert delivery.notice is not None
            rule = POLICY.notice(delivery.notice.subject.value)
            assert rule is not None and delivery.basis in rule.bases
            if delivery.basis is LegalBasis.SAFETY:
                assert before.escalation is not None or m.event is MessageEvent.ESCALATION
            continue
        flow = POLICY.flow(m.event, m.sender_kind, kind)
        assert flow is not None and delivery.basis in flow.bases
        if delivery.basis is LegalBasis.SAFETY:
            assert before.escalation is not None
            assert PartnerKind.VEILIGHEIDSHUIS in (m.sender_kind, kind)
        if delivery.basis is LegalBasis.CONSENT:
            assert flow.purpose is not None
            _check_consent_in_force(before, m, delivery.recipient_id, kind, flow.purpose, now)


def _check_consent_in_force(
    before: HouseholdState,
    m: RoutingEnvelope,
    recipient_id: str,
    kind: PartnerKind,
    purpose: str,
    now: datetime,
) -> None:
    """Nothing goes under a revoked or expired consent, or one the wrong parties signed."""
    usable = []
    for c in before.consents:
        if not c.covers(m.child, recipient_id, kind, purpose):
            continue
        revoked = c.revoked_at is not None and c.revoked_at <= now
        expired = c.valid_until is not None and c.valid_until < now.date()
        not_yet = c.valid_from is not None and c.valid_from > now.date()
        signed = POLICY.signatories_sufficient(m.facts.child_age, c.given_by)
        if not (revoked or expired or not_yet) and signed:
            usable.append(c)
    assert usable, "delivered on a consent basis without a consent in force"


def _check_regie(before: HouseholdState, m: RoutingEnvelope, d: Decision) -> None:
    if any(x.duplicate for x in d.deliveries):
        assert d.new_state == before, "a resent message changes nothing"
        return
    after = d.new_state
    acked = any(x.kind is DeliveryKind.ACK for x in d.deliveries)
    if after.regie != before.regie:
        # Regie changes only through an accepted regie event.
        assert acked and m.event in REGIE_EVENTS
    if m.event is MessageEvent.REGIE_CLAIM and before.regie is not None:
        # A second claim never takes regie from the current regisseur.
        assert after.regie == before.regie
        if before.regie.partner_id != m.sender_id:
            assert [x.kind for x in d.deliveries if x.recipient_id == m.sender_id] == [
                DeliveryKind.NACK
            ]
    if after.escalation is not None:
        assert after.regie is not None and after.regie.partner_id == after.escalation.by_id
    if after.transfer is not None:
        assert after.regie is not None and after.transfer.from_id == after.regie.partner_id


@settings(max_examples=EXAMPLES, deadline=None)
@given(sequences())
def test_router_invariants_hold_over_random_sequences(
    sequence: list[tuple[int, RoutingEnvelope]],
) -> None:
    state, now = HouseholdState(), START
    for days, message in sequence:
        now += timedelta(days=days)
        decision = decide(state, message, POLICY, now, DIRECTORY)
        _check_bases(state, message, decision, now)
        _check_regie(state, message, decision)
        # Exactly one answer (ack or nack) to the sender, and an audit trail.
        answers = [
            x for x in decision.deliveries
            if x.kind in (DeliveryKind.ACK, DeliveryKind.NACK)
            and x.recipient_id == message.sender_id
        ]  # fmt: skip
        assert len(answers) == 1
        assert decision.audit
        # Nothing goes to a school but acks, nacks and notices.
        assert not any(
            x.kind is DeliveryKind.FORWARD and PARTNERS[x.recipient_id] is PartnerKind.SCHOOL
            for x in decision.deliveries
        )
        # Signals past their visible period are gone.
        assert all(s.visible_until >= now.date() for s in decision.new_state.signals)
        state = decision.new_state


def _clinical_bundle(reason: str, codes: list[str]) -> dict[str, object]:
    resources: list[dict[str, object]] = [
        {"resourceType": "MessageHeader", "id": "mh"},
        {"resourceType": "ServiceRequest", "id": "sr", "reasonCode": [{"text": reason}],
         "note": [{"text": reason}], "category": [{"coding": [{"code": c} for c in codes]}],
         "code": {"text": reason}, "status": "active", "intent": "order"},
        {"resourceType": "Flag", "id": "fl", "code": {"text": reason}, "status": "active"},
        {"resourceType": "Condition", "id": "co", "code": {"text": reason}},
        {"resourceType": "Observation", "id": "ob", "valueString": reason},
        {"resourceType": "CarePlan", "id": "cp", "description": reason, "note": [{"text": reason}]},
        {"resourceType": "Task", "id": "ts", "description": reason, "note": [{"text": reason}]},
        {"resourceType": "EpisodeOfCare", "id": "ep", "diagnosis": [{"role": {"text": reason}}]},
        {"resourceType": "Patient", "id": "pt", "birthDate": "2014-03-02"},
    ]  # fmt: skip
    return {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    reason=st.text(min_size=1, max_size=40).filter(lambda t: t.strip()),
    codes=st.lists(st.text(min_size=1, max_size=10), max_size=3),
    extra=st.lists(st.sampled_from(CLINICAL_ELEMENTS), max_size=4),
)
def test_no_clinical_element_ever_reaches_a_school(
    reason: str, codes: list[str], extra: list[str]
) -> None:
    policy = Policy.model_validate(
        {"flows": [], "minimisation": [{"recipient": "school", "drop": extra}]}
    )
    minimised = minimise(
        _clinical_bundle(reason, codes), policy.minimisation_for(PartnerKind.SCHOOL)
    )
    kept = {e["resource"]["resourceType"]: e["resource"] for e in minimised["entry"]}
    for element in CLINICAL_ELEMENTS:
        resource_type, _, name = element.partition(".")
        if not name:
            assert resource_type not in kept
        elif resource_type in kept and element in REQUIRED:
            assert kept[resource_type][name] == WITHHELD, "required elements are only withheld"
        elif resource_type in kept:
            assert name not in kept[resource_type]
    assert "MessageHeader" in kept


def test_the_school_rule_cannot_be_relaxed_by_the_policy_file() -> None:
    lax = Policy.model_validate(
        {"flows": [], "minimisation": [{"recipient": "school", "drop": []}]}
    )
    assert set(CLINICAL_ELEMENTS) <= set(lax.minimisation_for(PartnerKind.SCHOOL))


def test_examples_are_enough_to_matter() -> None:
    """The closing note cites this number; keep it honest."""
    assert EXAMPLES >= 400
    assert date(2026, 1, 1) == START.date()


def _message(
    event: MessageEvent, sender: str, child_age: int, pmid: str, **facts: object
) -> RoutingEnvelope:
    recipient = "aanbieder-a" if event is MessageEvent.REFERRAL else None
    return RoutingEnvelope(
        message_id=str(uuid.uuid4()),
        event=event,
        sender_id=sender,
        sender_kind=PARTNERS[sender],
        partner_message_id=pmid,
        household="h" * 32,
        child=CHILDREN[0],
        recipient_id=recipient,
        recipient_kind=PARTNERS[recipient] if recipient else None,
        received_at=START,
        facts=RoutingFacts(child_age=child_age, **facts),
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    age=st.integers(0, 23),
    signed=st.sampled_from([("parent",), ("child", "parent"), ("child",), ("guardian",)]),
    starts=st.integers(0, 30),
    lasts=st.none() | st.integers(0, 60),
    revoke_on=st.none() | st.integers(0, 90),
    referral_days=st.lists(st.integers(0, 90), min_size=1, max_size=8, unique=True),
)
def test_consent_is_honoured_exactly_while_in_force(
    age: int,
    signed: tuple[str, ...],
    starts: int,
    lasts: int | None,
    revoke_on: int | None,
    referral_days: list[int],
) -> None:
    """An OJG referral needs consent: delivered exactly on the days the consent is in force,
    signed by the right parties for the child's age, and not yet revoked."""
    valid_from = START.date() + timedelta(days=starts)
    valid_until = None if lasts is None else valid_from + timedelta(days=lasts)
    consent = ConsentFacts(
        consent_id="TS-1", given_by=tuple(ConsentParty(p) for p in signed),
        purposes=("verwijzing",), recipients=("aanbieder-a",),
        valid_from=valid_from, valid_until=valid_until,
    )  # fmt: skip
    right = POLICY.signatories_sufficient(age, consent.given_by)
    given = _message(MessageEvent.CONSENT_GIVEN, "wij-a", age, "C-1", consent=consent)
    recorded = decide(HouseholdState(), given, POLICY, START, DIRECTORY)
    assert any(d.kind is DeliveryKind.ACK for d in recorded.deliveries) == right
    events: list[tuple[int, str]] = [(day, "referral") for day in referral_days]
    if revoke_on is not None:
        events.append((revoke_on, "revoke"))
    state = recorded.new_state
    revoked_at: int | None = None
    for day, what in sorted(events, key=lambda e: (e[0], e[1] == "referral")):
        now = START + timedelta(days=day)
        if what == "revoke":
            revoke = _message(MessageEvent.CONSENT_REVOKED, "wij-a", age, f"R-{day}",
                              consent=consent)  # fmt: skip
            decision = decide(state, revoke, POLICY, now, DIRECTORY)
            if right:
                revoked_at = day
            state = decision.new_state
            continue
        referral = _message(MessageEvent.REFERRAL, "ojg-a", age, f"V-{day}")
        decision = decide(state, referral, POLICY, now, DIRECTORY)
        in_window = valid_from <= now.date() and (valid_until is None or now.date() <= valid_until)
        expected = right and in_window and revoked_at is None
        delivered = any(d.kind is DeliveryKind.FORWARD for d in decision.deliveries)
        assert delivered == expected, (day, right, in_window, revoked_at)
        state = decision.new_state


def test_minimised_bundles_stay_valid_fhir() -> None:
    """Dropping a required element (Flag.code) leaves a 'withheld' code, not a hole."""
    from schemas.fhir import validate_bundle
    from tests.routing.test_policy_adapters import DECODED

    for (kind, event), decoded in DECODED.items():
        for recipient in (PartnerKind.SCHOOL, PartnerKind.WIJ, PartnerKind.RIGG):
            minimised = minimise(decoded.bundle, POLICY.minimisation_for(recipient))
            validate_bundle(minimised)
            assert kind and event
