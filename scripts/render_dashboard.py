"""Render the Grafana dashboard's panels from a live Prometheus into one HTML page, and screenshot
it in headless Chromium (docs/MONITORING.md#the-dashboard).

Grafana has no distribution reachable from these machines, so this stands in for it: the same
JSON (deploy/monitoring/grafana/dashboards/tutor.json), every panel's own PromQL sent to
Prometheus's query_range API, drawn as SVG lines in the panel's place on Grafana's 24-column
grid. What it does not reproduce: Grafana's styling, value mappings and interactions.

Usage: python scripts/render_dashboard.py --prometheus http://127.0.0.1:9390 --minutes 10 \
           --out docs/screenshots/dashboard.png
"""

from __future__ import annotations

import argparse
import html
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "monitoring" / "grafana" / "dashboards" / "tutor.json"
COLOURS = ["#73bf69", "#f2cc0c", "#5794f2", "#ff9830", "#f2495c", "#b877d9", "#8ab8ff", "#fade2a"]
W, H, PAD = 460, 190, 38  # one panel's plot area in SVG units


@dataclass
class Series:
    label: str
    points: list[tuple[float, float]]


def legend(template: str, labels: dict[str, str]) -> str:
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template) or "value"


def query(client: httpx.Client, expr: str, start: float, end: float, step: float) -> list[Any]:
    params = {"query": expr, "start": start, "end": end, "step": step}
    response = client.get("/api/v1/query_range", params=params)
    response.raise_for_status()
    return list(response.json()["data"]["result"])


def panel_series(
    client: httpx.Client,
    panel: dict[str, Any],
    window: tuple[float, float, float],
    rate_interval: str,
) -> list[Series]:
    out = []
    for target in panel["targets"]:
        expr = target["expr"].replace("$__rate_interval", rate_interval)
        for result in query(client, expr, *window):
            points = [(float(t), float(v)) for t, v in result["values"] if v not in ("NaN", "+Inf")]
            if points:
                out.append(Series(legend(target.get("legendFormat", ""), result["metric"]), points))
    return out


def fmt(value: float, unit: str) -> str:
    if unit == "percentunit":
        return f"{value * 100:.0f}%"
    if unit == "currencyUSD":
        return f"${value:.2f}"
    if unit == "ms" and value >= 1000:
        value, unit = value / 1000, "s"
    suffix = {"s": " s", "ms": " ms", "reqps": "/s"}.get(unit, "")
    return f"{value:.3g}{suffix}"


def svg_lines(series: list[Series], unit: str, span: tuple[float, float], top: float) -> str:
    t0, t1 = span
    x = lambda t: PAD + (t - t0) / (t1 - t0) * (W - PAD - 8)  # noqa: E731
    y = lambda v: 8 + (1 - v / top) * (H - 28)  # noqa: E731
    grid = "".join(
        f'<line x1="{PAD}" x2="{W - 8}" y1="{y(top * f / 1.1):.1f}" y2="{y(top * f / 1.1):.1f}" '
        f'class="grid"/><text x="{PAD - 4}" y="{y(top * f / 1.1) + 4:.1f}" class="tick" '
        f'text-anchor="end">{fmt(top * f / 1.1, unit)}</text>'
        for f in (0, 0.5, 1)
    )
    ticks = "".join(
        f'<text x="{x(t):.1f}" y="{H - 4}" class="tick" text-anchor="{anchor}">'
        f"{time.strftime('%H:%M', time.gmtime(t))}</text>"
        for t, anchor in ((t0, "start"), ((t0 + t1) / 2, "middle"), (t1, "end"))
    )
    lines = "".join(
        f'<polyline fill="none" stroke="{COLOURS[i % len(COLOURS)]}" stroke-width="1.6" '
        f'points="{" ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in s.points)}"/>'
        for i, s in enumerate(series)
    )
    return f'<svg viewBox="0 0 {W} {H}" preserveAspectRatio="none">{grid}{ticks}{lines}</svg>'


def legend_html(series: list[Series], unit: str) -> str:
    return "".join(
        f'<span><i style="background:{COLOURS[i % len(COLOURS)]}"></i>{html.escape(s.label)} '
        f"<b>{fmt(s.points[-1][1], unit)}</b></span>"
        for i, s in enumerate(series)
    )


def y_top(series: list[Series], defaults: dict[str, Any]) -> float:
    """The panel's `max` if it sets one (breakers: 2), else a tenth above the highest point
    (1 when every point is 0, so that a flat zero reads as zero)."""
    if "max" in defaults:
        return float(defaults["max"]) * 1.1
    return (max(v for s in series for _, v in s.points) or 1.0) * 1.1


