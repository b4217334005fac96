"""Text preparation: clean-up, limits, language detection and sentence splitting.

``prepare_text`` is what every entry point calls first (the API before queuing, the worker, the
CLI): it normalises Unicode, drops control and invisible characters, collapses whitespace (line
breaks survive as sentence boundaries), accepts Silero's ``+`` stress marks as acute accents, and
raises TextEmpty / TextTooLong / UnsupportedLanguage with messages meant for people.

``split_sentences`` knows abbreviations (``Mr.``, ``e.g.``, ``т.е.``, ``ул.``), initials
(``А. С. Пушкин``, ``J. R. R. Tolkien``) and decimals (``3.14``), and cuts a sentence that is
too long for one synthesis call at a clause boundary.
"""

from __future__ import annotations

import re
import unicodedata

from tts.base import MAX_TEXT_CHARS
from tts.errors import TextEmpty, TextTooLong, UnsupportedLanguage
from tts.numbers import numbers_to_words
from tts.stress import plus_to_acute

SUPPORTED_LANGUAGES = ("ru", "en")
MAX_SENTENCE_CHARS = 400  # one synthesis call; also bounds the wait for the first audio

__all__ = [
    "MAX_SENTENCE_CHARS",
    "SUPPORTED_LANGUAGES",
    "clean_text",
    "detect_language",
    "normalize_language",
    "numbers_to_words",
    "prepare_text",
    "split_sentences",
]

# Abbreviations after which a period never ends a sentence (titles, "for example", "street" …).
_NEVER_END = {
    "en": {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "sr",
        "jr",
        "mt",
        "vs",
        "cf",
        "approx",
        "dept",
        "gen",
        "gov",
        "col",
        "lt",
        "sgt",
        "capt",
        "rev",
        "hon",
        "ave",
        "blvd",
        "e.g",
        "i.e",
        "viz",
    },
    "ru": {
        "ул",
        "им",
        "проф",
        "акад",
        "доц",
        "св",
        "ср",
        "напр",
        "пр",
        "пер",
        "пл",
        "просп",
        "обл",
        "р-н",
        "см",
        "т.е",
        "т.к",
        "т.н",
        "т.ч",
        "тел",
        "ок",
        "англ",
        "лат",
        "нем",
        "франц",
        "гос",
        "зам",
        "ген",
        "полк",
        "лейт",
        "г-н",
        "г-жа",
        "тов",
        "илл",
        "прим",
        "ред",
        "изд",
    },
}
# Abbreviations that are also words ("no", "art"): not an end when a number follows ("No. 5").
_BEFORE_NUMBER = {
    "en": {"no", "nos", "p", "pp", "fig", "figs", "vol", "vols", "ch", "sec", "art", "op"},
    "ru": {"д", "с", "п", "т", "стр", "рис", "табл", "гл", "кв", "корп", "вып", "№"},
}
# Units that end a sentence only right after a number ("в 1990 г. Он…" but "г. Москва").
_UNIT_AFTER_NUMBER = {
    "en": set(),
    "ru": {"г", "гг", "в", "вв", "руб", "коп", "тыс", "млн", "млрд", "трлн", "ч", "мин", "сек", "км", "кг"},
}
_CANDIDATE = re.compile(r"([.!?…]+)([\"'»”’)\]]*)(\s+)")
_STARTS_SENTENCE = re.compile(r"[\"'«“„(\[—–\s-]*[^\W_]")
_TOKEN_BEFORE = re.compile(r"(\S+)$")
_DOTTED_CAPITALS = re.compile(r"^(?:[^\W\d_]\.)*[^\W\d_]$")  # "А", "А.С", "U.S"
_HAS_WORD = re.compile(r"[^\W_]")
_CLAUSE_BREAK = re.compile(r"[,;:—–)]\s|\s[—–-]\s")
_SPACES = re.compile(r"[ \t]+")
_WORDS = re.compile(r"[^\W\d_]+")
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LATIN = re.compile(r"[a-zA-Z]")


