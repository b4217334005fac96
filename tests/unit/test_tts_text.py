"""Text preparation: clean-up, limits, language detection and sentence splitting."""

from __future__ import annotations

import pytest

from tts.base import MAX_TEXT_CHARS
from tts.errors import InvalidTtsRequest, TextEmpty, TextTooLong, UnsupportedLanguage
from tts.text import MAX_SENTENCE_CHARS, clean_text, detect_language, prepare_text, split_sentences


class TestCleanText:
    def test_control_and_invisible_characters_are_removed(self) -> None:
        assert clean_text("He\x00llo\u200b wor\u00adld\ufeff\x07") == "Hello world"

    def test_whitespace_collapses_and_line_breaks_survive(self) -> None:
        raw = "  One\u00a0\u00a0two\t three  \r\n\r\n\n  Four\rfive  "
        assert clean_text(raw) == "One two three\nFour\nfive"

    def test_decomposed_letters_are_composed(self) -> None:
        assert clean_text("и\u0306ти e\u0301") == "йти é"  # NFC: й is one character

    def test_silero_plus_marks_become_acute_accents(self) -> None:
        assert clean_text("Старый з+амок, новый зам+ок") == "Старый за\u0301мок, новый замо\u0301к"

    def test_plus_that_is_not_a_stress_mark_is_kept(self) -> None:
        assert clean_text("2 + 2 = 4, C++ и +7 999") == "2 + 2 = 4, C++ и +7 999"


class TestPrepareText:
    def test_returns_clean_text_and_detected_language(self) -> None:
        assert prepare_text("  Привет,\n мир!  ") == ("Привет,\nмир!", "ru")
        assert prepare_text("Hello, world!") == ("Hello, world!", "en")

    def test_explicit_language_wins_and_is_normalised(self) -> None:
        assert prepare_text("Hello", "ru-RU")[1] == "ru"
        assert prepare_text("Привет", "EN")[1] == "en"
        assert prepare_text("Привет", "auto")[1] == "ru"

    @pytest.mark.parametrize("text", ["", "   ", "\n\t\n", "\u200b\u200b", "... !!! —", "\x00\x01"])
    def test_nothing_to_say_is_text_empty(self, text: str) -> None:
        with pytest.raises(TextEmpty) as caught:
            prepare_text(text)
        assert caught.value.code == "text_empty"
        assert isinstance(caught.value, InvalidTtsRequest)

    def test_the_limit_itself_is_allowed(self) -> None:
        text = ("a" * 99 + " ") * (MAX_TEXT_CHARS // 100)
        clean, _ = prepare_text(text)
        assert len(clean) == MAX_TEXT_CHARS - 1  # the trailing space is stripped

    def test_over_the_limit_names_the_limit(self) -> None:
        with pytest.raises(TextTooLong) as caught:
            prepare_text("б" * (MAX_TEXT_CHARS + 1))
        error = caught.value
        assert error.code == "text_too_long"
        assert error.details["limit"] == 5000
        assert error.details["length"] == 5001
        assert "5000" in error.message
        assert error.to_dict()["limit"] == 5000

    def test_surrounding_whitespace_does_not_count(self) -> None:
        clean, _ = prepare_text("  " + "a" * MAX_TEXT_CHARS + "\n\n\n")
        assert len(clean) == MAX_TEXT_CHARS

    def test_huge_input_is_refused_without_cleaning(self) -> None:
        with pytest.raises(TextTooLong) as caught:
            prepare_text(" " * (50 * MAX_TEXT_CHARS))
        assert caught.value.details["length"] == 50 * MAX_TEXT_CHARS

    @pytest.mark.parametrize("language", ["de", "fr-FR", "xx"])
    def test_unsupported_language(self, language: str) -> None:
        with pytest.raises(UnsupportedLanguage) as caught:
            prepare_text("Hallo", language)
        assert caught.value.details["allowed"] == ["auto", "ru", "en"]


class TestDetectLanguage:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Привет, как дела?", "ru"),
            ("Hello there", "en"),
            ("Я люблю Python и Go", "ru"),
            ("I visited Москва last year with my friends", "en"),
            ("12345 !!!", "en"),
        ],
    )
    def test_dominant_script_decides(self, text: str, expected: str) -> None:
        assert detect_language(text) == expected


