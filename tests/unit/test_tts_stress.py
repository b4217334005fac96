"""Stress marks: the acute accent in, each engine's form out."""

from __future__ import annotations

import pytest

from tts.stress import (
    ACUTE,
    acute_to_plus,
    count_ru_vowels,
    plus_to_acute,
    restress_phonemes,
    stressed_vowel,
    stressed_words,
    strip_stress,
)

ZAMOK_CASTLE = f"за{ACUTE}мок"  # за́мок, a castle
ZAMOK_LOCK = f"замо{ACUTE}к"  # замо́к, a lock


class TestSileroForm:
    @pytest.mark.parametrize(
        ("marked", "silero"),
        [
            (ZAMOK_CASTLE, "з+амок"),
            (ZAMOK_LOCK, "зам+ок"),
            (f"Ста{ACUTE}рый за{ACUTE}мок.", "Ст+арый з+амок."),
            (f"О{ACUTE}блако", "+Облако"),
            (f"мука{ACUTE} и му{ACUTE}ка", "мук+а и м+ука"),
            (f"ё{ACUTE}лка", "+ёлка"),
        ],
    )
    def test_acute_after_the_vowel_becomes_plus_before_it(self, marked: str, silero: str) -> None:
        assert acute_to_plus(marked) == silero

    def test_stray_accents_are_dropped(self) -> None:
        assert acute_to_plus(f"д{ACUTE}ом") == "дом"

    def test_plus_marks_round_trip(self) -> None:
        for marked in (ZAMOK_CASTLE, ZAMOK_LOCK, f"Ста{ACUTE}рый за{ACUTE}мок"):
            assert plus_to_acute(acute_to_plus(marked)) == marked

    @pytest.mark.parametrize("text", ["2 + 2", "C++", "+7 999 123", "a+b", "и+"])
    def test_plus_that_is_not_stress(self, text: str) -> None:
        assert plus_to_acute(text) == text

    def test_a_word_may_start_with_a_stressed_vowel(self) -> None:
        assert plus_to_acute("он +Эхо") == f"он Э{ACUTE}хо"

    def test_strip(self) -> None:
        assert strip_stress(f"Ста{ACUTE}рый за{ACUTE}мок") == "Старый замок"


class TestEspeakHelpers:
    def test_stressed_words_in_order_without_duplicates(self) -> None:
        text = f"{ZAMOK_CASTLE} и {ZAMOK_LOCK}, снова {ZAMOK_CASTLE}, дом."
        assert stressed_words(text) == [ZAMOK_CASTLE, ZAMOK_LOCK]

    def test_stressed_vowel(self) -> None:
        assert stressed_vowel(ZAMOK_CASTLE) == ("замок", 0, "а")
        assert stressed_vowel(ZAMOK_LOCK) == ("замок", 1, "о")
        assert stressed_vowel(f"Ёлка{ACUTE}") == ("Ёлка", 1, "а")
        assert stressed_vowel("дом") is None

    def test_count_vowels(self) -> None:
        assert count_ru_vowels("Достопримечательность") == 7

    def test_restress_moves_the_mark_and_restores_the_vowel(self) -> None:
        # espeak-ng's phonemes for "молоко" (stress on the last syllable, the others reduced).
        phonemes = ["m", "V", "l", "V", "k", "'o"]
        assert restress_phonemes(phonemes, 0, "о", 3) == "m'olVko"
        assert restress_phonemes(phonemes, 1, "о", 3) == "mVl'oko"

    def test_restress_keeps_palatalisation_marks(self) -> None:
        phonemes = ["tS;", "i", "l", "V", "v", ";", "'e", "k"]  # "человек"
        assert restress_phonemes(phonemes, 0, "е", 3) == "tS;'elVv;ek"

    def test_restress_refuses_when_vowels_do_not_line_up(self) -> None:
        assert restress_phonemes(["z", "a", "m", "'o", "k"], 1, "о", 3) is None
        assert restress_phonemes(["z", "a", "m", "'o", "k"], 2, "о", 2) is None
