"""The indicators the municipality steers on, counted from the audit log alone.

Pure: audit records in, a table of counts per month and area out, suppressed so that no
figure lets one recognise a person (``hub.ops.suppression``). Each indicator is defined
in plain words in ``docs/indicators.md``; the counting rules here are that text in code.

Every record of the whole log is read, whatever the period asked for: a household's first
signal or regisseur may lie before it. Only the months asked for are reported.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from hub.ops.suppression import TOTAL, Cell, Suppressed, suppress_table
from observability.audit import AuditAttributes, LogboekRecord
from schemas.audit import AuditAction
from schemas.codes import MessageEvent
from schemas.partners import PartnerKind

UNKNOWN_AREA = "onbekend"
"""The area of a household the hub learnt no area for (a column of its own, so a month's
total is exactly the sum of its area cells)."""
CERTIFIED_INSTITUTION = "04"
"""iJw COD327: Verwijzer type 'gecertificeerde instelling'."""


class Indicator(StrEnum):
    """Counts (young people, households or matches) per month and area."""

    REFERRED_BY_HUISARTS = "referred-by-huisarts"
    REFERRED_BY_OJG = "referred-by-ojg"
    REFERRED_BY_WIJ = "referred-by-wij"
    REFERRED_BY_CERTIFIED_INSTITUTION = "referred-by-certified-institution"
    WIJ_BASIC = "wij-basic-provision"
    WIJ_SPECIALIST = "wij-specialist-care"
    DIRECT_ACCESS = "direct-access"
    ASSIGNED_VIA_RIGG = "assigned-via-rigg"
    HOUSEHOLDS_IN_CONTACT = "households-in-contact"
    HOUSEHOLDS_WITH_REGISSEUR = "households-with-one-regisseur"
    SIGNAL_TO_REGISSEUR = "signal-then-regisseur"
    SIGNAL_MATCHES = "signal-matches"
    FAMILY_MATCHES = "family-matches"
    ESCALATIONS = "escalations"


class Ratio(StrEnum):
    """Figures computed from the counts: shown only when every count they use is shown."""

    WIJ_SPECIALIST_SHARE = "wij-specialist-share-pct"
    DIRECT_ACCESS_SHARE = "direct-access-share-pct"
    REGISSEUR_SHARE = "households-with-one-regisseur-pct"
    SIGNAL_TO_REGISSEUR_DAYS = "signal-to-regisseur-median-days"


_REFERRERS = {
    PartnerKind.HUISARTS: Indicator.REFERRED_BY_HUISARTS,
    PartnerKind.OJG: Indicator.REFERRED_BY_OJG,
    PartnerKind.WIJ: Indicator.REFERRED_BY_WIJ,
}
_MATCHES = {"signal-match": Indicator.SIGNAL_MATCHES, "family-match": Indicator.FAMILY_MATCHES}
_SHARES = {
    Ratio.WIJ_SPECIALIST_SHARE: (Indicator.WIJ_SPECIALIST, (Indicator.WIJ_BASIC,)),
    Ratio.DIRECT_ACCESS_SHARE: (Indicator.DIRECT_ACCESS, (Indicator.ASSIGNED_VIA_RIGG,)),
    Ratio.REGISSEUR_SHARE: (Indicator.HOUSEHOLDS_WITH_REGISSEUR, ()),
}
"""(numerator, the other parts of the denominator); the regisseur share's denominator is
households in contact, of which the numerator is a part."""


def month_of(at: datetime | date) -> str:
    return f"{at.year:04d}-{at.month:02d}"


@dataclass(frozen=True)
class Figure:
    """One reported figure: a month, an area (or ``totaal``), what, and what may be shown."""

    month: str
    area: str
    indicator: str
    value: float | None
    shown: str
    suppressed: Suppressed | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "month": self.month,
            "area": self.area,
            "indicator": self.indicator,
            "value": self.value,
            "shown": self.shown,
            "suppressed": self.suppressed.value if self.suppressed else None,
        }


@dataclass
class _Household:
    area: str = UNKNOWN_AREA
    had_regisseur: bool = False
    first_signal: datetime | None = None
    waited_days: float | None = None


@dataclass
class _Counter:
    """Distinct young people, households or pairs per indicator, month and area."""

    seen: dict[tuple[Indicator, str, str], set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )
    last_regie: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict)
    """(household, month) -> (area, regisseur after its last accepted message that month)."""
    wij_involved: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    waits: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    households: dict[str, _Household] = field(default_factory=lambda: defaultdict(_Household))

    counted: set[tuple[Indicator, str, str]] = field(default_factory=set)
    """(indicator, month, who) already counted: a child whose household's area changes within
    a month counts once, in the first area, so a month's total is the number of children."""

    def add(self, indicator: Indicator, month: str, area: str, who: str) -> None:
        if (indicator, month, who) in self.counted:
            return
        self.counted.add((indicator, month, who))
        self.seen[(indicator, month, area)].add(who)

    def read(self, record: LogboekRecord) -> None:
        a = record.attributes
        if a.event is None or a.household is None:
            return  # an operator's disclosure: no household, no indicator
        at, household = record.start_time, a.household
        month = month_of(at)
        state = self.households[household]
        if a.area:
            state.area = a.area
        area = state.area
        child = a.data_subject_id or a.message_id
        if a.action is AuditAction.DELIVERED:
            self._delivered(a, month, area, child)
        elif a.action is AuditAction.NOTIFIED and a.notice in _MATCHES:
            if a.recipient_id == a.sender_id:  # one notice per matched pair goes to the sender
                self.add(_MATCHES[a.notice], month, area, a.message_id)
        elif a.action is AuditAction.ACKNOWLEDGED:
            self._accepted(a, at, month, area, state)

    def _delivered(self, a: AuditAttributes, month: str, area: str, child: str) -> None:
        if a.recipient_kind is PartnerKind.WIJ:
            self.wij_involved[(month, area)].add(a.household or "")
        if a.event is MessageEvent.REFERRAL and a.recipient_kind is PartnerKind.AANBIEDER:
            path = _REFERRERS.get(a.sender_kind) if a.sender_kind else None
            if path is not None:
                self.add(path, month, area, child)
            if a.sender_kind is PartnerKind.WIJ:
                self.add(Indicator.WIJ_SPECIALIST, month, area, a.household or "")
            if a.direct_access:
                self.add(Indicator.DIRECT_ACCESS, month, area, child)
        elif (
            a.event is MessageEvent.ASSIGNMENT_REQUEST
            and a.recipient_kind is PartnerKind.RIGG
            and a.referrer_type == CERTIFIED_INSTITUTION
        ):
            self.add(Indicator.REFERRED_BY_CERTIFIED_INSTITUTION, month, area, child)
        elif (
            a.event is MessageEvent.ASSIGNMENT
            and a.sender_kind is PartnerKind.RIGG
            and a.recipient_kind is PartnerKind.AANBIEDER
        ):
            self.add(Indicator.ASSIGNED_VIA_RIGG, month, area, child)

    def _accepted(
        self, a: AuditAttributes, at: datetime, month: str, area: str, state: _Household
    ) -> None:
        household = a.household or ""
        regie = a.regisseur_kind
        self.last_regie[(household, month)] = (area, regie is not None)
        if PartnerKind.WIJ in (regie, a.sender_kind):
            self.wij_involved[(month, area)].add(household)
        if a.event is MessageEvent.ESCALATION and regie is PartnerKind.VEILIGHEIDSHUIS:
            self.add(Indicator.ESCALATIONS, month, area, household)
        if regie is None and not state.had_regisseur and a.event is MessageEvent.SIGNAL:
            state.first_signal = state.first_signal or at
        if regie is not None and not state.had_regisseur:
            state.had_regisseur = True
            if state.first_signal is not None:
                days = (at - state.first_signal).total_seconds() / 86400
                self.add(Indicator.SIGNAL_TO_REGISSEUR, month, area, household)
                self.waits[(month, area)].append(days)

    def tables(self) -> dict[Indicator, dict[str, dict[str, int]]]:
        counts: dict[Indicator, dict[str, dict[str, int]]] = {i: {} for i in Indicator}
        for (indicator, month, area), who in self.seen.items():
            counts[indicator].setdefault(month, {})[area] = len(who)
        for (_, month), (area, has_regie) in self.last_regie.items():
            for indicator, add in (
                (Indicator.HOUSEHOLDS_IN_CONTACT, True),
                (Indicator.HOUSEHOLDS_WITH_REGISSEUR, has_regie),
            ):
                cells = counts[indicator].setdefault(month, {})
                cells[area] = cells.get(area, 0) + int(add)
        for (month, area), households in self.wij_involved.items():
            referred = self.seen.get((Indicator.WIJ_SPECIALIST, month, area), set())
            basic = len(households - referred)
            if basic:
                counts[Indicator.WIJ_BASIC].setdefault(month, {})[area] = basic
        return counts


