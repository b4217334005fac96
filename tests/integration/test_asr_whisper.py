"""faster-whisper for real, on a tiny random-weight Whisper built in the real CTranslate2 format.

Its words are gibberish by construction, so these tests check structure — loading through the
registry, once per process; segments on the stream's clock; progress; word times; the language
allow-list; translation; blocks of a long stream; no text over silence — never the words.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import asr.engines.whisper as whisper_module
from asr.base import SAMPLE_RATE, Segment, TranscriptionOptions
from asr.catalog import WHISPER_LANGUAGES
from asr.engines.whisper import WhisperEngine
from asr.errors import UnsupportedLanguage
from asr.registry import AsrConfig, AsrEngines
from asr.transcribe import TranscriptResult, transcribe_audio
from core.audio import decode_pcm, probe, read_pcm
from tests.asr_models import BUILD_VERSION, tiny_whisper
from tests.conftest import require


@pytest.fixture(scope="module")
def model_dir(test_cache: Path) -> Path:
    cached = test_cache / f"whisper-tiny-random-v{BUILD_VERSION}" / "model.bin"
    require(
        cached.is_file() or importlib.util.find_spec("transformers") is not None,
        "building the tiny Whisper needs `transformers` (pip install transformers)",
    )
    return tiny_whisper(test_cache)


@pytest.fixture(scope="module")
def engines(model_dir: Path) -> AsrEngines:
    return AsrEngines(
        AsrConfig(models_dir=model_dir.parent, whisper_model=str(model_dir), allow_downloads=False)
    )


@pytest.fixture(scope="module")
def engine(engines: AsrEngines) -> WhisperEngine:
    loaded = engines.get("whisper")
    assert isinstance(loaded, WhisperEngine)
    return loaded


def transcribe(engine: Any, path: Path, options: TranscriptionOptions, **kwargs: Any) -> TranscriptResult:
    duration = probe(path).duration_seconds
    return transcribe_audio(
        engine,
        lambda channels: decode_pcm(path, channels=channels),
        duration=duration,
        options=options,
        **kwargs,
    )


def assert_well_formed(segments: tuple[Segment, ...] | list[Segment], duration: float) -> None:
    starts = [s.start for s in segments]
    assert starts == sorted(starts)
    for segment in segments:
        assert 0.0 <= segment.start <= segment.end <= duration + 1e-6
        assert segment.text and segment.text == segment.text.strip()


def test_the_model_is_a_real_multilingual_ctranslate2_whisper(model_dir: Path, engine: WhisperEngine) -> None:
    assert {p.name for p in model_dir.iterdir()} >= {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.json",
    }
    assert engine.multilingual
    assert set(engine.languages) <= set(WHISPER_LANGUAGES) and {"en", "ru"} <= set(engine.languages)
    assert engine.model_id == f"whisper-tiny-random-v{BUILD_VERSION}"


def test_one_load_serves_many_jobs(
    model_dir: Path, shared_audio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faster_whisper

    real = faster_whisper.WhisperModel
    loads: list[str] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        loads.append(str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(faster_whisper, "WhisperModel", counting)
    engines = AsrEngines(
        AsrConfig(
            models_dir=model_dir.parent, whisper_model=f"tiny-random-v{BUILD_VERSION}", allow_downloads=False
        )
    )
    model_id = f"whisper-tiny-random-v{BUILD_VERSION}"
    got: list[Any] = []
    results: list[TranscriptResult] = []
    clip = shared_audio / "en" / "LJ001-0002.wav"

    def job() -> None:
        engine = engines.get(model_id)
        got.append(engine)
        results.append(transcribe(engine, clip, TranscriptionOptions(language="en")))

    threads = [threading.Thread(target=job) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and Path(loads[0]) == model_dir
    assert len(got) == 3 and all(e is got[0] for e in got)
    assert engines.get("whisper") is got[0]  # the engine name means the configured model
    assert engines.loaded() == [model_id]
    assert len({r.text for r in results}) == 1 and results[0].segments  # same audio, same output


def test_segments_progress_and_word_times(engine: WhisperEngine, shared_audio: Path) -> None:
    path = shared_audio / "en" / "LJ001-0002.wav"
    duration = probe(path).duration_seconds
    progress: list[float] = []
    result = transcribe(
        engine,
        path,
        TranscriptionOptions(language="en", word_timestamps=True),
        on_segment=lambda s, f: progress.append(f),
    )
    assert result.language == "en" and result.language_probability == 1.0
    assert result.duration == duration
    assert result.segments
    assert_well_formed(result.segments, duration)
    assert progress == sorted(progress) and len(progress) == len(result.segments)
    assert 0 < progress[-1] <= 1.0
    for segment in result.segments:
        assert segment.words
        for word in segment.words:
            assert 0.0 <= word.start <= word.end <= duration + 1e-6
            assert word.probability is not None and 0.0 <= word.probability <= 1.0
    assert result.text == " ".join(s.text for s in result.segments)


def test_language_detection_respects_the_allow_list(engine: WhisperEngine, shared_audio: Path) -> None:
    path = shared_audio / "ru" / "pisets-test_sound_ru.wav"
    free = transcribe(engine, path, TranscriptionOptions())
    assert free.language in WHISPER_LANGUAGES and 0.0 < free.language_probability <= 1.0
    for allowed in (("en", "ru"), ("de",)):
        result = transcribe(engine, path, TranscriptionOptions(languages=allowed))
        assert result.language in allowed
        assert 0.0 < result.language_probability <= 1.0
    with pytest.raises(UnsupportedLanguage):
        engine.transcribe(iter(()), duration=1.0, options=TranscriptionOptions(language="qq"))


def test_translation_and_prompts_run(engine: WhisperEngine, shared_audio: Path) -> None:
    path = shared_audio / "ru" / "s2p-ru-01.wav"
    options = TranscriptionOptions(
        language="ru", task="translate", preset="verbatim", prompt="Погода.", terms=("Москва",)
    )
    result = transcribe(engine, path, options)
    assert result.language == "ru"
    assert_well_formed(result.segments, result.duration)


def test_no_text_is_invented_over_silence(engine: WhisperEngine) -> None:
    silence = [np.zeros(SAMPLE_RATE * 5, dtype=np.float32), np.zeros(SAMPLE_RATE * 3, dtype=np.float32)]
    info, segments = engine.transcribe(iter(silence), duration=8.0, options=TranscriptionOptions())
    assert list(segments) == []
    assert info.language_probability == 0.0  # nothing to detect a language from


def test_a_long_stream_is_recognized_block_by_block(
    engine: WhisperEngine, shared_audio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clips = [shared_audio / "en" / n for n in ("LJ001-0002.wav", "LJ001-0008.wav", "LJ001-0013.wav")]
    pcm = np.concatenate(
        [np.concatenate([read_pcm(c), np.zeros(SAMPLE_RATE // 2, np.float32)]) for c in clips]
    )
    duration = pcm.size / SAMPLE_RATE
    monkeypatch.setattr(whisper_module, "BLOCK_SECONDS", 2.5)  # three clips: at least two blocks
    handed_out: list[int] = []

    def stream() -> Any:
        for chunk in np.array_split(pcm, 20):
            handed_out.append(chunk.size)
            yield chunk

    _info, segments = engine.transcribe(
        stream(), duration=duration, options=TranscriptionOptions(language="en")
    )
    first = next(segments)
    assert sum(handed_out) < pcm.size  # the first segment came before the stream was read to the end
    rest = list(segments)
    assert sum(handed_out) == pcm.size
    assert_well_formed([first, *rest], duration)
    assert any(s.start >= 2.5 for s in rest)  # later blocks are placed on the stream's clock
