"""espeak-ng for real: every voice and format, distinct voices, speed, stress marks, streaming, and
a round trip through PocketSphinx that must recognize what the English voices say."""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from core.audio.decode import pcm_from_bytes
from core.audio.encode import FORMATS, StreamingEncoder, encode
from tests.conftest import require
from tts.errors import ModelNotAvailable, UnsupportedLanguage
from tts.espeak import EspeakEngine
from tts.stress import ACUTE
from tts.synthesize import synthesize
from tts.voices import VOICE_IDS, get_voice, list_voices

EN_TEXT = "The weather is nice today, and we are going to the park."
RU_TEXT = "Сегодня хорошая погода, и мы идём в парк."


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> EspeakEngine:
    require(shutil.which("espeak-ng") is not None, "espeak-ng is not installed (apt-get install espeak-ng)")
    return EspeakEngine(data_root=tmp_path_factory.mktemp("espeak-data"))


def _audio(engine: EspeakEngine, text: str, **kwargs: object) -> tuple[np.ndarray, int]:
    chunks = list(synthesize(engine, text, **kwargs))  # type: ignore[arg-type]
    assert len({c.sample_rate for c in chunks}) == 1
    return np.concatenate([c.pcm for c in chunks]), chunks[0].sample_rate


def _median_f0(pcm: np.ndarray, rate: int) -> float:
    """Median fundamental frequency of the voiced 40 ms frames (autocorrelation peak)."""
    frame, values = int(0.04 * rate), []
    for start in range(0, pcm.shape[0] - frame, frame // 2):
        x = pcm[start : start + frame] - pcm[start : start + frame].mean()
        if np.sqrt(np.mean(x**2)) < 0.05:
            continue
        ac = np.correlate(x, x, "full")[frame - 1 :]
        low, high = rate // 400, rate // 60
        lag = low + int(np.argmax(ac[low:high]))
        if ac[lag] > 0.4 * ac[0]:
            values.append(rate / lag)
    return float(np.median(values))


@pytest.mark.parametrize("voice", VOICE_IDS)
@pytest.mark.parametrize(("language", "text", "words"), [("en", EN_TEXT, 12), ("ru", RU_TEXT, 8)])
def test_every_voice_speaks_both_languages(
    engine: EspeakEngine, voice: str, language: str, text: str, words: int
) -> None:
    pcm, rate = _audio(engine, text, voice=voice, language=language)
    seconds = pcm.shape[0] / rate
    assert rate == 22050 and pcm.dtype == np.float32
    assert 1.5 <= words / seconds <= 5.0  # people speak roughly 2–4 words a second
    assert 0.1 < np.abs(pcm).max() <= 1.0
    assert np.sqrt(np.mean(pcm**2)) > 0.02  # speech, not near-silence


def test_one_chunk_per_sentence(engine: EspeakEngine) -> None:
    chunks = list(synthesize(engine, "First sentence. Second one is longer than the first! Third?"))
    assert [c.text for c in chunks] == ["First sentence.", "Second one is longer than the first!", "Third?"]
    assert chunks[1].pcm.shape[0] > chunks[0].pcm.shape[0] > chunks[2].pcm.shape[0]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_voices_differ_and_match_their_description(engine: EspeakEngine, language: str) -> None:
    text = EN_TEXT if language == "en" else RU_TEXT
    f0 = {v: _median_f0(*_audio(engine, text, voice=v, language=language)) for v in VOICE_IDS}
    ranked = sorted(f0.values())
    assert all(b / a > 1.03 for a, b in itertools.pairwise(ranked)), f0  # all distinct
    female = [f0[v.id] for v in list_voices() if v.gender == "female"]
    male = [f0[v.id] for v in list_voices() if v.gender == "male"]
    assert min(female) > max(male), f0
    assert min(f0, key=f0.__getitem__) == "onyx"  # "deep, low male voice"


def test_speed(engine: EspeakEngine) -> None:
    normal = _audio(engine, EN_TEXT, speed=1.0)[0].shape[0]
    fast = _audio(engine, EN_TEXT, speed=2.0)[0].shape[0]
    slow = _audio(engine, EN_TEXT, speed=0.5)[0].shape[0]
    assert 0.4 < fast / normal < 0.7
    assert 1.5 < slow / normal < 2.5


def test_russian_stress_marks_change_the_pronunciation(engine: EspeakEngine) -> None:
    castle = _audio(engine, f"Это за{ACUTE}мок.", voice="ash")[0]
    lock = _audio(engine, f"Это замо{ACUTE}к.", voice="ash")[0]
    unmarked = _audio(engine, "Это замок.", voice="ash")[0]
    assert not np.array_equal(castle, lock)
    # espeak-ng's dictionary says замо́к; marking the other syllable is what changes the sound.
    assert castle.shape != unmarked.shape or not np.allclose(castle, unmarked)


def test_stress_marks_in_english_are_ignored(engine: EspeakEngine) -> None:
    # "é" is a letter in English text (café), so compare a mark on a consonant, which means nothing.
    marked = _audio(engine, f"Hello wor{ACUTE}ld.", language="en")[0]
    plain = _audio(engine, "Hello world.", language="en")[0]
    assert np.array_equal(marked, plain)


def test_phoneme_brackets_in_user_text_stay_text(engine: EspeakEngine) -> None:
    bracketed = _audio(engine, "Say [[h@'loU]] now.", language="en")[0]
    as_phonemes_would_be = _audio(engine, "Say hello now.", language="en")[0]
    assert bracketed.shape[0] > as_phonemes_would_be.shape[0]  # the symbols are read out, not obeyed


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_decodes_to_the_same_duration(engine: EspeakEngine, fmt: str) -> None:
    pcm, rate = _audio(engine, "Every format should carry this sentence.", voice="nova")
    data = encode(pcm, rate, fmt)
    if fmt == "pcm":
        decoded = np.frombuffer(data, dtype="<i2")
        assert decoded.shape[0] == pcm.shape[0]
        return
    decoded = pcm_from_bytes(data, sample_rate=16000)
    assert decoded.shape[0] / 16000 == pytest.approx(pcm.shape[0] / rate, abs=0.08)
    assert np.abs(decoded).max() > 0.1


@pytest.mark.parametrize("fmt", ["mp3", "opus"])
def test_streaming_encoder_sends_bytes_before_the_text_is_synthesized(engine: EspeakEngine, fmt: str) -> None:
    text = "This is the first sentence. Here is a second one. And a third to finish."
    chunks = synthesize(engine, text, voice="echo")
    first = next(chunks)  # only the first sentence has been synthesized so far (a lazy generator)
    with StreamingEncoder(fmt, first.sample_rate) as encoder:
        early = encoder.feed(first.pcm)
        assert len(early) > 0, "the first sentence must leave the encoder at once"
        rest = [encoder.feed(c.pcm) for c in chunks]
        tail = encoder.close()
    total = sum(len(part) for part in [early, *rest, tail])
    assert total > len(early)
    audio = pcm_from_bytes(early + b"".join(rest) + tail)
    assert encoder.duration_seconds == pytest.approx(audio.shape[0] / 16000, abs=0.1)


def test_the_voice_folder_is_built_once_and_shared(engine: EspeakEngine) -> None:
    list(engine.synthesize("Hi.", voice="alloy", language="en"))
    (built,) = [p for p in engine.data_root.iterdir() if not p.name.startswith(".")]
    variants = built / "espeak-ng-data" / "voices" / "!v"
    assert {f"nagovori_{v}" for v in VOICE_IDS} <= {p.name for p in variants.iterdir()}
    assert (variants / "f2").is_symlink()  # espeak-ng's own variants stay available
    again = EspeakEngine(data_root=engine.data_root)  # e.g. the next process
    list(again.synthesize("Hi.", voice="alloy", language="en"))
    assert [p for p in engine.data_root.iterdir()] == [built]  # reused, no scratch folders left


def test_missing_program_names_the_package(tmp_path: Path) -> None:
    engine = EspeakEngine("espeak-ng-not-installed")
    assert engine.version() is None
    with pytest.raises(ModelNotAvailable) as caught:
        list(engine.synthesize("Hello.", voice="alloy", language="en"))
    assert "apt-get install espeak-ng" in caught.value.message


def test_only_russian_and_english(engine: EspeakEngine) -> None:
    with pytest.raises(UnsupportedLanguage):
        list(engine.synthesize("Hallo.", voice="alloy", language="de"))


# --- Round trip through PocketSphinx ------------------------------------------------------------

ROUND_TRIP = ("Please call me back when you get home tonight.", "The meeting starts at ten in the morning.")
MAX_VOICE_WER = 0.35  # measured 0.0–0.24 per voice on these sentences
MAX_MEAN_WER = 0.2  # measured 0.03; espeak-ng's stock en-us voice scores 0.82 on the same sentences


def _recognizer() -> Callable[[np.ndarray], str]:
    """PocketSphinx through the platform's ASR engine when it is there, else directly."""
    try:
        from asr.base import TranscriptionOptions
        from asr.engines.pocketsphinx import PocketSphinxEngine
    except ImportError:
        from pocketsphinx import Decoder

        def direct(pcm16k: np.ndarray) -> str:
            decoder = Decoder(samprate=16000, loglevel="FATAL")
            decoder.start_utt()
            decoder.process_raw((np.clip(pcm16k, -1, 1) * 32767).astype("<i2").tobytes(), full_utt=True)
            decoder.end_utt()
            return decoder.hyp().hypstr if decoder.hyp() else ""

        return direct
    asr = PocketSphinxEngine()

    def via_engine(pcm16k: np.ndarray) -> str:
        options = TranscriptionOptions(language="en")
        _, segments = asr.transcribe([pcm16k], duration=pcm16k.shape[0] / 16000, options=options)
        return " ".join(s.text for s in segments)

    return via_engine


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def _errors(reference: list[str], hypothesis: list[str]) -> int:
    d = np.arange(len(hypothesis) + 1)
    for i, ref in enumerate(reference, 1):
        prev, d[0] = d.copy(), i
        for j, hyp in enumerate(hypothesis, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (ref != hyp))
    return int(d[-1])


@pytest.mark.slow
def test_pocketsphinx_recognizes_every_english_voice(engine: EspeakEngine) -> None:
    recognize = _recognizer()

    def voice_wer(voice: str) -> float:
        errors = words = 0
        for sentence in ROUND_TRIP:
            pcm, rate = _audio(engine, sentence, voice=voice, language="en")
            heard = recognize(pcm_from_bytes(encode(pcm, rate, "wav"), sample_rate=16000))
            errors += _errors(_words(sentence), _words(heard))
            words += len(_words(sentence))
        return errors / words

    with ThreadPoolExecutor(max_workers=2) as pool:
        wer = dict(zip(VOICE_IDS, pool.map(voice_wer, VOICE_IDS), strict=True))
    assert all(w <= MAX_VOICE_WER for w in wer.values()), wer
    assert sum(wer.values()) / len(wer) <= MAX_MEAN_WER, wer
    assert {get_voice(v).speaker("espeak", "en") for v in wer} == {f"en-us+nagovori_{v}" for v in VOICE_IDS}
