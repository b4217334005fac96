"""Numbers read as words in English and Russian."""

from __future__ import annotations

import pytest

from tts.numbers import int_to_words, numbers_to_words
from tts.text import numbers_to_words as exported


def test_text_module_exports_it() -> None:
    assert exported is numbers_to_words


class TestEnglish:
    @pytest.mark.parametrize(
        ("number", "words"),
        [
            (0, "zero"),
            (7, "seven"),
            (13, "thirteen"),
            (21, "twenty-one"),
            (100, "one hundred"),
            (101, "one hundred one"),
            (999, "nine hundred ninety-nine"),
            (1000, "one thousand"),
            (1_000_001, "one million one"),
            (2_345_678, "two million three hundred forty-five thousand six hundred seventy-eight"),
            (10**12, "one trillion"),
        ],
    )
    def test_integers(self, number: int, words: str) -> None:
        assert int_to_words(number, "en") == words

    @pytest.mark.parametrize(
        ("text", "spoken"),
        [
            ("I have 3 cats.", "I have three cats."),
            ("It costs 1,250,000 dollars.", "It costs one million two hundred fifty thousand dollars."),
            ("Pi is 3.14.", "Pi is three point one four."),
            ("It fell to -5 degrees.", "It fell to minus five degrees."),
            ("Growth was 12% or 2.5 %.", "Growth was twelve percent or two point five percent."),
            (
                "The 1st, 2nd, 3rd, 11th, 21st and 100th.",
                "The first, second, third, eleventh, twenty-first and one hundredth.",
            ),
            ("The 40th and 12th.", "The fortieth and twelfth."),
            ("Call 007 or 0123.", "Call zero zero seven or zero one two three."),
            ("Meet at 10:30.", "Meet at ten thirty."),
            ("Numbers 1,2,3.", "Numbers one, two, three."),
            ("An mp3 file", "An mp three file"),
            ("COVID-19 ward", "COVID-nineteen ward"),
        ],
    )
    def test_in_text(self, text: str, spoken: str) -> None:
        assert numbers_to_words(text, "en") == spoken

    def test_very_long_numbers_are_read_digit_by_digit(self) -> None:
        assert numbers_to_words("1234567890123456", "en") == (
            "one two three four five six seven eight nine zero one two three four five six"
        )


class TestRussian:
    @pytest.mark.parametrize(
        ("number", "words"),
        [
            (0, "ноль"),
            (1, "один"),
            (2, "два"),
            (12, "двенадцать"),
            (21, "двадцать один"),
            (100, "сто"),
            (215, "двести пятнадцать"),
            (1000, "одна тысяча"),
            (2000, "две тысячи"),
            (5000, "пять тысяч"),
            (11_000, "одиннадцать тысяч"),
            (21_000, "двадцать одна тысяча"),
            (1_000_000, "один миллион"),
            (2_500_000, "два миллиона пятьсот тысяч"),
            (5_000_000_000, "пять миллиардов"),
            (1_002_003, "один миллион две тысячи три"),
        ],
    )
    def test_integers(self, number: int, words: str) -> None:
        assert int_to_words(number, "ru") == words

    def test_feminine(self) -> None:
        assert int_to_words(21, "ru", feminine=True) == "двадцать одна"
        assert int_to_words(2, "ru", feminine=True) == "две"

    @pytest.mark.parametrize(
        ("text", "spoken"),
        [
            ("У меня 3 кота.", "У меня три кота."),
            ("Население 1 000 000 человек.", "Население один миллион человек."),
            ("Цена 2\u00a0500 рублей.", "Цена две тысячи пятьсот рублей."),
            ("Рост 3,5 раза.", "Рост три целых пять десятых раза."),
            ("Ровно 1,25 литра.", "Ровно одна целая двадцать пять сотых литра."),
            ("Это 0.001 доли.", "Это ноль целых одна тысячная доли."),
            ("Число 3,14159.", "Число три запятая один четыре один пять девять."),
            (
                "Скидка 1%, 3%, 5%, 11% и 21%.",
                "Скидка один процент, три процента, пять процентов, одиннадцать процентов и двадцать один процент.",
            ),
            ("Рост 3,5%.", "Рост три целых пять десятых процента."),
            ("Мороз -15 градусов.", "Мороз минус пятнадцать градусов."),
            ("Дата 21.11.2024.", "Дата двадцать один одиннадцать две тысячи двадцать четыре."),
        ],
    )
    def test_in_text(self, text: str, spoken: str) -> None:
        assert numbers_to_words(text, "ru") == spoken

    def test_years_next_to_other_numbers_are_not_thousands(self) -> None:
        assert numbers_to_words("В 2023 15 человек", "ru") == "В две тысячи двадцать три пятнадцать человек"

    def test_text_without_digits_is_unchanged(self) -> None:
        text = "Никаких цифр, только слова."
        assert numbers_to_words(text, "ru") == text


def test_negative_numbers_are_refused_by_int_to_words() -> None:
    with pytest.raises(ValueError):
        int_to_words(-1, "en")
