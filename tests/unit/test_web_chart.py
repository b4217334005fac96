"""The dashboard's usage chart and language choice, without I/O."""

from __future__ import annotations

from datetime import date, timedelta

from core.services.daily_usage import DailyUsage
from web import chart, i18n

TODAY = date(2026, 12, 1)
DAYS = tuple(TODAY - timedelta(days=29 - i) for i in range(30))


def test_bars_stack_per_day_in_series_order_and_scale_to_the_busiest_day() -> None:
    usage = DailyUsage(
        DAYS,
        {
            (TODAY, "api", "tts"): 120,
            (TODAY, "telegram", "asr"): 240,
            (DAYS[0], "web", "asr"): 60,
            (DAYS[0], "cli", "weird"): 30,  # an unknown kind is drawn as transcription, not lost
        },
    )
    drawn = chart.build(usage, "en")
    assert [s.label for s in drawn.series] == [
        "Bot · transcription",
        "API · speech",
        "Web · transcription",
        "CLI · transcription",
    ]
    assert [s.seconds for s in drawn.series] == [240, 120, 60, 30]
    today_bars = [b for b in drawn.bars if b.title.startswith("2026-12-01")]
    assert [b.title for b in today_bars] == [
        "2026-12-01 — Bot · transcription: 4 min",
        "2026-12-01 — API · speech: 2 min",
    ]
    # Stacked: the second bar sits right on top of the first, and the day's 6 min fill the scale
    # up to its gridline (ticks of 2 min: 0, 2, 4, 6).
    first, second = today_bars
    assert abs(second.y + second.height - first.y) < 1e-6
    assert [label for _, label in drawn.ticks] == ["0", "2", "4", "6"]
    assert abs(second.y - drawn.ticks[-1][0]) < 1e-6
    assert [(day, round(total, 2)) for day, _, total in drawn.rows] == [
        ("2026-11-02", 1.5),
        ("2026-12-01", 6),
    ]
    assert not drawn.empty


def test_an_empty_month_draws_nothing_and_says_so_in_russian() -> None:
    drawn = chart.build(DailyUsage(DAYS, {}), "ru")
    assert drawn.empty and drawn.bars == [] and drawn.series == []
    assert chart.series_label("ru", "telegram", "tts") == "Бот · озвучка"


def test_the_language_comes_from_accept_language_by_preference() -> None:
    assert i18n.from_accept_language("ru-RU,ru;q=0.9,en;q=0.8") == "ru"
    assert i18n.from_accept_language("de-DE,en;q=0.5,ru;q=0.7") == "ru"
    assert i18n.from_accept_language("en-GB,ru;q=0.9") == "en"
    assert i18n.from_accept_language("fr, de") == "en"
    assert i18n.from_accept_language("ru;q=0") == "en"
    assert i18n.from_accept_language(None) == "en"


def test_durations_read_as_minutes_and_seconds() -> None:
    assert i18n.duration("en", 750) == "12 min 30 s"
    assert i18n.duration("ru", 120) == "2 мин"
    assert i18n.duration("en", 5) == "5 s"
    assert i18n.duration("en", -3) == "0 s"


def test_every_text_has_both_languages() -> None:
    assert [key for key, texts in i18n.TEXTS.items() if set(texts) != set(i18n.LANGUAGES)] == []
