"""The weekly chart is a real PNG whose bars are as tall as the points they stand for."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from datetime import date, timedelta

import pytest

from bot.jobs.chart import (
    BAR_COLOR,
    CURRENT_COLOR,
    HEIGHT_PX,
    WIDTH_PX,
    chart_alt_text,
    chart_title,
    weekly_points_chart,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MONDAY = date(2026, 1, 12)


def weeks_of(*points: int, first: date = MONDAY) -> list[tuple[date, int]]:
    return [(first + timedelta(weeks=i), p) for i, p in enumerate(points)]


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, after checking the PNG signature."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def _rgb(color: str) -> tuple[float, float, float]:
    return tuple(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def bars_in(data: bytes) -> list[tuple[str, int]]:
    """The bars drawn in a chart, left to right: (which colour, height in pixels).

    A bar is a run of adjacent pixel columns holding pixels of a bar colour; its height is the
    most such pixels any of its columns holds.
    """
    import matplotlib.image
    import numpy as np

    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")[..., :3]
    found: list[tuple[str, int]] = []
    masks = {
        name: (np.abs(pixels - np.array(_rgb(color))).max(axis=2) < 0.02)
        for name, color in (("bar", BAR_COLOR), ("current", CURRENT_COLOR))
    }
    counts = {name: mask.sum(axis=0) for name, mask in masks.items()}
    current: tuple[str, int] | None = None
    for x in range(pixels.shape[1]):
        here = next(((n, int(c[x])) for n, c in counts.items() if c[x] > 0), None)
        if here is None:
            if current:
                found.append(current)
            current = None
        elif current is None or current[0] != here[0]:
            if current:
                found.append(current)
            current = here
        else:
            current = (current[0], max(current[1], here[1]))
    if current:
        found.append(current)
    return found


def assert_bars_match(data: bytes, points: list[int]) -> None:
    """Every non-zero week has a bar, in order, whose height is proportional to its points."""
    bars = bars_in(data)
    shown = [p for p in points if p > 0]
    assert len(bars) == len(shown), bars
    tallest = max(h for _, h in bars)
    for (_, height), value in zip(bars, shown, strict=True):
        assert abs(height - tallest * value / max(shown)) <= 2, (bars, points)
    assert [name for name, _ in bars][-1] == ("current" if points[-1] > 0 else "bar")
    assert all(name == "bar" for name, _ in bars[:-1])


def test_the_chart_is_a_png_of_the_stated_size() -> None:
    data = weekly_points_chart(weeks_of(100, 250, 40, 1250, 800, 30, 1000, 1250))
    assert png_size(data) == (WIDTH_PX, HEIGHT_PX)


def test_each_bar_is_as_tall_as_its_points_and_the_reported_week_stands_out() -> None:
    points = [100, 250, 40, 1250, 800, 30, 1000, 1250]
    data = weekly_points_chart(weeks_of(*points))
    bars = bars_in(data)
    assert [name for name, _ in bars] == ["bar"] * 7 + ["current"]
    assert_bars_match(data, points)
    # 1,250 is 12.5 times 100: the pixels say so too
    assert bars[3][1] / bars[0][1] == pytest.approx(12.5, rel=0.05)
    # and the check tells other numbers apart
    with pytest.raises(AssertionError):
        assert_bars_match(data, [100, 250, 40, 800, 1250, 30, 1000, 1250])


def test_a_week_without_points_has_no_bar() -> None:
    points = [300, 0, 600, 0, 0, 150, 300, 450]
    data = weekly_points_chart(weeks_of(*points))
    assert_bars_match(data, points)
    assert len(bars_in(data)) == 5


def test_all_quiet_weeks_still_draw_a_chart() -> None:
    data = weekly_points_chart(weeks_of(0, 0, 0))
    assert png_size(data) == (WIDTH_PX, HEIGHT_PX)
    assert bars_in(data) == []


def test_the_same_weeks_give_the_same_bytes() -> None:
    weeks = weeks_of(5, 10, 15)
    assert weekly_points_chart(weeks) == weekly_points_chart(list(weeks))
    assert weekly_points_chart(weeks) != weekly_points_chart(weeks_of(5, 10, 16))


def test_no_weeks_or_negative_points_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one week"):
        weekly_points_chart([])
    with pytest.raises(ValueError, match="negative"):
        weekly_points_chart(weeks_of(5, -1))


def test_title_and_alt_text_name_the_weeks_and_their_points() -> None:
    weeks = weeks_of(100, 1250, first=date(2025, 12, 29))
    assert chart_title(weeks) == "Points given per week, 29 Dec 2025 – 5 Jan 2026"
    assert chart_title(weeks_of(1, 2)) == "Points given per week, 12 Jan – 19 Jan 2026"
    alt = chart_alt_text(weeks)
    assert "last 2 weeks" in alt
    assert "week of 2025-12-29: 100; week of 2026-01-05: 1250." in alt


def test_importing_the_chart_module_does_not_import_matplotlib() -> None:
    code = "import sys, bot.jobs.chart; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
