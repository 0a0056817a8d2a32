"""The weekly summary's chart: points given per week as a bar chart, rendered to PNG bytes.

Pure and deterministic: the same weeks always give the same image (800×400 pixels, no
timestamps in the file). matplotlib is imported inside the function, so importing this module
(and starting the bot) stays fast; it draws on an Agg canvas of its own, never through pyplot's
global state, so two threads can render at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

WIDTH_PX = 800
HEIGHT_PX = 400
DPI = 100
BAR_COLOR = "#4a90d9"  # earlier weeks
CURRENT_COLOR = "#e8793a"  # the week being reported (the last bar)
TITLE = "Points given per week"


def _label(day: date) -> str:
    return f"{day.day} {day:%b}"


def chart_title(weeks: Sequence[tuple[date, int]]) -> str:
    """`Points given per week, 12 Jan – 2 Mar 2026` (weeks named by their Monday)."""
    if not weeks:
        return TITLE
    first, last = weeks[0][0], weeks[-1][0]
    start = _label(first) if first.year == last.year else f"{_label(first)} {first.year}"
    return f"{TITLE}, {start} – {_label(last)} {last.year}"


def chart_alt_text(weeks: Sequence[tuple[date, int]]) -> str:
    """What the chart shows, in words (the file's alt text): every week and its points."""
    if not weeks:
        return f"{TITLE}: no weeks."
    bars = "; ".join(f"week of {day.isoformat()}: {points}" for day, points in weeks)
    return f"Bar chart, {TITLE.lower()} over the last {len(weeks)} weeks. {bars}."


def weekly_points_chart(weeks: list[tuple[date, int]]) -> bytes:
    """A PNG bar chart of `weeks` ([(Monday, points)], oldest first); the last bar, the week
    being reported, is highlighted and every bar carries its number."""
    if not weeks:
        raise ValueError("the chart needs at least one week")
    if any(points < 0 for _, points in weeks):
        raise ValueError("points per week cannot be negative")

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(weeks)))
    heights = [points for _, points in weeks]
    colors = [BAR_COLOR] * (len(weeks) - 1) + [CURRENT_COLOR]
    bars = axes.bar(positions, heights, color=colors, width=0.6, zorder=2)
    axes.bar_label(bars, labels=[f"{h:,}" for h in heights], padding=3, fontsize=9)
    axes.set_xticks(positions, [_label(day) for day, _ in weeks], fontsize=9)
    axes.set_ylim(0, max(max(heights), 1) * 1.18)  # room for the numbers over the bars
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes.yaxis.grid(True, color="#dddddd", zorder=0)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.set_title(chart_title(weeks), fontsize=12)
    axes.set_xlabel("Week starting (Monday)", fontsize=9)
    axes.set_ylabel("Points", fontsize=9)
    figure.tight_layout()

    from io import BytesIO

    out = BytesIO()
    canvas.print_png(out, metadata={"Software": None})
    return out.getvalue()
