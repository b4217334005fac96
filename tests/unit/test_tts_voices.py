"""The seven voices and the one table that maps them to each engine's speakers."""

from __future__ import annotations

from itertools import pairwise

import pytest

from tts.errors import InvalidTtsRequest, UnknownVoice
from tts.espeak_variants import VARIANTS, variant_name, variant_text
from tts.piper_style import STYLES
from tts.voices import DEFAULT_VOICE, VOICE_ALIASES, VOICE_IDS, aliases_of, get_voice, list_voices


def test_the_seven_ids_in_order_with_alloy_the_default() -> None:
    assert VOICE_IDS == ("alloy", "ash", "nova", "onyx", "echo", "shimmer", "fable")
    assert DEFAULT_VOICE == "alloy"
    assert [v.id for v in list_voices()] == list(VOICE_IDS)


def test_every_voice_describes_itself_for_the_voices_endpoint() -> None:
    for voice in list_voices():
        assert voice.name == voice.id.capitalize()
        assert voice.gender in ("female", "male", "neutral")
        assert len(voice.description) > 10
        assert voice.languages == ("ru", "en")


@pytest.mark.parametrize("engine", ["silero", "espeak"])
@pytest.mark.parametrize("language", ["ru", "en"])
def test_each_voice_is_a_distinct_speaker_per_engine_and_language(engine: str, language: str) -> None:
    speakers = [v.speaker(engine, language) for v in list_voices()]
    assert len(set(speakers)) == len(VOICE_IDS)


def test_each_voice_has_its_own_piper_style_in_english() -> None:
    speakers = [v.speaker("piper", "en") for v in list_voices()]
    assert speakers == [f"en_US-joe-medium+{v}" for v in VOICE_IDS]
    assert set(STYLES) == set(VOICE_IDS)
    shifts = sorted(style.semitones for style in STYLES.values())
    assert min(b - a for a, b in pairwise(shifts)) >= 1.5  # apart by ear
    with pytest.raises(KeyError):
        get_voice("alloy").speaker("piper", "ru")  # Piper's bundled voice speaks English only


def test_openai_voice_names_map_onto_the_seven() -> None:
    openai_voices = {"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer"}
    openai_voices |= {"verse", "marin", "cedar"}
    assert {get_voice(name).id for name in openai_voices} <= set(VOICE_IDS)
    assert set(VOICE_ALIASES) == openai_voices - set(VOICE_IDS)
    assert get_voice("cedar").id == "onyx" and get_voice("coral").id == "nova"
    assert "cedar" in aliases_of("onyx") and aliases_of("alloy") == []


def test_silero_russian_speakers_are_the_models_own() -> None:
    names = {get_voice(v).speaker("silero", "ru").partition(":")[0] for v in VOICE_IDS}
    assert names == {"aidar", "baya", "kseniya", "xenia", "eugene"}
    pitches = {get_voice(v).speaker("silero", "ru").partition(":")[2] for v in VOICE_IDS}
    assert pitches <= {"", "x-low", "low", "high", "x-high"}


def test_silero_english_speakers_exist_in_v3_en() -> None:
    for voice in VOICE_IDS:
        speaker = get_voice(voice).speaker("silero", "en")
        assert speaker.startswith("en_")
        assert 0 <= int(speaker.removeprefix("en_")) <= 117


def test_espeak_speakers_use_our_variants() -> None:
    for voice in VOICE_IDS:
        assert get_voice(voice).speaker("espeak", "en") == f"en-us+{variant_name(voice)}"
        assert get_voice(voice).speaker("espeak", "ru") == f"ru+{variant_name(voice)}"
    assert set(VARIANTS) == set(VOICE_IDS)


def test_variant_files_carry_each_voices_parameters() -> None:
    texts = {v: variant_text(v, VARIANTS[v]) for v in VOICE_IDS}
    assert len(set(texts.values())) == len(VOICE_IDS)
    onyx = texts["onyx"].splitlines()
    assert "pitch 78 125" in onyx
    assert "gender male" in onyx
    assert any(line.startswith("breath 0 4") for line in onyx)


def test_female_variants_are_pitched_above_male_ones() -> None:
    female = [VARIANTS[v.id].pitch[0] for v in list_voices() if v.gender == "female"]
    male = [VARIANTS[v.id].pitch[0] for v in list_voices() if v.gender == "male"]
    assert min(female) > max(male)


def test_unknown_voice() -> None:
    with pytest.raises(UnknownVoice) as caught:
        get_voice("bob")
    error = caught.value
    assert isinstance(error, InvalidTtsRequest)
    assert error.code == "unknown_voice"
    assert error.details["allowed"] == list(VOICE_IDS)
    assert "alloy" in error.message and "coral" in error.message
