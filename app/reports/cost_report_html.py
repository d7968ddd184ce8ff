"""The cost report as one self-contained HTML file: inline CSS, an inline SVG chart, no
script and nothing fetched, so it opens anywhere and can be mailed as it is."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from html import escape

from app.reports.cost_report import CostReport, DailyUsage
from routing.pricing import format_usd

_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; color: #1d2428; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
.meta { color: #5b6770; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem;
         border-bottom: 1px solid #dde3e7; }
th { width: 13rem; font-weight: 600; }
td.value { font-variant-numeric: tabular-nums; }
td.source { color: #5b6770; font-size: .85rem; }
.unknown { color: #9a5b00; }
svg text { font: 11px system-ui, sans-serif; fill: #5b6770; }
.legend span { display: inline-block; margin-right: 1.2rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem;
          vertical-align: -1px; }
"""

_TOKEN_COLOUR = "#3a7ca5"
_CLOUD_COLOUR = "#d1495b"
_LOCAL_COLOUR = "#2f9c62"
_CHART_WIDTH, _CHART_HEIGHT, _GUTTER = 860, 180, 40


def render_html(report: CostReport) -> str:
    period = f"since {report.since}" if report.since else "all answers"
    rows = "\n".join(
        f"<tr><th>{escape(f.label)}</th>"
        f"<td class=\"value{' unknown' if f.value is None else ''}\">{escape(f.text)}</td>"
        f"<td class=\"source\">{escape(f.source)}</td></tr>"
        for f in report.figures)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Stillroom cost report</title>
<style>{_CSS}</style></head>
<body>
<h1>Stillroom cost report</h1>
<p class="meta">{escape(period)} · reference cloud model
{escape(report.reference_cloud_model or "not set")} · generated
{escape(report.generated_at.strftime("%Y-%m-%d %H:%M UTC"))}</p>
<table><thead><tr><th>figure</th><th>value</th><th>source</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<h2>Per day</h2>
{_charts(report.daily)}
<p class="meta">Unknown amounts are never counted as $0; a day's bar shows the known part.
Energy sources: {escape("; ".join(f"{label} ({count})"
                                   for label, count in report.energy_sources.most_common()))
                 or "none"}.</p>
</body></html>
"""


def _charts(days: tuple[DailyUsage, ...]) -> str:
    if not days:
        return "<p>No local answers in this period.</p>"
    tokens = _bars([d.tokens for d in days], days, _TOKEN_COLOUR,
                   lambda value: f"{value:,} tokens", "tokens per day")
    money = _paired_bars(days)
    legend = (f'<p class="legend"><span><i class="swatch" style="background:{_LOCAL_COLOUR}">'
              f'</i>local cost (known part)</span><span><i class="swatch" '
              f'style="background:{_CLOUD_COLOUR}"></i>cloud equivalent (known part)</span></p>')
    return tokens + legend + money


def _frame(body: str, days: tuple[DailyUsage, ...], title: str, top: str) -> str:
    step = (_CHART_WIDTH - _GUTTER) / len(days)
    every = max(1, len(days) // 10)  # label at most about ten days
    labels = "".join(
        f'<text x="{_GUTTER + i * step + step / 2:.1f}" y="{_CHART_HEIGHT + 14}" '
        f'text-anchor="middle">{d.day.strftime("%m-%d")}</text>'
        for i, d in enumerate(days) if i % every == 0)
    return (f'<svg role="img" aria-label="{escape(title)}" width="100%" '
            f'viewBox="0 0 {_CHART_WIDTH} {_CHART_HEIGHT + 20}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
            f'<line x1="{_GUTTER}" y1="{_CHART_HEIGHT}" x2="{_CHART_WIDTH}" '
            f'y2="{_CHART_HEIGHT}" stroke="#aab4bb"/>'
            f'<text x="0" y="10">{escape(top)}</text>{body}{labels}</svg>')


def _bars(values: list[int], days: tuple[DailyUsage, ...], colour: str,
          describe: Callable[[int], str], title: str) -> str:
    peak = max(values) or 1
    step = (_CHART_WIDTH - _GUTTER) / len(days)
    bars = []
    for i, (value, day) in enumerate(zip(values, days, strict=True)):
        height = float(value) / float(peak) * (_CHART_HEIGHT - 16)
        bars.append(
            f'<rect x="{_GUTTER + i * step + step * 0.15:.1f}" y="{_CHART_HEIGHT - height:.1f}"'
            f' width="{step * 0.7:.1f}" height="{height:.1f}" fill="{colour}">'
            f'<title>{day.day}: {escape(describe(value))}</title></rect>')
    return _frame("".join(bars), days, title, f"{int(peak):,}")


def _paired_bars(days: tuple[DailyUsage, ...]) -> str:
    pairs = [(d.local_usd.known, d.cloud_equivalent_usd.known) for d in days]
    peak = max(max(local, cloud) for local, cloud in pairs) or Decimal(1)
    step = (_CHART_WIDTH - _GUTTER) / len(days)
    bars = []
    for i, ((local, cloud), day) in enumerate(zip(pairs, days, strict=True)):
        for offset, value, colour, what, total in (
                (0.1, local, _LOCAL_COLOUR, "local cost", day.local_usd),
                (0.5, cloud, _CLOUD_COLOUR, "cloud equivalent", day.cloud_equivalent_usd)):
            height = float(value / peak) * (_CHART_HEIGHT - 16)
            note = ""
            if not total.is_known:
                note = f" (known for {total.known_answers} of {total.answers} answers)"
            bars.append(
                f'<rect x="{_GUTTER + i * step + step * offset:.1f}" '
                f'y="{_CHART_HEIGHT - height:.1f}" width="{step * 0.4:.1f}" '
                f'height="{height:.1f}" fill="{colour}"><title>{day.day}: {what} '
                f'{escape(format_usd(value))}{escape(note)}</title></rect>')
    return _frame("".join(bars), days, "cost per day", format_usd(peak))
