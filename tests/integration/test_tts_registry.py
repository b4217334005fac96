"""``TtsEngines``: one engine per name per process, the default's fallback, and the model listing."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from tests.conftest import require
from tests.tts_models import EN_SPEAKERS, RU_SPEAKERS, decode, install
from tts.errors import UnknownEngine
from tts.espeak import EspeakEngine
from tts.registry import ModelStatus, TtsConfig, TtsEngines
from tts.silero import SileroEngine
from tts.synthesize import synthesize

HAS_ESPEAK = shutil.which("espeak-ng") is not None


def _engines(models_dir: Path, **kwargs: str) -> TtsEngines:
    return TtsEngines(TtsConfig(models_dir=models_dir, **kwargs))  # type: ignore[arg-type]


def test_engines_are_built_once_even_when_threads_race(tmp_path: Path) -> None:
    engines = _engines(tmp_path, default_engine="espeak")
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(engines.get("espeak"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and all(g is got[0] for g in got)
    assert engines.get() is got[0] and engines.get("espeak-ng") is got[0]


def test_names_and_model_ids(tmp_path: Path, test_cache: Path) -> None:
    install(test_cache, tmp_path, "v4_ru", RU_SPEAKERS)
    engines = _engines(tmp_path)
    assert isinstance(engines.get(), SileroEngine)
    assert isinstance(engines.get("silero"), SileroEngine)
    assert isinstance(engines.get("espeak"), EspeakEngine)
    pinned = engines.get("silero-v4_ru")
    assert isinstance(pinned, SileroEngine) and pinned is not engines.get("silero")
    assert pinned.languages == ("ru",)


def test_a_model_id_pins_that_model(tmp_path: Path, test_cache: Path) -> None:
    install(test_cache, tmp_path, "v5_ru", RU_SPEAKERS[:3])  # preferred by default …
    install(test_cache, tmp_path, "v4_ru", RU_SPEAKERS)  # … but this one is asked for by id
    engines = _engines(tmp_path)
    (default,) = synthesize(engines.get(), "Привет.", voice="nova")
    (pinned,) = synthesize(engines.get("silero-v4_ru"), "Привет.", voice="alloy")
    assert decode(default.pcm, default.sample_rate).speaker_index == RU_SPEAKERS[:3].index("baya")
    assert RU_SPEAKERS[decode(pinned.pcm, pinned.sample_rate).speaker_index] == "xenia"


@pytest.mark.parametrize("name", ["bogus", "silero-v9_xx", "whisper"])
def test_unknown_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnknownEngine) as caught:
        _engines(tmp_path).get(name)
    assert "espeak" in caught.value.details["allowed"]


def test_unknown_default_engine_is_refused_at_construction(tmp_path: Path) -> None:
    with pytest.raises(UnknownEngine):
        _engines(tmp_path, default_engine="festival")


def test_default_silero_without_any_model_speaks_with_espeak(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engines = _engines(tmp_path / "no-models")
    assert engines.default_name() == "espeak"
    assert isinstance(engines.get(), EspeakEngine)
    assert "no Silero model" in caplog.text
    assert isinstance(engines.get("silero"), SileroEngine)  # by name it is still Silero


def test_default_switches_back_to_silero_once_a_model_arrives(tmp_path: Path, test_cache: Path) -> None:
    engines = _engines(tmp_path)
    assert engines.default_name() == "espeak"
    install(test_cache, tmp_path, "v3_en", EN_SPEAKERS)
    assert engines.default_name() == "silero"
    assert isinstance(engines.get(), SileroEngine)


class TestModels:
    def _by_id(self, rows: list[ModelStatus]) -> dict[str, ModelStatus]:
        return {r.model_id: r for r in rows}

    def test_lists_espeak_and_every_silero_model(self, tmp_path: Path, test_cache: Path) -> None:
        require(HAS_ESPEAK, "espeak-ng is not installed")
        install(test_cache, tmp_path, "v4_ru", RU_SPEAKERS)
        rows = self._by_id(_engines(tmp_path).models())
        assert {
            "espeak-ng",
            "silero-v5_ru",
            "silero-v4_ru",
            "silero-v3_1_ru",
            "silero-v5_cis_base",
            "silero-v3_en",
        } <= set(rows)
        espeak = rows["espeak-ng"]
        assert (espeak.engine, espeak.present, espeak.ready) == ("espeak", True, True)
        assert "eSpeak NG" in espeak.detail and set(espeak.languages) == {"ru", "en"}
        v4 = rows["silero-v4_ru"]
        assert (v4.engine, v4.languages, v4.present, v4.ready, v4.loaded) == (
            "silero",
            ("ru",),
            True,
            True,
            False,
        )
        assert "CC BY-NC 4.0" in v4.detail and "serves ru" in v4.detail
        missing = rows["silero-v3_en"]
        assert (missing.present, missing.ready) == (False, False)
        assert "nagovori models pull silero-v3_en" in missing.detail
        assert "MIT" in rows["silero-v5_cis_base"].detail

    def test_loaded_flags_follow_use(self, tmp_path: Path, test_cache: Path) -> None:
        install(test_cache, tmp_path, "v4_ru", RU_SPEAKERS)
        engines = _engines(tmp_path)
        list(synthesize(engines.get(), "Привет."))
        assert self._by_id(engines.models())["silero-v4_ru"].loaded

    def test_damaged_and_extra_files(self, tmp_path: Path) -> None:
        (tmp_path / "silero").mkdir()
        (tmp_path / "silero" / "v4_ru.pt").write_bytes(b"truncated download")
        (tmp_path / "silero" / "my_voice_en.pt").write_bytes(b"")
        rows = self._by_id(_engines(tmp_path).models())
        assert rows["silero-v4_ru"].present and not rows["silero-v4_ru"].ready
        assert "damaged" in rows["silero-v4_ru"].detail
        assert rows["silero-my_voice_en"].languages == ("en",)

    def test_rows_are_dataclasses_the_wiring_can_serialise(self, tmp_path: Path) -> None:
        from dataclasses import asdict

        row = asdict(_engines(tmp_path).models()[0])
        assert set(row) == {"model_id", "engine", "languages", "present", "ready", "detail", "loaded"}
