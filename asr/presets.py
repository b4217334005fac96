"""Preset post-processing of recognized text, and the caller's custom terms.

* ``default`` — the engine's own output (custom terms still get their spelling).
* ``verbatim`` — keeps every filler and repetition (whisper is also prompted to write them).
* ``remove_fillers`` — drops hesitations (um, uh, э, ммм), discourse fillers set off by commas
  (", you know,", "Ну, ...", ", типа,"), stutters ("I-I", "th-the", "the, the").
* ``concise`` — also drops repeated words and phrases and false starts ("I was go- I went").

Edits work on whitespace tokens with their punctuation kept aside, so a removal never cuts into a
real word, punctuation that ended a sentence moves to the word before, and a sentence that lost
its first word is capitalized again. Word timings follow the kept words.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from asr.base import Segment, Word
from asr.fillers import (
    DISCOURSE,
    GRAMMATICAL_DOUBLES,
    HESITATIONS,
    SENTENCE_OPENERS,
    STUTTER_WORDS,
    stutter_word,
)

_EDGE = "\"'“”«»„()[]{}¿¡"
_TRAIL = ".,!?;:…" + _EDGE + "—–-"
_SENTENCE_END = (".", "!", "?", "…")
_DASHES = ("-", "—", "–")
_PAUSES = ("", ",", "...", "…", *_DASHES)


@dataclass
class _Token:
    lead: str
    word: str
    trail: str
    keep: bool = True

    @property
    def core(self) -> str:
        return self.word.casefold().replace("ё", "е")

    @property
    def text(self) -> str:
        return self.lead + self.word + self.trail


def apply_preset(segment: Segment, preset: str, terms: tuple[str, ...] = ()) -> Segment | None:
    """The segment as the preset wants it, or None when nothing is left of it."""
    text = clean_text(segment.text, preset)
    text = apply_terms(text, terms)
    if not text:
        return None
    if text == segment.text:
        return segment
    return replace(segment, text=text, words=_follow(segment.words, text))


def clean_text(text: str, preset: str) -> str:
    """Apply ``preset`` to one piece of text."""
    if preset in ("default", "verbatim"):
        return " ".join(text.split())
    tokens = _tokenize(text)
    _drop_fillers(tokens)
    if preset == "concise":
        _drop_false_starts(tokens)
        _drop_repeats(tokens)
    return _render(tokens)


def apply_terms(text: str, terms: tuple[str, ...]) -> str:
    """Spell each custom term as given ("comfy ui", "Comfyui" -> "ComfyUI")."""
    for term in terms:
        text = _term_pattern(term).sub(_literal(term), text)
    return text


def _literal(term: str) -> Callable[[re.Match[str]], str]:
    return lambda _match: term


def _term_pattern(term: str) -> re.Pattern[str]:
    if not re.fullmatch(r"[\w\s-]+", term):
        return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)  # "C++", "Node.js"
    # A space or hyphen may appear where the term changes case or between letters and digits, the
    # places a recognizer tends to split it ("Comfy UI", "GPT 4").
    body = r"[\s-]?".join(re.escape(p) for p in _term_parts(term))
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _term_parts(term: str) -> list[str]:
    parts: list[str] = []
    current = ""
    for ch in term:
        if ch in " -":
            parts, current = [*parts, current] if current else parts, ""
            continue
        if current and (current[-1].isdigit() != ch.isdigit() or (current[-1].islower() and ch.isupper())):
            parts, current = [*parts, current], ""
        current += ch
    return [*parts, current] if current else parts


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for raw in text.split():
        lead_len = len(raw) - len(raw.lstrip(_EDGE))
        lead, rest = raw[:lead_len], raw[lead_len:]
        word = rest.rstrip(_TRAIL)
        # A hyphen inside a word stays: only trailing ones are punctuation (false starts).
        tokens.append(_Token(lead, word, rest[len(word) :]))
    return tokens


def _kept(tokens: list[_Token]) -> list[int]:
    return [i for i, t in enumerate(tokens) if t.keep]


def _ends_sentence(trail: str) -> bool:
    """A full stop, question or exclamation; an ellipsis is a pause, not an end."""
    mark = trail.strip(_EDGE)
    return mark.endswith(_SENTENCE_END) and not mark.endswith(("..", "…"))


def _opens_sentence(tokens: list[_Token], index: int) -> bool:
    before = [t for t in tokens[:index] if t.keep]
    return not before or _ends_sentence(before[-1].trail)


def _drop_fillers(tokens: list[_Token]) -> None:
    for i, token in enumerate(tokens):
        meant = stutter_word(token.core) if token.core not in HESITATIONS else None
        if token.core in HESITATIONS:
            _remove(tokens, i, i + 1)
        elif meant is not None:
            word = token.word[-len(meant) :]
            token.word = word[0].upper() + word[1:] if token.word[:1].isupper() else word
    for i, token in enumerate(tokens):
        if not token.keep:
            continue
        if token.core in SENTENCE_OPENERS and _opens_sentence(tokens, i) and i + 1 < len(tokens):
            _remove(tokens, i, i + 1)
            continue
        for phrase in DISCOURSE:
            end = i + len(phrase)
            if [t.core for t in tokens[i:end]] == list(phrase) and _set_off(tokens, i, end):
                _remove(tokens, i, end)
                break
    # "the, the car" / "я... я думаю": a short word said twice across a pause.
    kept = _kept(tokens)
    for a, b in itertools.pairwise(kept):
        first, second = tokens[a], tokens[b]
        pause = first.trail.strip(_EDGE)
        said_twice = first.core == second.core and first.core in STUTTER_WORDS
        if said_twice and pause.startswith((",", "…", "..", *_DASHES)):
            _remove(tokens, a, a + 1)


def _set_off(tokens: list[_Token], start: int, end: int) -> bool:
    """True when tokens[start:end] stand apart: after a comma or sentence start, before punctuation."""
    kept_before = [t for t in tokens[:start] if t.keep]
    at_start = not kept_before or _ends_sentence(kept_before[-1].trail)
    after_comma = bool(kept_before) and kept_before[-1].trail.strip(_EDGE).endswith(",")
    closing = tokens[end - 1].trail.strip(_EDGE)
    inner_clean = all(not t.trail for t in tokens[start : end - 1])
    if at_start:
        # "Like, it was" but not "Like it was": without the comma it is the sentence's first word.
        return inner_clean and (closing.startswith(",") or end == len(tokens))
    return after_comma and inner_clean and (bool(closing) or end == len(tokens))


def _drop_false_starts(tokens: list[_Token]) -> None:
    for i, token in enumerate(tokens):
        if not token.keep or not token.word or not token.trail.endswith(_DASHES) or i + 1 >= len(tokens):
            continue
        clause = [i]  # the kept words back to the previous clause boundary
        for j in range(i - 1, -1, -1):
            previous = tokens[j]
            if not previous.keep:
                continue
            if previous.trail.strip(_EDGE).endswith((",", ";", ":", *_SENTENCE_END)):
                break
            clause.insert(0, j)
        following = [t for t in tokens[i + 1 :] if t.keep and t.word]
        restart = following[0].core if following else ""
        # A short fragment, or one the speaker restarts with the same word, is abandoned whole.
        if len(clause) <= 3 or tokens[clause[0]].core == restart:
            for j in clause:
                _remove(tokens, j, j + 1)
        else:
            _remove(tokens, i, i + 1)


def _drop_repeats(tokens: list[_Token]) -> None:
    changed = True
    while changed:
        changed = False
        kept = [i for i in _kept(tokens) if tokens[i].word]
        for size in (4, 3, 2, 1):
            for pos in range(len(kept) - 2 * size + 1):
                first = [tokens[k].core for k in kept[pos : pos + size]]
                second = [tokens[k].core for k in kept[pos + size : pos + 2 * size]]
                if first != second or (size == 1 and first[0] in GRAMMATICAL_DOUBLES):
                    continue
                if tokens[kept[pos + size - 1]].trail.strip(_EDGE) not in _PAUSES:
                    continue  # "it; it" or "Go. Go" are two clauses, not a repetition
                for k in kept[pos : pos + size]:
                    _remove(tokens, k, k + 1)
                changed = True
                break
            if changed:
                break


def _remove(tokens: list[_Token], start: int, end: int) -> None:
    for token in tokens[start:end]:
        token.keep = False


def _render(tokens: list[_Token]) -> str:
    """The kept tokens, with the punctuation and capitals the removed ones carried moved over."""
    kept: list[_Token] = []
    gap: list[_Token] = []
    for token in [*tokens, _Token("", "", "")]:  # a sentinel closes the last gap
        if not token.keep:
            gap.append(token)
            continue
        if gap:
            _close_gap(kept[-1] if kept else None, gap, token if token.word else None)
            gap = []
        if token.word or token.trail.strip(_EDGE + "".join(_DASHES)):
            kept.append(token)
    text = " ".join(t.text for t in kept if t.word or t.trail)
    text = re.sub(r"^[\s,;:]+", "", text)
    return " ".join(text.split())


def _close_gap(before: _Token | None, gap: list[_Token], after: _Token | None) -> None:
    last = gap[-1].trail.strip(_EDGE + "".join(_DASHES))
    if before is not None:
        if _ends_sentence(last) and not _ends_sentence(before.trail):
            before.trail = before.trail.rstrip(",;:") + last[-1]  # "huge, you know." -> "huge."
        elif last.endswith(",") and before.trail.endswith(",") and after is not None:
            before.trail = before.trail[:-1]  # "went, um, to" -> "went to"
    opened = before is None or _ends_sentence(before.trail)
    if after is not None and opened and gap[0].word[:1].isupper():
        after.word = after.word[:1].upper() + after.word[1:]


def _follow(words: tuple[Word, ...], text: str) -> tuple[Word, ...]:
    """The word timings that belong to what is still in ``text``.

    Characters are aligned rather than words, so a term that joined two words ("comfy ui" ->
    "ComfyUI") keeps both timings; a word stays when most of its letters are still there.
    """
    if not words:
        return words
    owner: list[int] = []
    source = ""
    for index, word in enumerate(words):
        letters = _letters(word.text)
        source += letters
        owner.extend([index] * len(letters))
    hits = [0] * len(words)
    matcher = SequenceMatcher(a=source, b=_letters(text), autojunk=False)
    for block in matcher.get_matching_blocks():
        for pos in range(block.a, block.a + block.size):
            hits[owner[pos]] += 1
    return tuple(w for w, n in zip(words, hits, strict=True) if n * 2 > len(_letters(w.text)))


def _letters(text: str) -> str:
    return "".join(ch for ch in text.casefold().replace("ё", "е") if ch.isalnum())
