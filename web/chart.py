"""The Overview's usage chart as plain geometry: stacked bars per day, one series per channel and
kind of work. ``templates/usage_chart.svg`` draws it as inline SVG (no script, no image request).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from core.services.daily_usage import KINDS, DailyUsage
from web.i18n import say

CHANNELS = ("telegram", "api", "web", "cli", "other")
# Per channel: (transcription, speech). Dark on light fills; the legend and the table say it in words.
COLORS = {
    "telegram": ("#1d4ed8", "#93c5fd"),
    "api": ("#047857", "#6ee7b7"),
    "web": ("#b45309", "#fcd34d"),
    "cli": ("#6d28d9", "#c4b5fd"),
    "other": ("#4b5563", "#d1d5db"),
}
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 24, 28  # TOP leaves room for the unit above the scale


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str  # the tooltip: day, series, minutes


@dataclass(frozen=True)
class Series:
    channel: str
    kind: str
    label: str
    color: str
    seconds: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (y, label) gridlines
    labels: list[tuple[float, str]]  # (x, label) under some days
    series: list[Series]
    rows: list[tuple[str, list[float], float]] = field(
        default_factory=list
    )  # the table: day, per series, total
    empty: bool = False
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_bottom: int = HEIGHT - BOTTOM


def series_label(lang: str, channel: str, kind: str) -> str:
    return f"{say(lang, f'channel_{channel}')} · {say(lang, f'kind_{kind}')}"


def build(usage: DailyUsage, lang: str) -> Chart:
    present = {(c if c in CHANNELS else "other", k if k in KINDS else "asr") for (_, c, k) in usage.seconds}
    order = [(c, k) for c in CHANNELS for k in KINDS if (c, k) in present]
    series = [
        Series(c, k, series_label(lang, c, k), COLORS[c][KINDS.index(k)], _total(usage, c, k))
        for c, k in order
    ]
    per_day = [[_minutes(_on(usage, day, c, k)) for c, k in order] for day in usage.days]
    peak = max((sum(values) for values in per_day), default=0.0)
    step = max(0.5, _nice_step(peak / 4)) if peak > 0 else 1.0  # never finer than half a minute
    top = step * max(1, math.ceil(peak / step))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(usage.days))
    bars: list[Bar] = []
    for index, (day, values) in enumerate(zip(usage.days, per_day, strict=True)):
        base = 0.0
        for (c, k), value in zip(order, values, strict=True):
            if value <= 0:
                continue
            height = value / top * plot_h
            y = TOP + plot_h - (base + value) / top * plot_h
            title = (
                f"{day.isoformat()} — {series_label(lang, c, k)}: {say(lang, 'minutes_only', m=_fmt(value))}"
            )
            bars.append(
                Bar(
                    LEFT + index * slot + slot * 0.15, y, slot * 0.7, height, COLORS[c][KINDS.index(k)], title
                )
            )
            base += value
    ticks = [(TOP + plot_h - i * step / top * plot_h, _fmt(i * step)) for i in range(round(top / step) + 1)]
    labels = [
        (LEFT + i * slot + slot / 2, day.strftime("%d.%m"))
        for i, day in enumerate(usage.days)
        if i % 5 == (len(usage.days) - 1) % 5
    ]
    rows = [
        (day.isoformat(), values, sum(values))
        for day, values in zip(usage.days, per_day, strict=True)
        if sum(values) > 0
    ]
    return Chart(WIDTH, HEIGHT, bars, ticks, labels, series, rows, empty=not bars)


def _total(usage: DailyUsage, channel: str, kind: str) -> int:
    return sum(s for (_, c, k), s in usage.seconds.items() if _series_of(c, k) == (channel, kind))


def _on(usage: DailyUsage, day: object, channel: str, kind: str) -> int:
    return sum(
        s for (d, c, k), s in usage.seconds.items() if d == day and _series_of(c, k) == (channel, kind)
    )


def _series_of(channel: str, kind: str) -> tuple[str, str]:
    return (channel if channel in CHANNELS else "other", kind if kind in KINDS else "asr")


def _minutes(seconds: int) -> float:
    return seconds / 60


def _fmt(minutes: float) -> str:
    return f"{minutes:.1f}".rstrip("0").rstrip(".") if minutes % 1 else str(int(minutes))


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw`` (readable gridlines)."""
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
