"""Silero's real loading path (``torch.package``) on a tiny model with Silero's interface.

The model (``tests.tts_models``) spells back what it was asked to say, so these tests check the
exact text the engine sent (stress as ``+``, numbers as words), the speaker, the flags, the SSML
rate and pitch — through the same ``PackageImporter(...).load_pickle("tts_models", "model")`` that
loads Silero's own files.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.tts_models import CIS_SPEAKERS, EN_SPEAKERS, RU_SPEAKERS, decode, install, tiny_silero
from tts.errors import EngineFailure, ModelNotAvailable, TextEmpty, UnsupportedLanguage
from tts.silero import SileroEngine, load_silero_package
from tts.silero_catalog import SileroModelFile, configured_files, resolve
from tts.stress import ACUTE
from tts.synthesize import synthesize
from tts.text import split_sentences
from tts.voices import VOICE_IDS, get_voice


@pytest.fixture
def models_dir(tmp_path: Path, test_cache: Path) -> Path:
    """A models folder holding tiny Russian (v4_ru) and English (v3_en) models."""
    folder = tmp_path / "models"
    install(test_cache, folder, "v4_ru", RU_SPEAKERS)
    install(test_cache, folder, "v3_en", EN_SPEAKERS)
    return folder


@pytest.fixture
def engine(models_dir: Path) -> SileroEngine:
    return SileroEngine(lambda: resolve(models_dir))


def _say(engine: SileroEngine, text: str, **kwargs: Any) -> list[Any]:
    kwargs.setdefault("voice", "alloy")
    return list(synthesize(engine, text, **kwargs))


def test_the_package_loads_with_silero_interface(test_cache: Path) -> None:
    model = load_silero_package(tiny_silero(test_cache, "v4_ru", RU_SPEAKERS))
    assert model.speakers == list(RU_SPEAKERS)
    audio = model.apply_tts(text="привет", speaker="xenia", sample_rate=48000, put_accent=True, put_yo=True)
    assert audio.ndim == 1 and audio.dtype.is_floating_point
    assert decode(audio.numpy(), 48000).text == "привет"


def test_russian_stress_marks_reach_silero_as_plus(engine: SileroEngine) -> None:
    text = f"Старый за{ACUTE}мок. Новый замо{ACUTE}к."
    decoded = [decode(c.pcm, c.sample_rate) for c in _say(engine, text)]
    assert [d.text for d in decoded] == ["старый з+амок.", "новый зам+ок."]
    assert all(d.put_accent and d.put_yo for d in decoded)  # automatic stress and ё stay on


def test_silero_style_plus_input_is_honoured_too(engine: SileroEngine) -> None:
    (chunk,) = _say(engine, "Зам+ок.")
    assert decode(chunk.pcm, chunk.sample_rate).text == "зам+ок."


def test_numbers_are_read_as_words(engine: SileroEngine) -> None:
    (ru,) = _say(engine, "Мне 21 год, а скидка 5%.")
    assert decode(ru.pcm, ru.sample_rate).text == "мне двадцать один год, а скидка пять процентов."
    (en,) = _say(engine, "I have 3 cats.")
    assert decode(en.pcm, en.sample_rate).text == "i have three cats."


def test_language_chooses_the_model(engine: SileroEngine) -> None:
    (en,) = _say(engine, "Hello there.")
    decoded = decode(en.pcm, en.sample_rate)
    assert decoded.text == "hello there."
    assert EN_SPEAKERS[decoded.speaker_index] == get_voice("alloy").speaker("silero", "en")
    (ru,) = _say(engine, "Привет.")
    assert RU_SPEAKERS[decode(ru.pcm, ru.sample_rate).speaker_index] == "xenia"


def test_one_chunk_per_sentence_in_order(engine: SileroEngine) -> None:
    text = "Первое предложение. Второе, гораздо более длинное! А третье? Да."
    chunks = _say(engine, text)
    assert [c.text for c in chunks] == split_sentences(text, "ru")
    lengths = [c.pcm.shape[0] for c in chunks]
    assert lengths[1] > lengths[0] > lengths[3]  # longer text, longer audio
    assert all(c.sample_rate == 48000 and c.pcm.dtype == np.float32 for c in chunks)
    assert all(np.abs(c.pcm).max() <= 1.0 for c in chunks)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_voice_is_a_different_speaker_or_pitch(engine: SileroEngine, language: str) -> None:
    text = "Проверка голоса." if language == "ru" else "Voice check."
    seen = set()
    for voice in VOICE_IDS:
        (chunk,) = _say(engine, text, voice=voice)
        decoded = decode(chunk.pcm, chunk.sample_rate)
        seen.add((decoded.speaker_index, round(decoded.frequency)))
    assert len(seen) == len(VOICE_IDS)


def test_pitch_variants_are_lower(engine: SileroEngine) -> None:
    # onyx is eugene at a low pitch, echo is eugene as he is.
    (onyx,) = _say(engine, "Низкий голос.", voice="onyx")
    (echo,) = _say(engine, "Низкий голос.", voice="echo")
    low, plain = decode(onyx.pcm, onyx.sample_rate), decode(echo.pcm, echo.sample_rate)
    assert low.speaker_index == plain.speaker_index == RU_SPEAKERS.index("eugene")
    assert low.frequency == pytest.approx(plain.frequency * 0.8, rel=0.05)
    assert low.text == plain.text == "низкий голос."


@pytest.mark.parametrize(("speed", "rate"), [(0.5, "x-slow"), (0.8, "slow"), (1.3, "fast"), (2.0, "x-fast")])
def test_speed_becomes_silero_ssml_rate(engine: SileroEngine, speed: float, rate: str) -> None:
    (normal,) = _say(engine, "Скорость речи.")
    (chunk,) = _say(engine, "Скорость речи.", speed=speed)
    decoded = decode(chunk.pcm, chunk.sample_rate, rate)
    assert decoded.text == "скорость речи."
    assert chunk.pcm.shape[0] != normal.pcm.shape[0]
    assert (chunk.pcm.shape[0] < normal.pcm.shape[0]) == (speed > 1)


def test_ssml_special_characters_are_escaped(engine: SileroEngine) -> None:
    (chunk,) = _say(engine, "Том & Джерри <3.", speed=2.0)
    assert decode(chunk.pcm, chunk.sample_rate, "x-fast").text == "том  джерри три."


def test_other_sample_rates(models_dir: Path) -> None:
    engine = SileroEngine(resolve(models_dir), sample_rate=24000)
    (chunk,) = _say(engine, "Привет.")
    assert chunk.sample_rate == 24000
    assert decode(chunk.pcm, 24000).text == "привет."
    with pytest.raises(ValueError):
        SileroEngine(resolve(models_dir), sample_rate=44100)


def test_sentences_without_the_models_letters_are_skipped(engine: SileroEngine) -> None:
    chunks = _say(engine, "Привет. OK. Пока.", language="ru")
    assert [c.text for c in chunks] == ["Привет.", "Пока."]


def test_a_model_with_other_speaker_names_still_gives_distinct_voices(
    tmp_path: Path, test_cache: Path
) -> None:
    # v5_cis_base names its Russian speakers ru_aigul, ru_alexandr, …
    path = install(test_cache, tmp_path / "models", "v5_cis_base", CIS_SPEAKERS)
    engine = SileroEngine({"ru": SileroModelFile("v5_cis_base", path, ("ru",))})
    used = []
    for voice in VOICE_IDS:
        (chunk,) = _say(engine, "Привет.", voice=voice)
        used.append(CIS_SPEAKERS[decode(chunk.pcm, chunk.sample_rate).speaker_index])
    assert all(s.startswith("ru_") for s in used)
    assert used[:4] == ["ru_aigul", "ru_alexandr", "ru_dmitriy", "ru_zhadyra"]


class TestLoading:
    def test_loads_once_and_is_shared_by_threads(self, models_dir: Path) -> None:
        loads: list[Path] = []

        def counting_loader(path: Path) -> Any:
            loads.append(path)
            return load_silero_package(path)

        engine = SileroEngine(resolve(models_dir), loader=counting_loader)
        results: list[str] = []
        errors: list[BaseException] = []

        def work() -> None:
            try:
                (chunk,) = _say(engine, "Параллельно.")
                results.append(decode(chunk.pcm, chunk.sample_rate).text)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert results == ["параллельно."] * 6
        _say(engine, "Ещё раз.")
        _say(engine, "And English.")
        assert loads == [models_dir / "silero" / "v4_ru.pt", models_dir / "silero" / "v3_en.pt"]
        assert engine.is_loaded(models_dir / "silero" / "v4_ru.pt")

    def test_missing_model_names_the_settings_to_fix(self, tmp_path: Path) -> None:
        engine = SileroEngine(lambda: resolve(tmp_path / "empty"))
        chunks = synthesize(engine, "Привет.")  # validation passed; the model loads on first use
        with pytest.raises(ModelNotAvailable) as caught:
            next(chunks)
        message = caught.value.message
        assert "NAGOVORI_SILERO_MODEL" in message and "NAGOVORI_MODELS_DIR" in message
        assert "nagovori models pull silero-v5_ru" in message
        assert caught.value.code == "model_not_available"

    def test_a_model_downloaded_after_start_is_found(self, tmp_path: Path, test_cache: Path) -> None:
        folder = tmp_path / "models"
        engine = SileroEngine(lambda: resolve(folder))
        with pytest.raises(ModelNotAvailable):
            _say(engine, "Привет.")
        install(test_cache, folder, "v4_ru", RU_SPEAKERS)
        assert len(_say(engine, "Привет.")) == 1

    @pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x05\x06" + b"\x00" * 18])
    def test_a_damaged_file_is_reported(self, tmp_path: Path, content: bytes) -> None:
        path = tmp_path / "silero" / "v4_ru.pt"
        path.parent.mkdir()
        path.write_bytes(content)
        engine = SileroEngine({"ru": SileroModelFile("v4_ru", path, ("ru",))})
        with pytest.raises(ModelNotAvailable) as caught:
            _say(engine, "Привет.")
        assert caught.value.details["reason"] == "damaged"

    def test_a_language_without_a_model(self, models_dir: Path) -> None:
        engine = SileroEngine({"ru": resolve(models_dir)["ru"]})
        with pytest.raises(UnsupportedLanguage):
            _say(engine, "Hello.")

    def test_validation_comes_before_loading(self, tmp_path: Path) -> None:
        engine = SileroEngine(lambda: resolve(tmp_path / "empty"))
        with pytest.raises(TextEmpty):
            synthesize(engine, "   ")

    def test_a_failing_model_call_is_an_engine_failure(self, models_dir: Path) -> None:
        def broken_loader(path: Path) -> Any:
            model = load_silero_package(path)
            model.speakers = []  # it no longer lists, nor accepts, any speaker
            return model

        engine = SileroEngine(resolve(models_dir), loader=broken_loader)
        with pytest.raises(EngineFailure) as caught:
            _say(engine, "Привет.")
        assert "Silero failed" in caught.value.message
        assert "Speaker not in the supported list" in caught.value.message


class TestResolution:
    def _touch(self, folder: Path, *names: str) -> None:
        (folder / "silero").mkdir(parents=True, exist_ok=True)
        for name in names:
            (folder / "silero" / name).write_bytes(b"")

    def test_newest_present_model_serves_each_language(self, tmp_path: Path) -> None:
        self._touch(tmp_path, "v4_ru.pt", "v3_1_ru.pt")
        chosen = resolve(tmp_path)
        assert chosen["ru"].model_id == "v4_ru"
        self._touch(tmp_path, "v5_ru.pt")
        assert resolve(tmp_path)["ru"].model_id == "v5_ru"
        assert resolve(tmp_path)["en"].model_id == "v3_en" and not resolve(tmp_path)["en"].present

    def test_configured_id_path_and_list(self, tmp_path: Path) -> None:
        self._touch(tmp_path, "v5_ru.pt", "v4_ru.pt")
        custom = tmp_path / "elsewhere" / "my_en.pt"
        custom.parent.mkdir()
        custom.write_bytes(b"")
        chosen = resolve(tmp_path, f"v4_ru, {custom}")
        assert chosen["ru"].model_id == "v4_ru" and chosen["ru"].configured
        assert chosen["en"].path == custom and chosen["en"].languages == ("en",)

    def test_configured_model_covers_only_its_languages(self, tmp_path: Path) -> None:
        self._touch(tmp_path, "v3_en.pt")
        chosen = resolve(tmp_path, "silero-v5_cis_base")
        assert chosen["ru"].model_id == "v5_cis_base" and chosen["ru"].licence == "MIT"
        assert chosen["en"].model_id == "v3_en" and not chosen["en"].configured

    def test_relative_paths_are_looked_up_in_the_models_folder(self, tmp_path: Path) -> None:
        self._touch(tmp_path, "custom_ru.pt")
        (file,) = configured_files(tmp_path, "custom_ru.pt")
        assert file.path == tmp_path / "silero" / "custom_ru.pt" and file.present

    def test_configured_missing_file_is_named_in_the_error(self, tmp_path: Path) -> None:
        engine = SileroEngine(lambda: resolve(tmp_path, "/nowhere/model_ru.pt"))
        with pytest.raises(ModelNotAvailable) as caught:
            _say(engine, "Привет.")
        assert "NAGOVORI_SILERO_MODEL points at /nowhere/model_ru.pt" in caught.value.message
