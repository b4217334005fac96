"""Splitting long transcripts for Telegram (the SRT button sends the API's subtitles: asr.formats)."""

from __future__ import annotations

import re

from bots.formatting import MAX_PARTS, needs_file, split_message


def test_short_text_is_one_message() -> None:
    assert split_message("  Hello there.  ") == ["Hello there."]
    assert split_message("   ") == []


def test_long_text_is_cut_between_sentences_under_the_limit() -> None:
    sentences = [f"Sentence number {i} says something mildly interesting." for i in range(300)]
    text = " ".join(sentences)
    parts = split_message(text, limit=500)
    assert len(parts) > 1
    assert all(len(p) <= 500 for p in parts)
    # Every part ends at a sentence end, and nothing is lost or reordered.
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == text


def test_a_sentence_longer_than_the_limit_is_cut_between_words() -> None:
    text = " ".join(["word"] * 400)  # 1999 characters, no sentence end
    parts = split_message(text, limit=100)
    assert all(len(p) <= 100 for p in parts)
    assert " ".join(parts).split() == text.split()


def test_a_word_longer_than_the_limit_is_cut_inside() -> None:
    parts = split_message("x" * 250, limit=100)
    assert parts == ["x" * 100, "x" * 100, "x" * 50]


def test_cyrillic_and_paragraphs_split_too() -> None:
    text = "\n".join(f"Это предложение номер {i}! А это вопрос {i}?" for i in range(100))
    parts = split_message(text, limit=300)
    assert all(len(p) <= 300 for p in parts)
    assert re.sub(r"\s+", " ", " ".join(parts)) == re.sub(r"\s+", " ", text)


def test_very_long_text_goes_as_a_file() -> None:
    sentence = "This is a sentence of moderate length for the test. "
    assert not needs_file(sentence * 10)
    assert needs_file(sentence * (4096 * MAX_PARTS // len(sentence) + 10))
