"""Render the Grafana dashboard's panels to a PNG with matplotlib, from a running Prometheus.

Not a Grafana screenshot (no Grafana runs where ketenhub is developed): the same panels, in
the same grid, with the same PromQL, drawn from Prometheus's HTTP API. Used for the README's
picture (docs/dashboard.png) after a `ketenhub demo` run with a Prometheus scraping it:

    python scripts/render_dashboard.py --prometheus http://127.0.0.1:9090 --minutes 10
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "ketenhub.json"
BACKGROUND, PANEL, TEXT, GRID = "#111217", "#181b1f", "#ccccdc", "#2c3235"


def _get(base: str, path: str, **params: str) -> list[dict[str, Any]]:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        body: dict[str, Any] = json.load(response)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def _legend(template: str, labels: dict[str, str]) -> str:
    text = template
    for key, value in labels.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _unit(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "ops":
        return f"{value:.2f}/s"
    return f"{value:.0f}"


def _panel(ax: Axes, panel: dict[str, Any], base: str, start: float, end: float) -> None:
    ax.set_facecolor(PANEL)
    ax.set_title(panel["title"], color=TEXT, fontsize=9, loc="left")
    for spine in ax.spines.values():
        spine.set_color(GRID)
    ax.tick_params(colors=TEXT, labelsize=7)
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    if panel["type"] in ("stat", "bargauge"):
        ax.set_xticks([])
        ax.set_yticks([])
        values = []
        for target in panel["targets"]:
            for series in _get(base, "/api/v1/query", query=target["expr"], time=str(end)):
                label = _legend(target.get("legendFormat", ""), series["metric"])
                values.append((label, float(series["value"][1])))
        if panel["type"] == "stat":
            shown = _unit(values[0][1], unit) if values else "n/a"
            ax.text(
                0.5,
                0.45,
                shown,
                color="#73bf69",
                fontsize=20,
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
        else:
            values.sort(key=lambda v: v[1])
            positions = range(len(values))
            ax.barh(positions, [v[1] for v in values], color="#5794f2", alpha=0.6)
            for y, (label, value) in zip(positions, values, strict=True):
                ax.text(0, y, f" {label}: {value:.0f}", color=TEXT, fontsize=6, va="center")
        return
    step = str(max(2, int((end - start) / 200)))
    plotted = 0
    for target in panel["targets"]:
        result = _get(
            base,
            "/api/v1/query_range",
            query=target["expr"],
            start=str(start),
            end=str(end),
            step=step,
        )
        flat = 0
        for series in result:
            points = [(float(t) - end, float(v)) for t, v in series["values"] if v != "NaN"]
            if not points or (max(abs(v) for _, v in points) == 0 and len(result) > 6):
                flat += 1  # a flat zero among many: leave it out of a small picture
                continue
            xs = [p[0] / 60 for p in points]
            ax.plot(
                xs,
                [p[1] for p in points],
                linewidth=1,
                label=_legend(target.get("legendFormat", ""), series["metric"]),
            )
            plotted += 1
        if flat and not plotted:
            ax.plot([start / 60 - end / 60, 0], [0, 0], linewidth=1, label=f"all {flat} at 0")
            plotted += 1
    ax.grid(color=GRID, linewidth=0.5)
    ax.set_xlabel("minutes", color=TEXT, fontsize=6)
    if plotted:
        ax.legend(
            fontsize=5, loc="upper left", facecolor=PANEL, labelcolor=TEXT, edgecolor=GRID, ncol=2
        )
    else:
        ax.text(0.5, 0.5, "no data", color=TEXT, ha="center", transform=ax.transAxes)


def render(base: str, minutes: float, out: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    fig = plt.figure(figsize=(16, bottom * 0.3), facecolor=BACKGROUND)
    end = time.time()
    start = end - minutes * 60
    for panel in panels:
        g = panel["gridPos"]
        left, width = g["x"] / 24, g["w"] / 24
        top, height = g["y"] / bottom, g["h"] / bottom
        ax = fig.add_axes(
            (
                left + 0.03 * width,
                1 - top - height + 0.14 * height / g["h"] * 4,
                width * 0.94,
                height * (1 - 0.6 / g["h"] * 2),
            )
        )
        _panel(ax, panel, base, start, end)
    fig.suptitle(
        f"ketenhub dashboard: the last {minutes:g} minutes of `ketenhub demo` "
        "(rendered from Prometheus with matplotlib, not Grafana)",
        color=TEXT,
        fontsize=11,
        y=0.999,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80, facecolor=BACKGROUND)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    args = parser.parse_args()
    render(args.prometheus.rstrip("/"), args.minutes, args.out)


if __name__ == "__main__":
    main()
