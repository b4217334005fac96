"""The seven voices, and which speaker each engine uses for them in each language.

This table is the one place that maps a public voice id to an engine's own speaker:

* **silero** — a speaker of the Silero model, optionally with a pitch shift that the engine applies
  through Silero's SSML (``"eugene:low"``): Russian models (v4_ru, v5_ru, v3_1_ru) have five
  speakers for seven voices, so two voices reuse a speaker at another pitch. A model whose speaker
  list lacks the name (e.g. ``v5_cis_base``) gets a stable substitute from its own list.
* **espeak** — an espeak-ng voice and variant, ``"en-us+nagovori_ash"``. The ``nagovori_*``
  variants are ours (``tts.espeak_variants``), tuned so that a PocketSphinx round trip recognizes
  every English voice; espeak-ng's stock variants are far less intelligible.
* **piper** — the one-speaker bundled voice ``en_US-joe-medium`` with a per-voice style
  (``"en_US-joe-medium+alloy"``: speaking parameters and a pitch shift, ``tts.piper_style``).

OpenAI's newer voice names (``VOICE_ALIASES``) are accepted and mean one of the seven, so clients
written for OpenAI's speech API work unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tts.errors import UnknownVoice

VOICE_IDS = ("alloy", "ash", "nova", "onyx", "echo", "shimmer", "fable")
DEFAULT_VOICE = "alloy"
LANGUAGES = ("ru", "en")
PIPER_VOICE = "en_US-joe-medium"
# OpenAI's voices that are not among the seven, each mapped to the nearest of ours by character.
VOICE_ALIASES: dict[str, str] = {
    "ballad": "fable",  # warm, expressive storyteller
    "coral": "nova",  # bright, friendly female
    "sage": "shimmer",  # calm, gentle female
    "verse": "echo",  # soft, versatile male
    "marin": "shimmer",  # natural, calm female
    "cedar": "onyx",  # deep, grounded male
}


@dataclass(frozen=True)
class Voice:
    """A public voice: what ``GET /v1/tts/voices`` shows, and each engine's speaker for it."""

    id: str
    name: str
    gender: str  # "female" | "male" | "neutral"
    description: str
    languages: tuple[str, ...]
    speakers: dict[str, dict[str, str]] = field(hash=False)  # engine -> language -> engine speaker

    def speaker(self, engine: str, language: str) -> str:
        """The engine's speaker for this voice in ``language`` (KeyError when unmapped)."""
        return self.speakers[engine][language]


def _voice(voice_id: str, gender: str, description: str, *, silero_ru: str, silero_en: str) -> Voice:
    return Voice(
        id=voice_id,
        name=voice_id.capitalize(),
        gender=gender,
        description=description,
        languages=LANGUAGES,
        speakers={
            "silero": {"ru": silero_ru, "en": silero_en},
            "espeak": {"ru": f"ru+nagovori_{voice_id}", "en": f"en-us+nagovori_{voice_id}"},
            "piper": {"en": f"{PIPER_VOICE}+{voice_id}"},
        },
    )


# Silero's English model (v3_en) names its 118 speakers en_0 … en_117 without genders; these seven
# are spread over the range. Russian speakers: aidar and eugene are male, baya, kseniya, xenia female.
_VOICES: dict[str, Voice] = {
    v.id: v
    for v in (
        _voice(
            "alloy", "neutral", "Balanced and even; the default voice.", silero_ru="xenia", silero_en="en_0"
        ),
        _voice("ash", "male", "Clear, confident male voice.", silero_ru="aidar", silero_en="en_10"),
        _voice("nova", "female", "Bright, friendly female voice.", silero_ru="baya", silero_en="en_21"),
        _voice("onyx", "male", "Deep, low male voice.", silero_ru="eugene:low", silero_en="en_45"),
        _voice("echo", "male", "Soft, warm male voice.", silero_ru="eugene", silero_en="en_56"),
        _voice("shimmer", "female", "Gentle, calm female voice.", silero_ru="kseniya", silero_en="en_90"),
        _voice("fable", "neutral", "Expressive storyteller.", silero_ru="baya:low", silero_en="en_117"),
    )
}


def get_voice(voice_id: str) -> Voice:
    """The voice with this id or OpenAI alias (``Voice.id`` is always ours); UnknownVoice otherwise."""
    voice = _VOICES.get(VOICE_ALIASES.get(voice_id, voice_id))
    if voice is None:
        raise UnknownVoice(
            f"Unknown voice {voice_id!r}; use one of: {', '.join(VOICE_IDS)} "
            f"(or OpenAI's {', '.join(VOICE_ALIASES)}).",
            field="voice",
            voice=voice_id,
            allowed=list(VOICE_IDS),
            aliases=dict(VOICE_ALIASES),
        )
    return voice


def aliases_of(voice_id: str) -> list[str]:
    """The OpenAI names that mean this voice."""
    return [alias for alias, target in VOICE_ALIASES.items() if target == voice_id]


def list_voices() -> list[Voice]:
    """All voices, in the order of ``VOICE_IDS``."""
    return [_VOICES[v] for v in VOICE_IDS]
