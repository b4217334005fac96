"""PocketSphinx, the offline engine, for real: accuracy, formats, languages, stereo, presets."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from asr.base import Segment, TranscriptionOptions
from asr.engines.pocketsphinx import PocketSphinxEngine
from asr.errors import UnsupportedLanguage
from asr.fillers import HESITATIONS
from asr.presets import apply_preset
from asr.transcribe import TranscriptResult, transcribe_audio
from core.audio import decode_pcm, probe, read_pcm
from tests.conftest import Clip
from tests.wer import edit_distance, words

WER_BAR = 0.35


@pytest.fixture(scope="module")
def engine() -> PocketSphinxEngine:
    return PocketSphinxEngine()


def transcribe(
    engine: PocketSphinxEngine, path: Path, options: TranscriptionOptions | None = None, **kwargs: object
) -> TranscriptResult:
    duration = probe(path).duration_seconds
    return transcribe_audio(
        engine,
        lambda channels: decode_pcm(path, channels=channels),
        duration=duration,
        options=options or TranscriptionOptions(),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def plain(engine: PocketSphinxEngine) -> Callable[[Path], TranscriptResult]:
    """The default transcript of a file, computed once per module (the engine is deterministic)."""
    cache: dict[Path, TranscriptResult] = {}

    def get(path: Path) -> TranscriptResult:
        if path not in cache:
            cache[path] = transcribe(engine, path)
        return cache[path]

    return get


@pytest.mark.slow
def test_word_error_rate_on_the_lj_speech_clips(
    engine: PocketSphinxEngine, reference_clips: list[Clip]
) -> None:
    clips = [c for c in reference_clips if c.path.name.startswith("LJ")]
    assert len(clips) >= 10
    errors = total = 0
    for clip in clips:
        result = transcribe(engine, clip.path)
        ref = words(clip.reference)
        errors += edit_distance(ref, words(result.text))
        total += len(ref)
    wer = errors / total
    print(f"pocketsphinx WER on {len(clips)} LJ Speech clips: {wer:.3f} ({errors}/{total} words)")
    assert wer <= WER_BAR


# name: (container, suffix, audio codec, sample rate, with a video track)
VARIANTS = {
    "ogg-opus": ("ogg", ".ogg", "libopus", 48000, False),
    "mp3": ("mp3", ".mp3", "libmp3lame", 22050, False),
    "m4a": ("ipod", ".m4a", "aac", 22050, False),
    "webm": ("webm", ".webm", "libopus", 48000, False),
    "flac": ("flac", ".flac", "flac", 22050, False),
    "mp4-video": ("mp4", ".mp4", "aac", 22050, True),
}


def reencode(source: Path, target: Path, container: str, codec: str, rate: int, video: bool) -> None:
    """Write ``source``'s audio to ``target`` with PyAV (at a transparent bit rate), plus video."""
    pcm = read_pcm(source, sample_rate=rate)
    with av.open(str(target), "w", format=container) as out:
        audio: Any = out.add_stream(codec, rate=rate)
        audio.layout = "mono"
        if codec != "flac":
            audio.bit_rate = 96_000 if codec == "libopus" else 192_000
        pictures: Any = out.add_stream("mpeg4", rate=10) if video else None
        if pictures is not None:
            pictures.width, pictures.height, pictures.pix_fmt = 64, 48, "yuv420p"
        sample_format = audio.codec_context.codec.audio_formats[0].name
        resampler = av.AudioResampler(format=sample_format, layout="mono", rate=rate)
        for start in range(0, pcm.size, 4096):
            frame = av.AudioFrame.from_ndarray(pcm[None, start : start + 4096], format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            for piece in resampler.resample(frame):
                out.mux(audio.encode(piece))
        for piece in resampler.resample(None):
            out.mux(audio.encode(piece))
        out.mux(audio.encode(None))
        if pictures is not None:
            for index in range(int(pcm.size / rate * 10) + 1):
                image = np.full((48, 64, 3), index * 7 % 255, dtype=np.uint8)
                picture = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
                picture.pts = index
                out.mux(pictures.encode(picture))
            out.mux(pictures.encode(None))


@pytest.mark.slow
def test_the_same_clip_in_every_container_gives_the_same_text(
    engine: PocketSphinxEngine, shared_audio: Path, tmp_path: Path
) -> None:
    source = shared_audio / "en" / "LJ001-0016.wav"
    expected = transcribe(engine, source).text
    assert len(words(expected)) >= 8
    for name, (container, suffix, codec, rate, video) in VARIANTS.items():
        target = tmp_path / f"clip-{name}{suffix}"
        reencode(source, target, container, codec, rate, video)
        info = probe(target)
        assert info.has_video is video
        assert transcribe(engine, target).text == expected, name


def test_auto_means_english_and_other_languages_are_refused(
    engine: PocketSphinxEngine, shared_audio: Path, plain: Callable[[Path], TranscriptResult]
) -> None:
    clip = shared_audio / "en" / "pisets-test_sound_en.wav"
    result = plain(clip)
    assert (result.language, result.language_probability) == ("en", 1.0)
    assert result.text == transcribe(engine, clip, TranscriptionOptions(language="en")).text
    for options in (TranscriptionOptions(language="ru"), TranscriptionOptions(languages=("ru", "de"))):
        with pytest.raises(UnsupportedLanguage) as info:
            engine.transcribe(iter(()), duration=1.0, options=options)
        assert info.value.code == "unsupported_language"


@pytest.mark.slow
def test_segments_words_and_progress(
    engine: PocketSphinxEngine, shared_audio: Path, plain: Callable[[Path], TranscriptResult]
) -> None:
    path = shared_audio / "en" / "jfk.flac"
    duration = probe(path).duration_seconds
    seen: list[tuple[Segment, float]] = []
    result = transcribe(
        engine,
        path,
        TranscriptionOptions(word_timestamps=True),
        on_segment=lambda segment, fraction: seen.append((segment, fraction)),
    )
    assert len(result.segments) >= 2  # JFK pauses: more than one utterance
    assert [s for s, _ in seen] == list(result.segments)
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[0] > 0 and fractions[-1] <= 1.0
    assert fractions[-1] == pytest.approx(result.segments[-1].end / duration, abs=1e-3)
    previous_end = 0.0
    for segment in result.segments:
        assert previous_end <= segment.start < segment.end <= duration
        assert segment.words and " ".join(w.text for w in segment.words) == segment.text
        for word in segment.words:
            assert segment.start <= word.start < word.end <= segment.end
            assert word.probability is not None and 0.0 <= word.probability <= 1.0
        previous_end = segment.end
    assert plain(path).text == result.text and all(not s.words for s in plain(path).segments)


def test_stereo_call_is_split_by_channel_and_merged_by_time(
    engine: PocketSphinxEngine, shared_audio: Path
) -> None:
    path = shared_audio / "en" / "stereo_diarization.wav"
    assert probe(path).channels == 2
    progress: list[float] = []
    result = transcribe(
        engine,
        path,
        channels="split",
        speaker_labels=("AI", "User"),
        on_segment=lambda s, f: progress.append(f),
    )
    speakers = {s.speaker for s in result.segments}
    assert speakers == {"AI", "User"}
    assert [s.start for s in result.segments] == sorted(s.start for s in result.segments)
    left = " ".join(s.text for s in result.segments if s.speaker == "AI")
    right = " ".join(s.text for s in result.segments if s.speaker == "User")
    # references.tsv: LEFT "He began a confused complaint against the wizard, who had vanished
    # behind the curtain on the left." RIGHT "The horizon seems extremely distant."
    assert {"confused", "complaint", "wizard", "curtain"} <= set(words(left))
    assert "extremely" in words(right) and "curtain" not in words(right)
    assert result.text.splitlines()[0].startswith(("AI: ", "User: "))
    assert progress == sorted(progress) and progress[-1] > 0.5


def test_a_mono_recording_split_in_two_is_not_transcribed_twice(
    engine: PocketSphinxEngine, shared_audio: Path, plain: Callable[[Path], TranscriptResult]
) -> None:
    path = shared_audio / "en" / "pisets-test_sound_en.wav"
    assert probe(path).channels == 1
    result = transcribe(engine, path, channels="split")
    assert result.segments and {s.speaker for s in result.segments} == {"Speaker 1"}
    assert result.text == "Speaker 1: " + plain(path).text


@pytest.mark.parametrize("clip", ["jfk.flac", "LJ001-0014.wav"])
def test_presets_on_real_output_only_ever_remove_words(
    shared_audio: Path, plain: Callable[[Path], TranscriptResult], clip: str
) -> None:
    segments = plain(shared_audio / "en" / clip).segments
    original = words(" ".join(s.text for s in segments))
    for preset in ("verbatim", "remove_fillers", "concise"):
        kept = [s for s in (apply_preset(s, preset) for s in segments) if s is not None]
        edited = words(" ".join(s.text for s in kept))
        iterator = iter(original)
        assert all(word in iterator for word in edited), preset  # an ordered subsequence
        assert not HESITATIONS & set(edited)
        if preset != "concise":
            # PocketSphinx writes no filler words, so nothing real may be touched.
            assert edited == original, preset


@pytest.mark.slow
def test_concurrent_jobs_share_the_engine_and_agree(
    engine: PocketSphinxEngine, shared_audio: Path, plain: Callable[[Path], TranscriptResult]
) -> None:
    names = ("s2p-cancel_all_timers.wav", "pisets-test_sound_en.wav", "s2p-cancel_all_timers.wav")
    paths = [shared_audio / "en" / n for n in names]
    together: dict[int, str] = {}

    def job(index: int) -> None:
        together[index] = transcribe(engine, paths[index]).text

    threads = [threading.Thread(target=job, args=(i,)) for i in range(len(paths))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [together[i] for i in range(len(paths))] == [plain(p).text for p in paths]
