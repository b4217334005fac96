"""Word error rate, as the quality tests and benchmarks measure it (case and punctuation ignored)."""

from __future__ import annotations

import re

_NOT_WORD = re.compile(r"[^\w' ]+")
_DIGITS = re.compile(r"\d")


def words(text: str) -> list[str]:
    """Lower-case words; punctuation and hyphens become spaces, ё counts as е."""
    text = text.lower().replace("ё", "е").replace("-", " ")
    return [w.strip("'") for w in _NOT_WORD.sub(" ", text).split() if w.strip("'")]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over words (substitutions, insertions, deletions)."""
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        previous, row[0] = row[:], i
        for j in range(1, len(hyp) + 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ref[i - 1] != hyp[j - 1]))
    return row[len(hyp)]


def wer(pairs: list[tuple[str, str]]) -> float:
    """Pooled WER over (reference, hypothesis) pairs: total word errors / total reference words."""
    errors = total = 0
    for reference, hypothesis in pairs:
        ref = words(reference)
        errors += edit_distance(ref, words(hypothesis))
        total += len(ref)
    return errors / max(total, 1)


def has_digits(text: str) -> bool:
    return bool(_DIGITS.search(text))
