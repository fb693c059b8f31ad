"""The indicators, counted from audit records the real router core and audit shell wrote."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from prometheus_client import generate_latest

from hub.ops.indicator_metrics import IndicatorMetrics
from hub.ops.indicators import Figure, Indicator, IndicatorReport, Ratio, compute
from hub.ops.indicators_plot import plot_indicators
from hub.ops.suppression import TOTAL, Suppressed
from observability import audit as logboek
from observability.audit import LogboekRecord
from routing.decide import decide
from routing.directory import Directory
from routing.state import HouseholdState
from schemas.codes import MessageEvent
from schemas.envelope import RoutingEnvelope, RoutingFacts
from tests.conftest import default_policy, default_registry

POLICY = default_policy()
REGISTRY = default_registry()
DIRECTORY = Directory.from_registry(REGISTRY)
OCT = datetime(2026, 10, 5, 9, tzinfo=UTC)
NOV = datetime(2026, 11, 9, 9, tzinfo=UTC)


@dataclass
class Chain:
    """Messages through ``decide`` and ``from_route``, as the route stage does it."""

    states: dict[str, HouseholdState] = field(default_factory=dict)
    records: list[LogboekRecord] = field(default_factory=list)

    def send(
        self,
        sender: str,
        event: MessageEvent,
        household: str,
        at: datetime,
        recipient: str | None = None,
        child: str | None = None,
        **facts: object,
    ) -> None:
        partner = REGISTRY.get(sender)
        assert partner is not None
        target = REGISTRY.get(recipient) if recipient else None
        envelope = RoutingEnvelope(
            message_id=str(uuid.uuid4()),
            event=event,
            sender_id=sender,
            sender_kind=partner.kind,
            partner_message_id=uuid.uuid4().hex[:12],
            household=household,
            child=child or household,
            recipient_id=target.id if target else None,
            recipient_kind=target.kind if target else None,
            received_at=at,
            facts=RoutingFacts(child_age=9, area=partner.area, **facts),
        )
        decision = decide(
            self.states.get(household, HouseholdState()), envelope, POLICY, at, DIRECTORY
        )
        self.states[household] = decision.new_state
        self.records += logboek.from_route(
            decision.audit, envelope, ended=at, kind_of=DIRECTORY.kind, instance_id="t"
        )


def _h(n: int) -> str:
    return f"{n:032x}"


def _figures(figures: list[Figure]) -> dict[tuple[str, str, str], str]:
    return {(f.month, f.area, f.indicator): f.shown for f in figures}


def test_referral_paths_with_small_cells_and_the_total_that_would_reveal_them() -> None:
    chain = Chain()
    for n in range(6):  # six young people in Zuid, referred by their GP
        chain.send("huisarts-wijert", MessageEvent.REFERRAL, _h(n), OCT, "aanbieder-noorderlicht")
    for n in range(6, 8):  # two in West, to the direct-access pilot
        chain.send(
            "huisarts-hoogkerk", MessageEvent.REFERRAL, _h(n), OCT, "aanbieder-hoogkerk-direct"
        )
    shown = _figures(compute(chain.records).figures())
    by_gp = Indicator.REFERRED_BY_HUISARTS.value
    assert shown[("2026-10", "zuid", by_gp)] == "6"
    assert shown[("2026-10", "west", by_gp)] == "<5"
    assert shown[("2026-10", TOTAL, by_gp)] == "x"  # 8 - 6 would give West away
    assert shown[("2026-10", "west", Indicator.DIRECT_ACCESS.value)] == "<5"
    assert shown[("2026-10", "zuid", Indicator.DIRECT_ACCESS.value)] == "0"
    assert shown[("2026-10", "west", Ratio.DIRECT_ACCESS_SHARE.value)] == "x"


def test_a_resent_referral_counts_once_and_months_are_apart() -> None:
    chain = Chain()
    for n in range(5):
        chain.send("huisarts-wijert", MessageEvent.REFERRAL, _h(n), OCT, "aanbieder-noorderlicht")
        chain.send("huisarts-wijert", MessageEvent.REFERRAL, _h(n), NOV, "aanbieder-kompas")
    chain.records += chain.records[:2]  # the same records read twice change nothing
    report = compute(chain.records)
    assert report.months == ("2026-10", "2026-11")
    shown = _figures(report.figures())
    assert shown[("2026-10", TOTAL, Indicator.REFERRED_BY_HUISARTS.value)] == "5"
    assert shown[("2026-11", "zuid", Indicator.REFERRED_BY_HUISARTS.value)] == "5"
    only_nov = compute(chain.records, since=date(2026, 11, 1))
    assert only_nov.months == ("2026-11",)


def test_certified_institution_assignment_and_wij_guidance() -> None:
    chain = Chain()
    for n in range(5):
        chain.send(
            "aanbieder-kompas", MessageEvent.ASSIGNMENT_REQUEST, _h(n), OCT, "rigg-groningen",
            referrer_type="04",
        )  # fmt: skip
        chain.send("rigg-groningen", MessageEvent.ASSIGNMENT, _h(n), OCT, "aanbieder-kompas")
    chain.send(
        "aanbieder-kompas", MessageEvent.ASSIGNMENT_REQUEST, _h(9), OCT, "rigg-groningen",
        referrer_type="02",
    )  # fmt: skip
    for n in range(10, 20):  # ten households with a WIJ Zuid regisseur; five referred on
        chain.send("wij-zuid", MessageEvent.REGIE_CLAIM, _h(n), OCT)
        if n < 15:
            chain.send("wij-zuid", MessageEvent.REFERRAL, _h(n), OCT, "aanbieder-noorderlicht")
    report = compute(chain.records)
    shown = _figures(report.figures())
    m = "2026-10"
    # The provider has no area and learnt none: its households are counted as 'onbekend'.
    assert shown[(m, "onbekend", Indicator.REFERRED_BY_CERTIFIED_INSTITUTION.value)] == "5"
    assert shown[(m, "onbekend", Indicator.ASSIGNED_VIA_RIGG.value)] == "5"
    assert shown[(m, "zuid", Indicator.REFERRED_BY_WIJ.value)] == "5"
    assert shown[(m, "zuid", Indicator.WIJ_SPECIALIST.value)] == "5"
    assert shown[(m, "zuid", Indicator.WIJ_BASIC.value)] == "5"
    assert shown[(m, "zuid", Ratio.WIJ_SPECIALIST_SHARE.value)] == "50"
    assert shown[(m, "zuid", Indicator.HOUSEHOLDS_WITH_REGISSEUR.value)] == "10"
    assert shown[(m, "zuid", Ratio.REGISSEUR_SHARE.value)] == "100"
    assert shown[(m, TOTAL, Ratio.DIRECT_ACCESS_SHARE.value)] == "0"


def test_time_from_first_signal_to_regisseur_matches_and_escalations() -> None:
    chain = Chain()
    for n in range(5):
        household = _h(100 + n)
        chain.send("school-montessori", MessageEvent.SIGNAL, household, OCT)
        chain.send("huisarts-wijert", MessageEvent.SIGNAL, household, OCT + timedelta(hours=1))
        chain.send("wij-zuid", MessageEvent.REGIE_CLAIM, household, OCT + timedelta(days=n + 1))
        chain.send("veiligheidshuis-groningen", MessageEvent.ESCALATION, household,
                   NOV)  # fmt: skip
    chain.send("wij-zuid", MessageEvent.REGIE_CLAIM, _h(200), OCT)  # regie without a signal
    chain.send("school-montessori", MessageEvent.SIGNAL, _h(200), OCT + timedelta(days=3))
    shown = _figures(compute(chain.records).figures())
    assert shown[("2026-10", "zuid", Indicator.SIGNAL_TO_REGISSEUR.value)] == "5"
    assert shown[("2026-10", "zuid", Ratio.SIGNAL_TO_REGISSEUR_DAYS.value)] == "3"  # 1..5 days
    assert shown[("2026-10", "zuid", Indicator.SIGNAL_MATCHES.value)] == "5"
    assert shown[("2026-11", "zuid", Indicator.ESCALATIONS.value)] == "5"
    assert shown[("2026-10", "zuid", Indicator.HOUSEHOLDS_IN_CONTACT.value)] == "6"


def test_one_area_shows_that_area_only_and_keeps_the_full_reports_suppression() -> None:
    chain = Chain()
    for n in range(7):
        chain.send("huisarts-wijert", MessageEvent.REFERRAL, _h(n), OCT, "aanbieder-noorderlicht")
    chain.send("huisarts-hoogkerk", MessageEvent.REFERRAL, _h(50), OCT, "aanbieder-kompas")
    report = compute(chain.records)
    figures = report.figures(area="west")
    assert {f.area for f in figures} == {"west"}
    [west] = [f for f in figures if f.indicator == Indicator.REFERRED_BY_HUISARTS.value]
    assert (west.shown, west.value, west.suppressed) == ("<5", None, Suppressed.SMALL)


def test_an_empty_log_gives_an_empty_report() -> None:
    report = compute([])
    assert report.months == ()
    assert report.figures() == []


def _small_report() -> IndicatorReport:
    chain = Chain()
    for n in range(6):
        chain.send("huisarts-wijert", MessageEvent.REFERRAL, _h(n), OCT, "aanbieder-noorderlicht")
    chain.send("huisarts-hoogkerk", MessageEvent.REFERRAL, _h(60), NOV, "aanbieder-kompas")
    for n in range(5):
        chain.send("huisarts-wijert", MessageEvent.REFERRAL, _h(n), NOV, "aanbieder-kompas")
    return compute(chain.records)


def test_the_gauges_show_the_latest_month_and_leave_suppressed_figures_out() -> None:
    metrics = IndicatorMetrics()
    metrics.precreate(["west", "zuid"])
    metrics.publish(_small_report(), now=NOV)
    text = generate_latest(metrics.registry).decode()
    by_gp = Indicator.REFERRED_BY_HUISARTS.value
    assert f'ketenhub_indicator{{area="zuid",indicator="{by_gp}"}} 5.0' in text
    assert f'ketenhub_indicator_suppressed{{area="west",indicator="{by_gp}"}} 1.0' in text
    assert f'ketenhub_indicator{{area="west",indicator="{by_gp}"}}' not in text
    assert f'ketenhub_indicator{{area="totaal",indicator="{by_gp}"}}' not in text
    assert f'ketenhub_indicator_suppressed{{area="totaal",indicator="{by_gp}"}} 1.0' in text
    november = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    assert (
        metrics.registry.get_sample_value("ketenhub_indicator_month_start_timestamp_seconds")
        == november
    )


def test_the_plot_is_a_png(tmp_path: Path) -> None:
    path = tmp_path / "indicators.png"
    plot_indicators(_small_report(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000
