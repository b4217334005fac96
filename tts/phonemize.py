"""Text to Piper phoneme ids, with espeak-ng run as a program (it is GPL: never linked in).

A Piper voice was trained on espeak-ng's IPA, one symbol per Unicode codepoint (decomposed, so
"ç" is "c" + U+0327), words separated by spaces and the clause punctuation kept (``, ; : . ! ?``),
so its rhythm and intonation follow the commas and the final mark. espeak-ng's command line drops
punctuation, so we cut a sentence into clauses ourselves, ask espeak-ng for each clause's phonemes
in one process (clauses one per line), and put the marks back.

The ids follow the voice's ``phoneme_id_map``: ``^`` first, ``$`` last, and the pad ``_`` after
every symbol (Piper's "intersperse"); symbols the voice does not know are skipped.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tts.errors import EngineFailure
from tts.stress import strip_stress

BOS, EOS, PAD = "^", "$", "_"
TIMEOUT_SECONDS = 30
# A clause ends at , ; : followed by a space (so "1,000" and "3:30" stay whole), or at the end.
_CLAUSE = re.compile(r"([,;:]+)(?=\s)|([.!?…]+)[\"'”’)\]]*\s*$")
_LANGUAGE_SWITCH = re.compile(r"\([a-z]{2,3}(?:-[a-z0-9]+)?\)")  # espeak-ng's "(fr)" flags


@dataclass(frozen=True)
class Clause:
    """A piece of a sentence spoken in one breath, and the mark that ends it ("" for none)."""

    text: str
    mark: str


def split_clauses(sentence: str) -> list[Clause]:
    """The clauses of one sentence with their final punctuation (``…`` and ``...`` count as ".")."""
    clauses: list[Clause] = []
    start = 0
    for match in _CLAUSE.finditer(sentence):
        text = sentence[start : match.start()].strip()
        marks = match.group(1) or match.group(2)
        mark = _one_mark(marks)
        if text:
            clauses.append(Clause(text, mark))
        start = match.end()
    rest = sentence[start:].strip()
    if rest:
        clauses.append(Clause(rest, ""))
    return clauses


def _one_mark(marks: str) -> str:
    if "?" in marks:
        return "?"
    if "!" in marks:
        return "!"
    return "." if marks[0] in ".…" else marks[0]


def espeak_phonemes(binary: str, voice: str, clauses: Sequence[Clause]) -> str:
    """The sentence as Piper's phoneme string: each clause's IPA, its mark, a space between."""
    texts = [_safe(c.text) for c in clauses]
    lines = _run(binary, voice, texts)
    if len(lines) != len(clauses):
        # espeak-ng cut a clause itself (e.g. after "Dr."): ask clause by clause to keep the marks.
        lines = [" ".join(_run(binary, voice, [text])) for text in texts]
    return " ".join(f"{phonemes}{c.mark}" for phonemes, c in zip(lines, clauses, strict=True) if phonemes)


def _safe(text: str) -> str:
    # "[[" would switch espeak-ng to phoneme input: user text must never do that.
    return strip_stress(text).replace("[[", "[ [").replace("]]", "] ]")


def _run(binary: str, voice: str, texts: Sequence[str]) -> list[str]:
    """espeak-ng's IPA for ``texts`` (one per line in, one line per clause it found out)."""
    command = [binary, "-q", "-b", "1", "--ipa", "-v", voice]
    try:
        done = subprocess.run(
            command,
            input=("\n".join(texts) + "\n").encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as exc:
        raise EngineFailure(f"espeak-ng took longer than {TIMEOUT_SECONDS} s to phonemize.") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise EngineFailure(f"espeak-ng failed while phonemizing: {message}")
    lines = (
        _LANGUAGE_SWITCH.sub("", line).strip() for line in done.stdout.decode("utf-8", "replace").splitlines()
    )
    return [line for line in lines if line]


def phoneme_ids(phonemes: str, id_map: Mapping[str, Sequence[int]]) -> list[int]:
    """Piper's input ids for a phoneme string: ``^``, each known symbol, ``$``, pads between."""
    pad = list(id_map[PAD])
    ids = [*id_map[BOS], *pad]
    for symbol in unicodedata.normalize("NFD", phonemes):
        known = id_map.get(symbol)
        if known is not None:
            ids += [*known, *pad]
    ids += id_map[EOS]
    return ids
