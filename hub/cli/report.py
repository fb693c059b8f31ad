"""``ketenhub report``: the figures the municipality steers on, from the audit log alone."""

from __future__ import annotations

import csv
import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from prometheus_client import start_http_server
from rich.table import Table

from hub.cli.support import (
    Listing,
    console,
    err,
    friendly,
    is_terminal,
    json_lines,
    run_async,
    show,
)
from hub.context import ConfigError, load_registry, resolve_kafka
from hub.kafka.topics import TopicNames
from hub.ops.audit_log import read_all_audit
from hub.ops.indicator_metrics import IndicatorMetrics
from hub.ops.indicators import Figure, IndicatorReport, compute
from hub.ops.suppression import TOTAL
from hub.settings import Settings

report_app = typer.Typer(help="Reports computed from the audit log.", no_args_is_help=True)
CSV_COLUMNS = ("month", "area", "indicator", "value", "shown", "suppressed")
PIPED_COLUMNS = {"month": "month", "area": "area", "indicator": "indicator", "shown": "shown"}


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} takes a date as YYYY-MM-DD, not {text!r}") from None


def _report(settings: Settings, since: date | None, until: date | None) -> IndicatorReport:
    names = TopicNames(settings.topic_prefix)
    result = run_async(read_all_audit(resolve_kafka(settings), names))
    if result.unreadable:
        err.print(
            f"note: {result.unreadable} record(s) on {names.audit} in no known shape were skipped",
            highlight=False,
        )
    return compute(result.records, since=since, until=until)


@report_app.command("indicators")
@friendly
def indicators(
    since: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD): its whole month counts.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Last day (YYYY-MM-DD): its whole month counts.")
    ] = None,
    area: Annotated[
        str | None, typer.Option(help="One area (as in the partner registry), without totals.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per figure.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header row.")] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Also write the monthly figures as a PNG to this file.")
    ] = None,
    serve: Annotated[
        int | None,
        typer.Option(
            help="Serve the latest month as Prometheus gauges on this port, recomputed every "
            "--every seconds, until Ctrl-C."
        ),
    ] = None,
    every: Annotated[float, typer.Option(help="Seconds between recomputations (--serve).")] = 300,
) -> None:
    """Indicators per month and area: how young people reach specialist care, WIJ guidance,
    direct access against assignment, households with one regisseur, time from a first
    signal to a regisseur, signal matches and escalations (docs/indicators.md).

    Computed from ketenhub.audit only. Counts from 1 to 4 are shown as <5; a month's total
    that would let one recompute such a cell is shown as x, and so is a share or median
    computed from a suppressed count.
    """
    if as_json and as_csv:
        raise ConfigError("give --json or --csv, not both")
    first, last = _day(since, "--from"), _day(until, "--to")
    if first and last and first > last:
        raise ConfigError("--from is after --to")
    settings = Settings()
    if serve is not None:
        _serve(settings, serve, every, first, last)
        return
    report = _report(settings, first, last)
    if area is not None and area not in report.areas:
        known = ", ".join(report.areas) or "none yet"
        raise ConfigError(f"no audit records for area {area!r}; areas in the log: {known}")
    figures = report.figures(area=area)
    if plot is not None:
        from hub.ops.indicators_plot import plot_indicators

        plot_indicators(report, plot, area=area)
        err.print(f"plot written to {plot}", highlight=False)
    if not figures:
        err.print("no audit records in that period", highlight=False)
        return
    if as_json:
        json_lines([figure.as_json() for figure in figures])
    elif as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for f in figures:
            row = f.as_json()
            writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    elif is_terminal():
        for table in _tables(report, figures, area):
            console.print(table)
    else:
        rows = [figure.as_json() for figure in figures]
        show(Listing("indicators", PIPED_COLUMNS, rows))


def _tables(report: IndicatorReport, figures: list[Figure], area: str | None) -> list[Table]:
    columns = [area] if area else [*report.areas, TOTAL]
    shown = {(f.month, f.indicator, f.area): f.shown for f in figures}
    indicators = list(dict.fromkeys(f.indicator for f in figures))
    tables = []
    for month in report.months:
        table = Table(title=f"indicators {month} (<5: under 5; x: would reveal one)")
        table.add_column("indicator")
        for column in columns:
            table.add_column(column, justify="right")
        for name in indicators:
            table.add_row(name, *(shown.get((month, name, c), "") for c in columns))
        tables.append(table)
    return tables


def _serve(
    settings: Settings, port: int, every: float, first: date | None, last: date | None
) -> None:
    metrics = IndicatorMetrics()
    metrics.precreate(sorted({p.area for p in load_registry(settings).partners if p.area}))
    start_http_server(port, addr=settings.metrics_host, registry=metrics.registry)
    err.print(f"indicator gauges on http://{settings.metrics_host}:{port}/metrics",
              highlight=False)  # fmt: skip
    try:
        while True:
            metrics.publish(_report(settings, first, last))
            time.sleep(every)
    except KeyboardInterrupt:
        return