@dataclass(frozen=True)
class IndicatorReport:
    months: tuple[str, ...]
    areas: tuple[str, ...]
    counts: dict[Indicator, dict[str, dict[str, Cell]]]
    ratios: dict[Ratio, dict[str, dict[str, tuple[float | None, Suppressed | None]]]]

    def figures(self, area: str | None = None) -> list[Figure]:
        """Every figure, month by month; only one area's (no totals) when ``area`` is set."""
        out: list[Figure] = []
        columns = [area] if area is not None else [*self.areas, TOTAL]
        for month in self.months:
            for indicator in Indicator:
                for column in columns:
                    cell = self.counts[indicator].get(month, {}).get(column, Cell(0))
                    figure = Figure(
                        month, column, indicator.value, cell.public, cell.shown, cell.suppressed
                    )
                    out.append(figure)
            for ratio in Ratio:
                for column in columns:
                    value, why = self.ratios[ratio].get(month, {}).get(column, (None, None))
                    shown = "x" if why else ("-" if value is None else f"{value:g}")
                    out.append(Figure(month, column, ratio.value, value, shown, why))
        return out


def compute(
    records: Iterable[LogboekRecord],
    *,
    since: date | None = None,
    until: date | None = None,
) -> IndicatorReport:
    """The report over the months from ``since`` to ``until`` (both included)."""
    counter = _Counter()
    for record in sorted(records, key=lambda r: (r.start_time, r.span_id)):
        counter.read(record)
    tables = counter.tables()
    areas = sorted(
        {h.area for h in counter.households.values()} | {a for _, _, a in counter.seen},
        key=lambda a: (a == UNKNOWN_AREA, a),
    )
    months = sorted({m for table in tables.values() for m in table})
    first = month_of(since) if since else None
    last = month_of(until) if until else None
    months = [m for m in months if (first is None or m >= first) and (last is None or m <= last)]
    counts = {
        indicator: suppress_table({m: table.get(m, {}) for m in months}, areas)
        for indicator, table in tables.items()
    }
    ratios = {ratio: _ratio(ratio, counts, counter, months, areas) for ratio in Ratio}
    return IndicatorReport(tuple(months), tuple(areas), counts, ratios)