class TestSplitSentencesEnglish:
    def test_plain_sentences(self) -> None:
        assert split_sentences("Hello there. How are you? Fine! Thanks.", "en") == [
            "Hello there.",
            "How are you?",
            "Fine!",
            "Thanks.",
        ]

    def test_titles_and_latin_abbreviations_do_not_end_sentences(self) -> None:
        text = "Mr. Smith met Dr. Jones, e.g. at St. Paul's. They talked."
        assert split_sentences(text, "en") == ["Mr. Smith met Dr. Jones, e.g. at St. Paul's.", "They talked."]

    def test_decimals_and_versions_stay_whole(self) -> None:
        text = "Pi is about 3.14 and the version is 2.0.1 now. Next one."
        assert split_sentences(text, "en") == ["Pi is about 3.14 and the version is 2.0.1 now.", "Next one."]

    def test_initials_stay_with_the_name(self) -> None:
        text = "The Hobbit was written by J. R. R. Tolkien. It is long."
        assert split_sentences(text, "en") == ["The Hobbit was written by J. R. R. Tolkien.", "It is long."]

    def test_dotted_capitals(self) -> None:
        text = "He moved to the U.S. The weather was fine."
        # "U.S." before a capital is ambiguous; keeping it whole never cuts a name in two.
        assert split_sentences(text, "en") == ["He moved to the U.S. The weather was fine."]

    def test_number_abbreviations_only_before_a_number(self) -> None:
        assert split_sentences("See No. 5 here. I said no. Then I left.", "en") == [
            "See No. 5 here.",
            "I said no.",
            "Then I left.",
        ]

    def test_lower_case_after_a_period_continues(self) -> None:
        assert split_sentences("It costs approx. ten dollars. Really.", "en") == [
            "It costs approx. ten dollars.",
            "Really.",
        ]

    def test_quotes_and_ellipses(self) -> None:
        text = 'She said "Stop." Then silence... Nothing happened.'
        assert split_sentences(text, "en") == ['She said "Stop."', "Then silence...", "Nothing happened."]

    def test_line_breaks_always_end_a_sentence(self) -> None:
        assert split_sentences("Title\nFirst line\nSecond line.", "en") == [
            "Title",
            "First line",
            "Second line.",
        ]


class TestSplitSentencesRussian:
    def test_plain_sentences(self) -> None:
        assert split_sentences("Привет! Как дела? Всё хорошо.", "ru") == [
            "Привет!",
            "Как дела?",
            "Всё хорошо.",
        ]

    def test_abbreviations(self) -> None:
        text = "Он живёт на ул. Ленина, т.е. в центре. Там тихо, см. рис. 3 и т. д. Потом уехал."
        assert split_sentences(text, "ru") == [
            "Он живёт на ул. Ленина, т.е. в центре.",
            "Там тихо, см. рис. 3 и т. д.",
            "Потом уехал.",
        ]

    def test_initials(self) -> None:
        text = "Стихи написал А. С. Пушкин. Их знают все. Автор — Пушкин А.С. Он гений."
        assert split_sentences(text, "ru") == [
            "Стихи написал А. С. Пушкин.",
            "Их знают все.",
            "Автор — Пушкин А.С. Он гений.",
        ]

    def test_year_abbreviation_ends_a_sentence_only_after_a_number(self) -> None:
        text = "Это было в 1990 г. Потом он переехал в г. Москва. Там хорошо."
        assert split_sentences(text, "ru") == [
            "Это было в 1990 г.",
            "Потом он переехал в г. Москва.",
            "Там хорошо.",
        ]

    def test_decimals_with_comma_and_dot(self) -> None:
        text = "Курс вырос на 3,5 процента. Было 2.5 рубля. Конец."
        assert split_sentences(text, "ru") == ["Курс вырос на 3,5 процента.", "Было 2.5 рубля.", "Конец."]

    def test_dialogue_dashes_and_guillemets(self) -> None:
        text = "Он спросил: «Ты придёшь?» — Да. — Хорошо."
        assert split_sentences(text, "ru") == ["Он спросил: «Ты придёшь?»", "— Да.", "— Хорошо."]


class TestLongSentences:
    def test_cut_at_clause_boundaries_below_the_limit(self) -> None:
        clause = "и это была очень длинная часть предложения без точки"
        sentence = ", ".join([clause] * 20) + "."
        parts = split_sentences(sentence, "ru")
        assert len(parts) > 1
        assert all(len(p) <= MAX_SENTENCE_CHARS for p in parts)
        assert all(p.endswith(",") for p in parts[:-1])
        assert " ".join(parts) == sentence

    def test_without_punctuation_cut_at_spaces(self) -> None:
        sentence = " ".join(["word"] * 300)
        parts = split_sentences(sentence, "en")
        assert all(len(p) <= MAX_SENTENCE_CHARS for p in parts)
        assert " ".join(parts) == sentence

    def test_one_endless_word_is_cut_hard(self) -> None:
        parts = split_sentences("x" * 1000, "en")
        assert [len(p) for p in parts] == [400, 400, 200]

    def test_nothing_speakable_is_dropped(self) -> None:
        assert split_sentences("Hello. ... — !", "en") == ["Hello."]
