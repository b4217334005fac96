"""Word lists for the presets: filler words, stutters and the look-alikes that must survive.

English and Russian lists are applied together: they do not share a script, so a Russian filler
can never match an English word (and a call may switch language mid-way).
"""

from __future__ import annotations

# Hesitation sounds: never words, removed wherever they stand.
HESITATIONS: frozenset[str] = frozenset(
    {
        "um", "umm", "ummm", "uh", "uhh", "uhhh", "uhm", "er", "erm", "hmm", "hmmm", "hm", "mm", "mmm",
        "э", "ээ", "эээ", "э-э", "э-э-э", "эм", "эмм", "мм", "ммм", "м-м", "хм", "хмм",
    }
)  # fmt: skip

# Discourse fillers: real words elsewhere ("I like it", "типа данных"), so removed only when set
# off by punctuation — ", like," / "You know, ..." — never inside a clause.
DISCOURSE: tuple[tuple[str, ...], ...] = tuple(
    tuple(phrase.split())
    for phrase in (
        "you know", "i mean", "you see", "kind of", "sort of", "like", "basically",
        "как бы", "это самое", "так сказать", "в общем", "короче", "типа", "значит", "ну", "вот",
        "собственно",
    )
)  # fmt: skip

# Particles that open a Russian sentence as pure filler even without a comma ("Ну давай").
SENTENCE_OPENERS: frozenset[str] = frozenset({"ну"})

# Short words a speaker repeats when stuttering ("I-I", "the, the", "я, я"); other repeats such as
# "very, very" or "no, no" are deliberate and left to the concise preset.
STUTTER_WORDS: frozenset[str] = frozenset(
    {
        "i", "we", "you", "he", "she", "it", "they", "the", "a", "an", "and", "but", "to", "in", "on",
        "of", "that", "this", "my", "is", "was", "what", "when", "if", "for", "with",
        "я", "мы", "ты", "вы", "он", "она", "оно", "они", "и", "но", "в", "на", "с", "к", "у", "это",
    }
)  # fmt: skip

# Hyphenated words that look like stutters but are words.
REDUPLICATIONS: frozenset[str] = frozenset(
    {
        "so-so", "no-no", "bye-bye", "ha-ha", "yo-yo", "hush-hush", "tsk-tsk", "tut-tut", "mm-hmm",
        "uh-huh", "ну-ну", "да-да", "так-так", "что-что", "вот-вот", "чуть-чуть", "еле-еле", "тук-тук",
    }
)  # fmt: skip

# Word prefixes written with a hyphen ("re-read", "co-op", "по-русски"): not a stutter.
REAL_PREFIXES: frozenset[str] = frozenset(
    {
        "re", "co", "de", "un", "in", "ex", "bi", "pre", "pro", "non", "sub", "mid", "dis", "mis", "out",
        "tri", "uni", "по", "на", "за", "до", "от", "во", "со", "об", "не", "из", "вы", "пол",
    }
)  # fmt: skip

# Grammatical doubles the concise preset must not collapse ("that that", "had had").
GRAMMATICAL_DOUBLES: frozenset[str] = frozenset({"that", "had", "is", "do"})


def stutter_word(core: str) -> str | None:
    """For a hyphenated stutter ("th-the", "I-I", "w-w-what") the word meant; else None."""
    if "-" not in core or core in REDUPLICATIONS:
        return None
    parts = core.split("-")
    last = parts[-1]
    if not last or any(not p for p in parts):
        return None
    for part in parts[:-1]:
        if not last.startswith(part):
            return None
        if part == last:
            if part not in STUTTER_WORDS and len(part) > 1:
                return None
        elif len(part) > 3 or part in REAL_PREFIXES:
            return None
    return last
