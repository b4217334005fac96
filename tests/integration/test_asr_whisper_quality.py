"""The bundled Whisper models on real speech: word error rate, language detection, word times.

Every clip with a word-for-word reference in ``../shared/audio`` is transcribed once per session
with the language on ``auto`` (as users send it) and word timestamps on; the tests then read
those results. Clips whose reference is a note rather than a transcript (a 60 s clip without
one, a two-language reading, a stereo file with one text per channel) are left out of the figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from asr.base import TranscriptionOptions
from asr.transcribe import TranscriptResult, transcribe_audio
from core.audio import decode_pcm, probe
from tests.conftest import Clip
from tests.wer import wer

pytestmark = pytest.mark.slow

NO_VERBATIM_REFERENCE = {
    "multilingual-en-de.mp3",
    "hotwords.mp3",
    "silero-vad-ru.wav",
    "stereo_diarization.wav",
}


@dataclass(frozen=True)
class Heard:
    clip: Clip
    duration: float
    result: TranscriptResult


def _transcribe(engine: object, clip: Clip, options: TranscriptionOptions) -> Heard:
    duration = probe(clip.path).duration_seconds
    result = transcribe_audio(
        engine,  # type: ignore[arg-type]
        lambda channels: decode_pcm(clip.path, channels=channels),
        duration=duration,
        options=options,
    )
    return Heard(clip, duration, result)


@pytest.fixture(scope="session")
def scored_clips(reference_clips: list[Clip]) -> list[Clip]:
    clips = [c for c in reference_clips if c.path.name not in NO_VERBATIM_REFERENCE]
    assert len([c for c in clips if c.language == "en"]) >= 30
    assert len([c for c in clips if c.language == "ru"]) >= 10
    return clips


@pytest.fixture(scope="session")
def base_heard(whisper_base: object, scored_clips: list[Clip]) -> list[Heard]:
    options = TranscriptionOptions(language="auto", word_timestamps=True)
    return [_transcribe(whisper_base, clip, options) for clip in scored_clips]


def _report(name: str, language: str, heard: list[Heard]) -> float:
    score = wer([(h.clip.reference, h.result.text) for h in heard])
    print(f"{name} {language}: WER {score:.3f} on {len(heard)} clips")
    return score


def test_base_understands_english(base_heard: list[Heard]) -> None:
    english = [h for h in base_heard if h.clip.language == "en"]
    assert _report("whisper-base", "en", english) <= 0.15


def test_base_understands_russian(base_heard: list[Heard]) -> None:
    russian = [h for h in base_heard if h.clip.language == "ru"]
    assert _report("whisper-base", "ru", russian) <= 0.30
    assert all(any("а" <= ch <= "я" for ch in h.result.text.lower()) for h in russian)


def test_base_detects_the_language_of_nearly_every_clip(base_heard: list[Heard]) -> None:
    wrong = [
        (h.clip.path.name, h.result.language) for h in base_heard if h.result.language != h.clip.language
    ]
    right = 1 - len(wrong) / len(base_heard)
    print(f"language right on {len(base_heard) - len(wrong)}/{len(base_heard)} clips; wrong: {wrong}")
    assert right >= 0.95


def test_base_word_times_are_inside_the_audio_and_in_order(base_heard: list[Heard]) -> None:
    for heard in base_heard:
        words = [w for s in heard.result.segments for w in s.words]
        assert words, heard.clip.path.name
        for word in words:
            assert 0.0 <= word.start <= word.end <= heard.duration + 1e-3, (heard.clip.path.name, word)
        starts = [w.start for w in words]
        assert starts == sorted(starts), heard.clip.path.name


def test_tiny_en_understands_english(whisper_tiny_en: object, scored_clips: list[Clip]) -> None:
    options = TranscriptionOptions(language="auto")
    english = [_transcribe(whisper_tiny_en, c, options) for c in scored_clips if c.language == "en"]
    assert all(h.result.language == "en" for h in english)
    assert _report("whisper-tiny.en", "en", english) <= 0.15