def panel_html(panel: dict[str, Any], series: list[Series], span: tuple[float, float]) -> str:
    pos = panel["gridPos"]
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    unit = defaults.get("unit", "short")
    style = f"grid-column:{pos['x'] + 1}/span {pos['w']};grid-row:{pos['y'] + 1}/span {pos['h']}"
    title = f"<h3>{html.escape(panel['title'])}</h3>"
    if panel["type"] == "row":
        return f'<div class="row" style="{style}">{html.escape(panel["title"])}</div>'
    if not series:
        return f'<div class="panel" style="{style}">{title}<p class="nodata">No data</p></div>'
    lines = svg_lines(series, unit, span, y_top(series, defaults))
    if panel["type"] == "stat":
        body = f'<p class="stat">{fmt(series[0].points[-1][1], unit)}</p>{lines}'
    else:
        body = f'{lines}<div class="legend">{legend_html(series, unit)}</div>'
    return f'<div class="panel" style="{style}">{title}{body}</div>'


CSS = """body{background:#111217;color:#ccccdc;font:12px Helvetica,Arial,sans-serif;margin:12px}
h1{font-size:18px;margin:0 0 8px} .sub{color:#8e8e9e;margin-bottom:10px}
.grid-layout{display:grid;grid-template-columns:repeat(24,1fr);grid-auto-rows:30px;gap:6px}
.panel{background:#181b1f;border:1px solid #2c3235;border-radius:3px;padding:6px 8px;
 display:flex;flex-direction:column;overflow:hidden} .panel svg{flex:1;width:100%;min-height:0}
h3{font-size:12px;margin:0 0 4px;color:#d8d9da} .row{font-size:14px;font-weight:600;padding-top:8px}
.grid{stroke:#2c3235} .tick{fill:#8e8e9e;font-size:10px} .nodata{margin:auto;color:#8e8e9e}
.legend{display:flex;flex-wrap:wrap;gap:2px 12px;font-size:11px} .legend i{display:inline-block;
 width:10px;height:3px;margin-right:4px;vertical-align:middle} .stat{font-size:40px;color:#73bf69;
 margin:4px 0;text-align:center;font-weight:500}"""


def page(
    dashboard: dict[str, Any], cells: list[str], span: tuple[float, float], source: str
) -> str:
    when = " to ".join(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t)) for t in span)
    return (
        f"<!doctype html><meta charset=utf-8><style>{CSS}</style>"
        f"<h1>{html.escape(dashboard['title'])}</h1><div class=sub>{when}; every panel's own "
        f"PromQL from {html.escape(DASHBOARD.name)}, queried from {html.escape(source)} "
        f"(drawn by scripts/render_dashboard.py, not by Grafana)</div>"
        f'<div class="grid-layout">{"".join(cells)}</div>'
    )


def screenshot(page_file: Path, out: Path, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        tab = browser.new_page(viewport={"width": 1600, "height": 900})
        tab.goto(page_file.resolve().as_uri())
        tab.screenshot(path=str(out), full_page=True)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090")
    parser.add_argument("--minutes", type=float, default=15)
    parser.add_argument("--end", type=float, default=None, help="Unix time (default: now).")
    parser.add_argument("--rate-interval", default="1m", help="Stands for $__rate_interval.")
    parser.add_argument("--out", type=Path, default=ROOT / "docs/screenshots/dashboard.png")
    parser.add_argument("--html", type=Path, default=Path("/tmp/tutor-dashboard.html"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    dashboard = json.loads(DASHBOARD.read_text())
    end = args.end or time.time()
    span = (end - 60 * args.minutes, end)
    window = (*span, max(5.0, 60 * args.minutes / 120))
    cells = []
    with httpx.Client(base_url=args.prometheus, timeout=30) as client:
        for panel in dashboard["panels"]:
            series = (
                []
                if panel["type"] == "row"
                else panel_series(client, panel, window, args.rate_interval)
            )
            if panel["type"] != "row":
                print(
                    f"{panel['title']}: {len(series)} series, "
                    f"{sum(len(s.points) for s in series)} points"
                )
            cells.append(panel_html(panel, series, span))
    args.html.write_text(page(dashboard, cells, span, args.prometheus))
    screenshot(args.html, args.out, args.chromium)
    print(f"wrote {args.out} (from {args.html})")


if __name__ == "__main__":
    main()
