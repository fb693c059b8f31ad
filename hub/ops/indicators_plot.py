"""A PNG of the monthly indicators (matplotlib, imported only when a plot is asked for).

It draws the figures the report may show, nothing else: a suppressed figure is a gap in
its line, so the picture can never show more than the table.
"""

from __future__ import annotations

import math
from pathlib import Path

from hub.ops.indicators import Indicator, IndicatorReport, Ratio
from hub.ops.suppression import TOTAL

PANELS: tuple[tuple[str, tuple[Indicator | Ratio, ...]], ...] = (
    (
        "How young people reach specialist care",
        (
            Indicator.REFERRED_BY_HUISARTS,
            Indicator.REFERRED_BY_OJG,
            Indicator.REFERRED_BY_WIJ,
            Indicator.REFERRED_BY_CERTIFIED_INSTITUTION,
        ),
    ),
    (
        "WIJ teams: basic provision or specialist care",
        (Indicator.WIJ_BASIC, Indicator.WIJ_SPECIALIST),
    ),
    (
        "Direct access or assignment via the RIGG",
        (Indicator.DIRECT_ACCESS, Indicator.ASSIGNED_VIA_RIGG),
    ),
    (
        "Households: in contact, with one regisseur",
        (Indicator.HOUSEHOLDS_IN_CONTACT, Indicator.HOUSEHOLDS_WITH_REGISSEUR),
    ),
    ("First signal to regisseur (median days)", (Ratio.SIGNAL_TO_REGISSEUR_DAYS,)),
    (
        "Signal matches and escalations",
        (Indicator.SIGNAL_MATCHES, Indicator.FAMILY_MATCHES, Indicator.ESCALATIONS),
    ),
)


def plot_indicators(report: IndicatorReport, path: Path, area: str | None = None) -> None:
    """Write the monthly figures of ``area`` (default: the totals) to ``path`` as a PNG."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError("the plot needs matplotlib: pip install 'ketenhub[bench]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    column = area or TOTAL
    shown = [f for f in report.figures(area=area) if f.area == column]
    values = {(f.month, f.indicator): f.value for f in shown}
    hidden = {(f.month, f.indicator) for f in shown if f.suppressed}
    months = list(report.months)
    xs = list(range(len(months)))
    figure, grid = plt.subplots(3, 2, figsize=(12, 10), dpi=100, squeeze=False)
    for axes, (title, series) in zip(grid.flat, PANELS, strict=True):
        gaps: list[int] = []
        for name in series:
            ys = [values.get((m, name.value)) for m in months]
            axes.plot(xs, [math.nan if y is None else y for y in ys], marker="o", label=name)
            gaps += [x for x, m in zip(xs, months, strict=True) if (m, name.value) in hidden]
        if gaps:
            axes.plot(gaps, [0] * len(gaps), "x", color="grey", clip_on=False,
                      label="suppressed (<5, or would reveal one)")  # fmt: skip
        axes.set_title(title, fontsize=10)
        axes.set_ylim(bottom=0)
        axes.set_xticks(xs, months, rotation=45, fontsize=8)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7)
    where = f"area {area}" if area else "all areas"
    figure.suptitle(
        f"ketenhub indicators per month, {where} (from the audit log; a grey x: a figure "
        "suppressed so that no one can be recognised)",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)