def _ratio(
    ratio: Ratio,
    counts: dict[Indicator, dict[str, dict[str, Cell]]],
    counter: _Counter,
    months: list[str],
    areas: list[str],
) -> dict[str, dict[str, tuple[float | None, Suppressed | None]]]:
    out: dict[str, dict[str, tuple[float | None, Suppressed | None]]] = {}
    for month in months:
        row = out.setdefault(month, {})
        for area in [*areas, TOTAL]:
            if ratio is Ratio.SIGNAL_TO_REGISSEUR_DAYS:
                cell = counts[Indicator.SIGNAL_TO_REGISSEUR][month][area]
                waits = (
                    [d for (m, _), ds in counter.waits.items() if m == month for d in ds]
                    if area == TOTAL
                    else counter.waits.get((month, area), [])
                )
                median = round(statistics.median(waits), 1) if waits else None
                row[area] = (None, Suppressed.DERIVED) if cell.suppressed else (median, None)
                continue
            numerator, others = _SHARES[ratio]
            cells = [counts[i][month][area] for i in (numerator, *others)]
            if ratio is Ratio.REGISSEUR_SHARE:
                cells.append(counts[Indicator.HOUSEHOLDS_IN_CONTACT][month][area])
            if any(c.suppressed for c in cells):
                row[area] = (None, Suppressed.DERIVED)
                continue
            top = cells[0].value
            bottom = (
                cells[-1].value if ratio is Ratio.REGISSEUR_SHARE else sum(c.value for c in cells)
            )
            row[area] = (round(100 * top / bottom, 1) if bottom else None, None)
    return out
