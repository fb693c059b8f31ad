"""The indicators as Prometheus gauges, for the dashboard's indicator row.

One series per indicator and area (areas come from the partner registry, so the labels are
bounded), for the latest month of the report. A suppressed figure has no value series: its
``ketenhub_indicator_suppressed`` is 1 instead, so a panel shows a gap and not a number the
table would hide.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Gauge

from hub.ops.indicators import Indicator, IndicatorReport, Ratio
from hub.ops.suppression import TOTAL


@dataclass
class IndicatorMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.value = Gauge(
            "ketenhub_indicator",
            "A steering indicator of the latest month, per area ('totaal': all areas), from "
            "the audit log; absent when suppressed (docs/indicators.md)",
            ["indicator", "area"], registry=r,
        )  # fmt: skip
        self.suppressed = Gauge(
            "ketenhub_indicator_suppressed",
            "1 when the indicator's figure is suppressed (under 5, or it would reveal one)",
            ["indicator", "area"], registry=r,
        )  # fmt: skip
        self.month = Gauge(
            "ketenhub_indicator_month_start_timestamp_seconds",
            "Unix time of the start of the month the indicator gauges are for", registry=r,
        )  # fmt: skip
        self.refreshed = Gauge(
            "ketenhub_indicator_refreshed_timestamp_seconds",
            "Unix time the indicators were last computed from the audit log", registry=r,
        )  # fmt: skip

    def precreate(self, areas: list[str]) -> None:
        for name in [*Indicator, *Ratio]:
            for area in [*areas, TOTAL]:
                self.suppressed.labels(name.value, area)

    def publish(self, report: IndicatorReport, now: datetime | None = None) -> None:
        """Set the gauges to the report's latest month (nothing when it has no months)."""
        self.refreshed.set((now or datetime.now(UTC)).timestamp())
        if not report.months:
            return
        latest = report.months[-1]
        year, month = (int(part) for part in latest.split("-"))
        self.month.set(datetime(year, month, 1, tzinfo=UTC).timestamp())
        for figure in report.figures():
            if figure.month != latest:
                continue
            labels = (figure.indicator, figure.area)
            if figure.value is None:
                self.suppressed.labels(*labels).set(1 if figure.suppressed else 0)
                with contextlib.suppress(KeyError):  # not set before
                    self.value.remove(*labels)
            else:
                self.suppressed.labels(*labels).set(0)
                self.value.labels(*labels).set(figure.value)
