"""The chain hears of the iJw cycle: the referrer and the regisseur learn, minimised, that an
assignment was granted (JW301) or a request refused (JW319 WJ760 1), and that care started or
stopped (JW305/JW307). Pure ``decide``, no Kafka."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from routing.decide import Decision, DeliveryKind, NoticeSubject, decide
from routing.directory import Directory
from routing.state import HouseholdState, ReferralRecord, Regie
from schemas.audit import LegalBasis
from schemas.codes import MessageEvent
from schemas.envelope import RoutingEnvelope, RoutingFacts
from schemas.partners import PartnerKind
from tests.conftest import default_policy, default_registry

NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)
POLICY = default_policy()
DIRECTORY = Directory.from_registry(default_registry())
GP = "huisarts-wijert"
PROVIDER = "aanbieder-noorderlicht"
OTHER_PROVIDER = "aanbieder-kompas"
RIGG = "rigg-groningen"
WIJ = "wij-zuid"
CHILD = "c" * 32


def _state(*, regisseur: str | None = None, provider: str = PROVIDER) -> HouseholdState:
    referral = ReferralRecord(
        child=CHILD,
        referrer_id=GP,
        referrer_kind=PartnerKind.HUISARTS,
        provider_id=provider,
        partner_message_id="HIS-1",
    )
    regie = None
    if regisseur is not None:
        regie = Regie(
            partner_id=regisseur, kind=PartnerKind.WIJ, since=NOW, partner_message_id="WIJ-1"
        )
    return HouseholdState(referrals=(referral,), regie=regie)


def _from_rigg(
    event: MessageEvent, facts: RoutingFacts | None = None, child: str = CHILD
) -> RoutingEnvelope:
    return RoutingEnvelope(
        message_id=str(uuid.uuid4()),
        event=event,
        sender_id=RIGG,
        sender_kind=PartnerKind.RIGG,
        partner_message_id=f"{event.value}:1",
        household="h" * 32,
        child=child,
        recipient_id=PROVIDER,
        recipient_kind=PartnerKind.AANBIEDER,
        received_at=NOW,
        facts=facts or RoutingFacts(),
    )


def _from_provider(event: MessageEvent) -> RoutingEnvelope:
    return RoutingEnvelope(
        message_id=str(uuid.uuid4()),
        event=event,
        sender_id=PROVIDER,
        sender_kind=PartnerKind.AANBIEDER,
        partner_message_id=f"{event.value}:1",
        household="h" * 32,
        child=CHILD,
        recipient_id=RIGG,
        recipient_kind=PartnerKind.RIGG,
        received_at=NOW,
    )


def _notices(decision: Decision) -> dict[str, NoticeSubject]:
    found = {}
    for d in decision.deliveries:
        if d.kind is DeliveryKind.NOTIFY:
            assert d.notice is not None and d.basis is LegalBasis.STATUTORY
            assert d.notice.about == (PROVIDER,)
            found[d.recipient_id] = d.notice.subject
    return found


def _forwarded(decision: Decision) -> list[str]:
    return [d.recipient_id for d in decision.deliveries if d.kind is DeliveryKind.FORWARD]


def test_an_assignment_tells_the_referrer_and_the_regisseur() -> None:
    decision = decide(
        _state(regisseur=WIJ), _from_rigg(MessageEvent.ASSIGNMENT), POLICY, NOW, DIRECTORY
    )
    assert _forwarded(decision) == [PROVIDER]
    assert _notices(decision) == {
        GP: NoticeSubject.ASSIGNMENT_GRANTED,
        WIJ: NoticeSubject.ASSIGNMENT_GRANTED,
    }
    (gp_notice,) = [d for d in decision.deliveries if d.recipient_id == GP]
    assert gp_notice.notice is not None and gp_notice.notice.regarding == "HIS-1"


def test_an_assignment_to_another_provider_or_child_tells_no_referrer() -> None:
    other = decide(
        _state(provider=OTHER_PROVIDER), _from_rigg(MessageEvent.ASSIGNMENT), POLICY, NOW, DIRECTORY
    )
    assert _notices(other) == {}
    sibling = decide(
        _state(), _from_rigg(MessageEvent.ASSIGNMENT, child="d" * 32), POLICY, NOW, DIRECTORY
    )
    assert _notices(sibling) == {}


def test_a_refused_request_tells_the_referrer() -> None:
    refused = _from_rigg(
        MessageEvent.REQUEST_ANSWER, RoutingFacts(verzoek_antwoord="1"), child="x" * 32
    )
    decision = decide(_state(), refused, POLICY, NOW, DIRECTORY)
    assert _forwarded(decision) == [PROVIDER]
    assert _notices(decision) == {GP: NoticeSubject.ASSIGNMENT_REFUSED}


def test_a_request_under_investigation_tells_nobody() -> None:
    pending = _from_rigg(MessageEvent.REQUEST_ANSWER, RoutingFacts(verzoek_antwoord="2"))
    decision = decide(_state(regisseur=WIJ), pending, POLICY, NOW, DIRECTORY)
    assert _forwarded(decision) == [PROVIDER]
    assert _notices(decision) == {}
    assert [d.kind for d in decision.deliveries] == [DeliveryKind.FORWARD, DeliveryKind.ACK]


@pytest.mark.parametrize(
    ("event", "subject"),
    [
        (MessageEvent.CARE_START, NoticeSubject.CARE_STARTED),
        (MessageEvent.CARE_END, NoticeSubject.CARE_ENDED),
    ],
)
def test_care_start_and_stop_tell_the_referrer_and_the_regisseur(
    event: MessageEvent, subject: NoticeSubject
) -> None:
    decision = decide(_state(regisseur=WIJ), _from_provider(event), POLICY, NOW, DIRECTORY)
    assert _forwarded(decision) == [RIGG]
    assert _notices(decision) == {GP: subject, WIJ: subject}


def test_the_regisseur_who_referred_hears_once() -> None:
    state = _state(regisseur=GP)
    decision = decide(state, _from_provider(MessageEvent.CARE_START), POLICY, NOW, DIRECTORY)
    notified = [d.recipient_id for d in decision.deliveries if d.kind is DeliveryKind.NOTIFY]
    assert notified == [GP]
