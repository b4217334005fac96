"""Shaping results for Telegram: long text split on sentence boundaries, or sent as a file.

(Subtitles are the API's: ``core.services.subtitles``.)"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bots.messenger import MAX_MESSAGE_CHARS

# More messages than this and the text comes as a .txt document instead.
MAX_PARTS = 4

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def split_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Pieces of ``text`` no longer than ``limit``, cut between sentences where possible,
    else between words, and only as a last resort inside a word."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for unit in _units(text, limit):
        candidate = f"{current} {unit}" if current else unit
        if len(candidate) <= limit:
            current = candidate
        else:
            parts.append(current)
            current = unit
    if current:
        parts.append(current)
    return parts


def _units(text: str, limit: int) -> Iterable[str]:
    """Sentences, with any sentence longer than ``limit`` broken into words (and long words cut)."""
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        if len(sentence) <= limit:
            yield sentence
            continue
        for word in sentence.split():
            while len(word) > limit:
                yield word[:limit]
                word = word[limit:]
            if word:
                yield word


def needs_file(text: str, limit: int = MAX_MESSAGE_CHARS) -> bool:
    """True when the text would take more than ``MAX_PARTS`` messages."""
    return len(split_message(text, limit)) > MAX_PARTS
