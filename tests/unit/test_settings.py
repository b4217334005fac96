"""Settings: the NAGOVORI_ prefix, defaults, derived values, the generated secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("NAGOVORI_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_describe_the_embedded_mode(tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path / "var")
    assert settings.embedded
    assert (
        settings.effective_database_url
        == f"sqlite+aiosqlite:///{(tmp_path / 'var' / 'nagovori.db').resolve()}"
    )
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.effective_public_url == "http://127.0.0.1:8080"
    assert settings.effective_models_dir == tmp_path / "var" / "models"
    assert (settings.rate_limit_per_minute, settings.max_active_jobs, settings.max_queued_jobs) == (60, 1, 20)
    assert (settings.min_audio_seconds, settings.max_audio_seconds, settings.billing_quantum_seconds) == (
        1,
        14400,
        1,
    )
    assert settings.max_upload_bytes == 200 * 1024 * 1024


def test_environment_with_prefix_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NAGOVORI_PORT", "9000")
    monkeypatch.setenv("NAGOVORI_REDIS_URL", "redis://example:6379/0")
    monkeypatch.setenv("NAGOVORI_PUBLIC_URL", "https://speech.example.org/")
    monkeypatch.setenv("PORT", "1")  # unprefixed variables are not ours
    settings = Settings.load(data_dir=tmp_path)
    assert settings.port == 9000
    assert not settings.embedded
    assert settings.effective_public_url == "https://speech.example.org"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("NAGOVORI_MAX_UPLOAD_MB=5\nNAGOVORI_ASR_ENGINE=vosk\n")
    settings = Settings.load(data_dir=tmp_path / "d")
    assert settings.max_upload_bytes == 5 * 1024 * 1024
    assert settings.asr_engine == "vosk"


def test_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings.load(data_dir=tmp_path).secret_key.get_secret_value()
    second = Settings.load(data_dir=tmp_path).secret_key.get_secret_value()
    assert len(first) >= 40 and first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_given_secret_is_used_as_is(tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path, secret_key="s3cret")
    assert settings.secret_key.get_secret_value() == "s3cret"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [("NAGOVORI_PORT", "-1"), ("NAGOVORI_ASR_ENGINE", "nope"), ("NAGOVORI_MAX_ACTIVE_JOBS", "0")],
)
def test_bad_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings.load(data_dir=tmp_path)
