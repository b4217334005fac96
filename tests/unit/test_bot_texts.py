"""The bot's texts: both languages complete and consistent; commands and mentions are read right."""

from __future__ import annotations

import string

import pytest

from bots.conversation.commands import mentions, parse_command, without_mention
from bots.explain import explain
from bots.texts import LANGUAGES, TEXTS, duration, say


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_text_exists_in_both_languages_with_the_same_placeholders(key: str) -> None:
    entry = TEXTS[key]
    assert set(entry) == set(LANGUAGES)
    assert _fields(entry["en"]) == _fields(entry["ru"])
    assert entry["en"] != entry["ru"] or not any(c.isalpha() for c in entry["en"])


def test_say_formats_and_falls_back_to_english() -> None:
    assert say("ru", "voice_set", voice="Nova") == "Голос: Nova."
    assert say("de", "voice_set", voice="Nova") == "Voice: Nova."


@pytest.mark.parametrize(
    ("seconds", "lang", "expected"),
    [
        (0, "en", "0 s"),
        (59.6, "en", "1 min"),
        (75, "en", "1 min 15 s"),
        (600, "ru", "10 мин"),
        (61, "ru", "1 мин 1 с"),
    ],
)
def test_durations_read_naturally(seconds: float, lang: str, expected: str) -> None:
    assert duration(seconds, lang) == expected


def test_commands_are_parsed_with_arguments_and_addressee() -> None:
    command = parse_command("/speak@Nagovori_Bot  Hello there ", "nagovori_bot")
    assert command is not None and (command.name, command.args, command.for_us) == (
        "speak",
        "Hello there",
        True,
    )
    other = parse_command("/start@other_bot", "nagovori_bot")
    assert other is not None and not other.for_us
    assert parse_command("hello /start", "nagovori_bot") is None
    assert parse_command(None, "nagovori_bot") is None
    multiline = parse_command("/speak line one\nline two", "b0t")
    assert multiline is not None and multiline.args == "line one\nline two"


def test_mentions_are_case_insensitive_and_whole_names() -> None:
    assert mentions("hey @Nagovori_bot, listen", "nagovori_bot")
    assert not mentions("hey @nagovori_bot2", "nagovori_bot")
    assert not mentions(None, "nagovori_bot")
    assert without_mention("@nagovori_bot say this", "nagovori_bot") == "say this"


def test_insufficient_minutes_is_explained_with_numbers_and_a_buy_button() -> None:
    answer = explain("insufficient_minutes", "…", {"required_seconds": 125, "available_seconds": 30}, "en")
    assert "2 min 5 s" in answer.text and "30 s" in answer.text and "/buy" in answer.text
    assert answer.buttons is not None and answer.buttons[0][0].data == "buy"


def test_stored_failures_without_details_still_get_an_answer() -> None:
    failed = explain("processing_failed", "could not", {}, "ru")
    assert "Минуты возвращены" in failed.text
    speech = explain("processing_failed", "could not", {}, "en", kind="tts")
    assert "synthesize" in speech.text
    too_long = explain("audio_too_long", "The audio is 300 min long.", {}, "en")
    assert "The audio is 300 min long." in too_long.text
    assert explain("", "", {}, "en").text == say("en", "oops")
