"""Stress marks: one spelling in (a combining acute after the vowel), each engine's form out.

Users mark stress the way dictionaries do, ``за́мок`` / ``замо́к`` (U+0301 after the stressed
vowel). Silero wants ``+`` before the vowel (``з+амок``); espeak-ng has no stress mark for text,
so ``tts.espeak`` turns a marked word into phonemes (``stressed_vowel``, ``restress_phonemes``).
Silero's own spelling (``зам+ок``) is accepted on input too and normalised to the acute form, so
both engines honour it.
"""

from __future__ import annotations

import re
import unicodedata

ACUTE = "\u0301"
VOWELS = "аеёиоуыэюяАЕЁИОУЫЭЮЯaeiouyAEIOUY"
RU_VOWELS = "аеёиоуыэюя"

_ACUTE_AFTER_VOWEL = re.compile(f"([{VOWELS}]){ACUTE}")
# "+" right before a Cyrillic vowel, after a Cyrillic letter or at the start of a word: Silero's
# stress mark ("зам+ок", "+утро"), not arithmetic ("2 + 2") or "C++".
_PLUS_BEFORE_VOWEL = re.compile(r"(?:(?<=[а-яёА-ЯЁ])|(?<![\w+]))\+([аеёиоуыэюяАЕЁИОУЫЭЮЯ])")
_WORD = re.compile(f"[^\\W\\d_](?:[^\\W\\d_]|{ACUTE})*")

# The stressed quality of each Russian vowel letter, in espeak-ng's phoneme names.
_RU_STRESSED_PHONEME = {
    "а": "a",
    "я": "a",
    "о": "o",
    "ё": "8",
    "у": "u",
    "ю": "u",
    "ы": "y",
    "э": "E",
    "е": "e",
    "и": "i",
}
# espeak-ng's Russian vowel phonemes start with one of these (a, a#, A, V, @, I, I#, 8, …).
_PHONEME_VOWEL_START = set("aAeEiIoOuUyYV@8")


def plus_to_acute(text: str) -> str:
    """Rewrite Silero-style ``+`` stress marks (``зам+ок``) as acute accents (``замо́к``)."""
    return _PLUS_BEFORE_VOWEL.sub(lambda m: m.group(1) + ACUTE, text)


def acute_to_plus(text: str) -> str:
    """Silero's form: a vowel followed by U+0301 becomes ``+`` and the vowel; stray accents go."""
    return _ACUTE_AFTER_VOWEL.sub(r"+\1", text).replace(ACUTE, "")


def strip_stress(text: str) -> str:
    """The text without acute stress marks."""
    return text.replace(ACUTE, "")


def stressed_words(text: str) -> list[str]:
    """The distinct words of ``text`` that carry a stress mark, in order of appearance."""
    seen: dict[str, None] = {}
    for match in _WORD.finditer(text):
        if ACUTE in match.group(0):
            seen.setdefault(match.group(0))
    return list(seen)


def stressed_vowel(word: str) -> tuple[str, int, str] | None:
    """For a marked word: (the word unmarked, index of the stressed vowel among its vowels, that
    vowel letter in lower case); None when no vowel carries the mark."""
    plain: list[str] = []
    vowel_count = 0
    found: tuple[int, str] | None = None
    for ch in word:
        if ch == ACUTE:
            if plain and plain[-1].lower() in RU_VOWELS and found is None:
                found = (vowel_count - 1, plain[-1].lower())
            continue
        plain.append(ch)
        if ch.lower() in RU_VOWELS:
            vowel_count += 1
    if found is None:
        return None
    return "".join(plain), found[0], found[1]


def restress_phonemes(
    phonemes: list[str], vowel_index: int, vowel_letter: str, vowel_letters: int
) -> str | None:
    """espeak-ng phonemes of a Russian word (as listed by ``-x --sep=" "``) with the primary stress
    moved to the ``vowel_index``-th vowel, which gets its stressed quality.

    None when the phonemes do not have one vowel per vowel letter (then the word is left to
    espeak-ng's own stress rather than stressed on the wrong syllable)."""
    bare = [p.replace("'", "").replace(",", "") for p in phonemes if p.replace("'", "").replace(",", "")]
    vowels = [i for i, p in enumerate(bare) if p[0] in _PHONEME_VOWEL_START]
    if len(vowels) != vowel_letters or vowel_index >= len(vowels):
        return None
    target = vowels[vowel_index]
    out = list(bare)
    out[target] = "'" + _RU_STRESSED_PHONEME.get(vowel_letter, bare[target])
    return "".join(out)


def count_ru_vowels(word: str) -> int:
    """How many Russian vowel letters ``word`` has."""
    return sum(1 for ch in unicodedata.normalize("NFC", word).lower() if ch in RU_VOWELS)
