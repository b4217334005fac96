"""Platform settings: environment variables prefixed ``NAGOVORI_``, then ``.env``, then defaults.

Built once in an entry point (``Settings.load()``) and passed down; nothing reads the environment
behind the caller's back. Every field is listed and explained in ``.env.example``.
"""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secret_key"


class Settings(BaseSettings):
    """Everything an operator can configure."""

    model_config = SettingsConfigDict(
        env_prefix="NAGOVORI_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Storage and services
    data_dir: Path = Path("./var")
    database_url: str = ""  # empty: SQLite file in data_dir
    redis_url: str = ""  # empty: embedded mode (in-process broker, workers and event bus)

    # HTTP
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str = ""  # empty: http://{host}:{port}
    secret_key: SecretStr = SecretStr("")  # empty: generated once, kept in data_dir
    jwt_max_lifetime_seconds: int = Field(86400, ge=60)  # a JWT's exp at most this far ahead
    # Slow and lying clients (api/protocol.py): a request head must be complete this long after the
    # connection opens (or the previous response); a body may pause this long, and must arrive
    # within BODY_TIMEOUT plus 1 s per BODY_MIN_RATE_KB received. 0 turns a body limit or the cap off.
    header_timeout_seconds: float = Field(10, gt=0)
    body_idle_timeout_seconds: float = Field(10, ge=0)
    body_timeout_seconds: float = Field(30, ge=0)
    body_min_rate_kb: float = Field(64, ge=0)
    max_pending_connections_per_ip: int = Field(20, ge=0)  # open connections without a request yet

    # Engines
    asr_engine: Literal["whisper", "vosk", "pocketsphinx"] = "whisper"
    whisper_model: str = "base"  # bundled with the install: works offline
    whisper_threads: int = Field(0, ge=0)  # 0: let CTranslate2 choose
    vosk_model: str = "en"
    tts_engine: Literal["auto", "piper", "silero", "espeak"] = "auto"  # auto: per language
    silero_model: str = ""  # empty: chosen by language under models_dir
    models_dir: Path | None = None  # None: data_dir / "models"

    # Telegram
    telegram_token: SecretStr = SecretStr("")
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_secret: SecretStr = SecretStr("")  # set: webhook mode instead of long polling
    bot_framework: Literal["aiogram", "ptb"] = "aiogram"

    # Billing and limits
    free_minutes: float = Field(10, ge=0)
    billing_quantum_seconds: int = Field(1, ge=1)
    rate_limit_per_minute: int = Field(60, ge=1)
    max_active_jobs: int = Field(1, ge=1)
    max_queued_jobs: int = Field(20, ge=1)
    max_upload_mb: int = Field(200, ge=1)
    min_audio_seconds: float = Field(1, ge=0)
    max_audio_seconds: float = Field(14400, gt=0)
    upload_url_ttl_seconds: int = Field(3600, ge=60)
    # Storage per user: uploads plus TTS results kept.
    storage_quota_mb: int = Field(2048, ge=1)
    storage_quota_objects: int = Field(1000, ge=1)
    upload_ttl_hours: float = Field(24, ge=0)  # uploads no job uses are deleted after this; 0: never
    retention_days: float = Field(30, ge=0)  # finished jobs' audio is deleted after this; 0: kept forever

    # Workers
    worker_threads: int = Field(2, ge=1)
    # Engines that hold the GIL (PocketSphinx) run in this many engine processes, so the API in the
    # same process keeps answering: "auto" = one per worker thread when embedded, none in a worker.
    engine_processes: str = Field("auto", pattern=r"^(auto|\d+)$")
    isolated_engines: str = ""  # comma-separated engine names; empty: those that hold the GIL
    job_max_attempts: int = Field(3, ge=1)
    job_stale_seconds: int = Field(120, ge=10)  # no heartbeat for this long: the worker is gone
    reconcile_interval_seconds: int = Field(30, ge=1)
    log_level: str = "INFO"

    @field_validator("telegram_api_url", "public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Build settings from the environment and make sure the data dir and secret exist."""
        settings = cls(**overrides)  # type: ignore[arg-type]
        _private_dir(settings.data_dir)
        if not settings.secret_key.get_secret_value():
            settings.secret_key = SecretStr(_stored_secret(settings.data_dir / SECRET_KEY_FILE))
        return settings

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or a SQLite file inside the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'nagovori.db').resolve()}"

    @property
    def effective_public_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def effective_models_dir(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def storage_quota_bytes(self) -> int:
        return self.storage_quota_mb * 1024 * 1024

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: broker, workers and events live in this process."""
        return not self.redis_url


def _private_dir(path: Path) -> None:
    """Create the data dir for the owner only (it holds the database, the secret and every user's
    audio and transcripts), tightening one an earlier version created world-readable."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):  # not ours (a mounted volume): leave it as it is
            path.chmod(0o700)


def _stored_secret(path: Path) -> str:
    """Read the generated secret, creating it (readable by the owner only) on first use."""
    if path.exists():
        if path.stat().st_mode & 0o077:
            with contextlib.suppress(PermissionError):
                path.chmod(0o600)
        return path.read_text().strip()
    secret = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(secret)
    return secret
