"""The ASR package's values, errors, stream helpers and boundaries."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from asr.audio import frames, pause_blocks, to_pcm16
from asr.base import SAMPLE_RATE, TranscriptionOptions
from asr.engines._common import single_language
from asr.engines.vosk import segment_from_result
from asr.errors import (
    AsrError,
    EngineFailure,
    InvalidOption,
    ModelNotAvailable,
    UnknownModel,
    UnsupportedLanguage,
)


def test_options_are_normalized_and_validated() -> None:
    options = TranscriptionOptions(language=" EN ", languages=("RU", "en", "ru"), terms=(" ComfyUI ", ""))
    assert options.language == "en"
    assert options.languages == ("ru", "en")
    assert options.terms == ("ComfyUI",)
    for bad in (
        {"preset": "fancy"},
        {"task": "summarize"},
        {"language": "english"},
        {"languages": ("en", "e1")},
    ):
        with pytest.raises(InvalidOption):
            TranscriptionOptions(**bad)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UnsupportedLanguage, "unsupported_language"),
        (UnknownModel, "unknown_model"),
        (ModelNotAvailable, "model_not_available"),
        (EngineFailure, "engine_failure"),
        (InvalidOption, "invalid_option"),
    ],
)
def test_errors_share_the_core_shape(error: type[AsrError], code: str) -> None:
    exc = error("Something specific.", model="m", setting="NAGOVORI_X")
    assert isinstance(exc, AsrError)
    assert exc.code == code
    assert exc.message == "Something specific." == str(exc)
    assert exc.details == {"model": "m", "setting": "NAGOVORI_X"}
    assert exc.to_dict() == {
        "code": code,
        "message": "Something specific.",
        "model": "m",
        "setting": "NAGOVORI_X",
    }
    assert error().message == error.default_message


def test_frames_recut_a_stream_exactly() -> None:
    chunks = [np.arange(n, dtype=np.float32) for n in (7, 1, 30, 0, 12)]
    out = list(frames(chunks, 16))
    assert [f.size for f in out] == [16, 16, 16, 2]
    assert np.array_equal(np.concatenate(out), np.concatenate(chunks))
    with pytest.raises(InvalidOption):
        list(frames([np.zeros((2, 5), dtype=np.float32)], 4))


def test_pcm16_clips_and_scales() -> None:
    data = to_pcm16(np.array([0.0, 0.5, -1.0, 2.0], dtype=np.float32))
    assert np.frombuffer(data, "<i2").tolist() == [0, 16384, -32767, 32767]


def test_pause_blocks_cut_in_the_quiet_and_lose_nothing() -> None:
    rng = np.random.default_rng(0)
    signal = rng.uniform(-0.5, 0.5, 25 * SAMPLE_RATE).astype(np.float32)
    quiet = slice(int(9.2 * SAMPLE_RATE), int(9.6 * SAMPLE_RATE))
    signal[quiet] = 0.0
    chunks = np.array_split(signal, 37)
    blocks = list(pause_blocks(chunks, block_seconds=10.0, search_seconds=2.0))
    assert len(blocks) >= 2
    first_offset, first = blocks[0]
    assert first_offset == 0.0
    assert quiet.start <= first.size <= quiet.stop  # the cut falls in the silent stretch
    assert blocks[1][0] == pytest.approx(first.size / SAMPLE_RATE)
    assert np.array_equal(np.concatenate([b for _, b in blocks]), signal)


def test_single_language_engines() -> None:
    assert single_language("vosk", "vosk-ru", "ru", TranscriptionOptions()) == "ru"
    assert single_language("vosk", "vosk-ru", "ru", TranscriptionOptions(language="ru")) == "ru"
    assert single_language("vosk", "vosk-x", None, TranscriptionOptions(language="de")) == "de"
    with pytest.raises(UnsupportedLanguage) as info:
        single_language("vosk", "vosk-ru", "ru", TranscriptionOptions(language="en"))
    assert info.value.details["supported"] == ["ru"]
    with pytest.raises(UnsupportedLanguage):
        single_language("vosk", "vosk-ru", "ru", TranscriptionOptions(languages=("en", "de")))
    with pytest.raises(UnsupportedLanguage):
        single_language("vosk", "vosk-ru", "ru", TranscriptionOptions(task="translate"))
    assert (
        single_language("pocketsphinx", "pocketsphinx-en", "en", TranscriptionOptions(task="translate"))
        == "en"
    )


def test_vosk_results_become_segments() -> None:
    # The JSON KaldiRecognizer.Result() returns when words are on (vosk-api/python/example).
    result = json.loads(
        '{"result": [{"conf": 1.0, "end": 1.02, "start": 0.6, "word": "one"},'
        ' {"conf": 0.75, "end": 1.5, "start": 1.02, "word": "zero"}], "text": "one zero"}'
    )
    segment = segment_from_result(result, with_words=True)
    assert segment is not None
    assert (segment.start, segment.end, segment.text) == (0.6, 1.5, "one zero")
    assert [(w.text, w.probability) for w in segment.words] == [("one", 1.0), ("zero", 0.75)]
    bare = segment_from_result(result, with_words=False)
    assert bare is not None and bare.words == ()
    assert segment_from_result({"text": ""}, with_words=True) is None


def test_asr_imports_nothing_of_the_platform_and_no_engine_at_import() -> None:
    code = (
        "import sys, asr, asr.registry, asr.transcribe, asr.formats, asr.loaders, asr.engines.whisper, "
        "asr.engines.vosk, asr.engines.pocketsphinx; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'core', 'api', 'bots', 'billing', 'faster_whisper', 'ctranslate2', 'vosk', 'pocketsphinx'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