def clean_text(text: str) -> str:
    """Unicode NFC; control and invisible characters removed; whitespace collapsed; one line per
    paragraph or line break; Silero's ``+`` stress marks rewritten as acute accents."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch == "\n":
            out.append(ch)
        elif category == "Zs" or ch in "\t\v\f":
            out.append(" ")
        elif category in ("Cc", "Cf", "Co", "Cs", "Cn"):
            continue  # NUL, BOM, zero-width space, soft hyphen, bidi marks, unassigned …
        else:
            out.append(ch)
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(out).split("\n"))
    return plus_to_acute("\n".join(line for line in lines if line))


def detect_language(text: str) -> str:
    """ "ru" when Cyrillic dominates (more Cyrillic words than Latin ones; on a tie, more letters),
    else "en"."""
    words = _WORDS.findall(text)
    cyrillic = sum(1 for w in words if _CYRILLIC.match(w))
    latin = sum(1 for w in words if _LATIN.match(w))
    if cyrillic == latin:
        return "ru" if len(_CYRILLIC.findall(text)) > len(_LATIN.findall(text)) else "en"
    return "ru" if cyrillic > latin else "en"


def normalize_language(language: str | None) -> str | None:
    """ "ru" / "en" from codes like "RU", "en-US", "ru_RU"; None for "auto" or nothing."""
    if language is None or language.strip().lower() in ("", "auto"):
        return None
    code = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
    if code not in SUPPORTED_LANGUAGES:
        raise UnsupportedLanguage(
            f"Language {language!r} is not supported for speech; use auto, ru or en.",
            field="language",
            language=language,
            allowed=["auto", *SUPPORTED_LANGUAGES],
        )
    return code


def prepare_text(text: str, language: str | None = None) -> tuple[str, str]:
    """(clean text, language): validated, cleaned, with the language detected when not given."""
    code = normalize_language(language)
    if len(text) > 4 * MAX_TEXT_CHARS:  # do not even clean megabytes
        _too_long(len(text))
    clean = clean_text(text)
    if not _HAS_WORD.search(clean):
        raise TextEmpty("The text is empty: there is nothing to say.", field="text")
    if len(clean) > MAX_TEXT_CHARS:
        _too_long(len(clean))
    return clean, code or detect_language(clean)


def _too_long(length: int) -> None:
    raise TextTooLong(
        f"The text is {length} characters long; the limit is {MAX_TEXT_CHARS} characters per request.",
        field="text",
        limit=MAX_TEXT_CHARS,
        length=length,
    )


def split_sentences(text: str, language: str) -> list[str]:
    """The sentences of ``text`` (line breaks always end one), none longer than MAX_SENTENCE_CHARS."""
    sentences: list[str] = []
    for line in text.split("\n"):
        for sentence in _split_line(line.strip(), language):
            sentences += _split_long(sentence)
    return [s for s in sentences if _HAS_WORD.search(s)]


def _split_line(line: str, language: str) -> list[str]:
    out: list[str] = []
    start = 0
    for match in _CANDIDATE.finditer(line):
        if _ends_sentence(line, match, language):
            out.append(line[start : match.end(2)].strip())
            start = match.end()
    out.append(line[start:].strip())
    return [s for s in out if s]


def _ends_sentence(line: str, match: re.Match[str], language: str) -> bool:
    punct = match.group(1)
    following = line[match.end() :]
    if not _HAS_WORD.search(following):
        return True  # only punctuation follows: let it go as a sentence of its own (and be dropped)
    if "?" in punct or "!" in punct:
        return True
    if not _STARTS_SENTENCE.match(following) or following[0].islower():
        return False
    first_letter = next((ch for ch in following if ch.isalpha() or ch.isdigit()), "")
    if first_letter.islower():
        return False
    if len(punct) > 1 or punct == "…":
        return True  # an ellipsis before a capital
    token_match = _TOKEN_BEFORE.search(line, 0, match.start())
    token = token_match.group(1).lstrip("\"'«“„([") if token_match else ""
    word = token.lower()
    if not word:
        return True
    if word in _NEVER_END.get(language, set()):
        return False
    if word in _BEFORE_NUMBER.get(language, set()) and first_letter.isdigit():
        return False
    if _DOTTED_CAPITALS.match(token) and token[0].isupper():
        return False  # initials and dotted capitals: "А. С. Пушкин", "U.S. troops"
    if word in _UNIT_AFTER_NUMBER.get(language, set()):
        before = line[: token_match.start()].rstrip() if token_match else ""
        return bool(before) and before[-1].isdigit()
    return True


def _split_long(sentence: str, limit: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Cut at the last clause break (comma, semicolon, dash) before ``limit``, else at a space."""
    parts: list[str] = []
    while len(sentence) > limit:
        window = sentence[: limit + 1]
        cut = max((m.end() for m in _CLAUSE_BREAK.finditer(window) if m.end() > limit // 3), default=0)
        if not cut:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        parts.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    if sentence:
        parts.append(sentence)
    return parts
