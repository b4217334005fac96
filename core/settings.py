"""Platform settings: environment variables prefixed ``NAGOVORI_``, then ``.env``, then defaults.

Built once in an entry point (``Settings.load()``) and passed down; nothing reads the environment
behind the caller's back. Every field is listed and explained in ``.env.example``.
"""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import os
import secrets
from collections.abc import Iterable, Mapping
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
    # Never relative to the current folder: see default_data_dir (`make run` sets the repo's var/).
    data_dir: Path = Field(default_factory=lambda: default_data_dir())
    database_url: str = ""  # empty: SQLite file in data_dir; postgresql://, sqlite:/// get their driver
    redis_url: str = ""  # empty: embedded mode (in-process broker, workers and event bus)
    # Object storage (docs/operations.md "Object storage"): empty endpoint = files under data_dir.
    s3_endpoint: str = ""  # e.g. http://127.0.0.1:9000 (MinIO), https://s3.eu-central-1.amazonaws.com
    s3_public_endpoint: str = ""  # what presigned URLs name when clients reach S3 at another address
    s3_bucket: str = ""
    s3_region: str = "us-east-1"  # "auto" for Cloudflare R2
    s3_access_key_id: str = ""  # empty: botocore's own chain (AWS_* variables, an instance role)
    s3_secret_access_key: SecretStr = SecretStr("")
    s3_path_style: bool = False  # true for MinIO and most self-hosted servers
    s3_prefix: str = ""  # put every key under this prefix, e.g. "nagovori/"

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
    # Outbound requests to user-given URLs (audio_url, webhooks) reach public addresses only; these
    # comma-separated networks are allowed besides (e.g. "10.0.0.0/8" for an internal file server).
    fetch_allow: str = ""

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
    bot_username: str = ""  # the bot's @name without "@": the web dashboard links t.me/<name> to buy

    # Web dashboard (docs/web.md)
    signup: Literal["open", "closed"] = "closed"  # open: anyone may create an account (FREE_MINUTES)
    web_session_days: float = Field(14, gt=0)  # a signed-in browser stays signed in this long unused
    signin_max_failures: int = Field(5, ge=1)  # failed sign-ins per account before a lockout
    signin_ip_max_failures: int = Field(20, ge=1)  # failed sign-ins (and sign-ups) per address
    signin_lockout_seconds: int = Field(900, ge=1)  # the counting window and the lockout's length
    auth_token_seconds: int = Field(3600, ge=60)  # POST /v1/auth/token's JWT lifetime (capped by JWT_MAX)

    # Billing and limits
    free_minutes: float = Field(10, ge=0)
    billing_quantum_seconds: int = Field(1, ge=1)
    rate_limit_per_minute: int = Field(60, ge=1)
    max_active_jobs: int = Field(1, ge=1)
    max_queued_jobs: int = Field(20, ge=1)
    # Realtime STT (GET /v1/stt/realtime, docs/api.md): the config must come within the first
    # timeout, audio at least every idle timeout; frames and sessions are capped.
    realtime_config_timeout_seconds: float = Field(10, gt=0)
    realtime_idle_timeout_seconds: float = Field(30, gt=0)
    realtime_max_frame_bytes: int = Field(256 * 1024, ge=1024)
    realtime_max_session_seconds: int = Field(3600, ge=10)
    max_upload_mb: int = Field(200, ge=1)
    min_audio_seconds: float = Field(1, ge=0)
    max_audio_seconds: float = Field(14400, gt=0)
    upload_url_ttl_seconds: int = Field(3600, ge=60)
    # Other ways in (docs/api.md "Audio inputs"): base64 in the JSON body up to this decoded size;
    # an audio_url is fetched by the worker with these timeouts and this deadline for the whole download.
    max_audio_data_mb: int = Field(10, ge=1)
    fetch_connect_timeout_seconds: float = Field(5, gt=0)
    fetch_read_timeout_seconds: float = Field(15, gt=0)
    fetch_deadline_seconds: float = Field(120, gt=0)
    # wait: true answers at the end of jobs of audio up to SYNC_MAX_SECONDS long, if they end
    # within SYNC_TIMEOUT seconds (else 202: poll).
    sync_max_seconds: float = Field(60, ge=0)
    sync_timeout: float = Field(120, gt=0)
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
    # Webhooks (docs/api.md "Webhooks"): a receiver must answer within WEBHOOK_TIMEOUT seconds; a
    # failed delivery is tried again after each of these waits in turn (seconds; Svix's schedule:
    # about 28 hours in all), then given up; an account registers at most WEBHOOK_MAX_ENDPOINTS.
    webhook_timeout_seconds: float = Field(10, gt=0, le=60)
    webhook_retry_schedule: str = Field(
        "5,300,1800,7200,18000,36000,36000", pattern=r"^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$"
    )
    webhook_max_endpoints: int = Field(20, ge=1)
    # Finished deliveries (2xx or given up) and their attempts are deleted this long after they
    # finished; 0: kept forever.
    webhook_delivery_retention_days: float = Field(30, ge=0)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line (docs/operations.md)

    # Observability: GET /metrics answers a Bearer METRICS_TOKEN, or a scraper inside METRICS_ALLOW.
    metrics_token: SecretStr = SecretStr("")
    metrics_allow: str = "127.0.0.1/32,::1/128"  # comma-separated CIDRs; empty: the token only
    metrics_port: int = Field(0, ge=0, le=65535)  # `nagovori worker` serves /metrics here; 0: off

    @field_validator("fetch_allow")
    @classmethod
    def _valid_networks(cls, value: str) -> str:
        from core.net.addresses import NetworkPolicy  # core.net imports settings only for typing

        NetworkPolicy.parse(value)  # a typo fails at start, not at the first fetch
        return value

    @field_validator("metrics_allow")
    @classmethod
    def _check_networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            ipaddress.ip_network(part, strict=False)  # ValueError names the bad entry
        return value

    @field_validator("telegram_api_url", "public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return with_async_driver(value)

    @field_validator("data_dir", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        return default_data_dir() if value == "" else value  # "NAGOVORI_DATA_DIR=" is not "."

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
    def max_audio_data_bytes(self) -> int:
        """Decoded size of base64 ``audio_data``: its own limit, and never over the upload limit."""
        return min(self.max_audio_data_mb * 1024 * 1024, self.max_upload_bytes)

    @property
    def storage_quota_bytes(self) -> int:
        return self.storage_quota_mb * 1024 * 1024

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: broker, workers and events live in this process."""
        return not self.redis_url

    @property
    def uses_s3(self) -> bool:
        """True when objects live in S3-compatible storage (and clients upload to it directly)."""
        return bool(self.s3_endpoint)


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


SYSTEM_DATA_DIR = Path("/var/lib/nagovori")


def default_data_dir(environ: Mapping[str, str] = os.environ, system_dir: Path = SYSTEM_DATA_DIR) -> Path:
    """The data folder when ``NAGOVORI_DATA_DIR`` is not set, the same from any current folder:
    the system service's ``/var/lib/nagovori`` when that folder exists (then every command on the
    machine reads the service's database: one without permission fails instead of quietly making
    a new one), else the user's ``$XDG_DATA_HOME/nagovori`` (``~/.local/share/nagovori``)."""
    if system_dir.is_dir():
        return system_dir
    xdg = environ.get("XDG_DATA_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG spec: a relative value is invalid, ignore it
        return Path(xdg) / "nagovori"
    home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
    return home / ".local" / "share" / "nagovori"


def data_dir_origin(settings: Settings) -> str:
    """Why ``settings.data_dir`` is the data folder, for the line every command logs."""
    if settings.data_dir != default_data_dir():
        return "NAGOVORI_DATA_DIR"
    if settings.data_dir == SYSTEM_DATA_DIR:
        return f"the system service's folder: {SYSTEM_DATA_DIR} exists"
    return "the default for this user"


_DRIVERLESS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}
_ASYNC_DRIVERS = {"postgresql+asyncpg", "sqlite+aiosqlite"}


def with_async_driver(url: str) -> str:
    """``postgresql://``, ``postgres://`` (as hosting providers hand them out) and ``sqlite:///``
    with the async driver Nagovori uses; another driver is refused with what to write instead."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme in _ASYNC_DRIVERS:
        return url
    if scheme in _DRIVERLESS:
        return f"{_DRIVERLESS[scheme]}://{rest}"
    family = scheme.partition("+")[0]
    if family in _DRIVERLESS:
        wanted = _DRIVERLESS[family]
        raise ValueError(f"Nagovori connects through {wanted}: write {wanted}://… (or {family}://…)")
    raise ValueError("use postgresql://… (PostgreSQL) or sqlite:///… (a SQLite file)")


NOT_SETTINGS = frozenset({"NAGOVORI_DEBUG", "NAGOVORI_API_KEY", "NAGOVORI_SHARED_AUDIO"})
"""``NAGOVORI_`` variables that are no setting: the CLI's debug switch, the example clients' key,
the tests' audio folder (and the tests' ``NAGOVORI_TEST_*``)."""


def misspelled_variables(names: Iterable[str]) -> list[tuple[str, str | None]]:
    """The ``NAGOVORI_`` names among ``names`` that no setting reads, each with the closest valid
    name (or None): a typo would otherwise be ignored without a word."""
    valid = sorted(f"NAGOVORI_{field.upper()}" for field in Settings.model_fields)
    unknown = []
    for name in sorted(set(names)):
        upper = name.upper()
        if not upper.startswith("NAGOVORI_") or upper.startswith("NAGOVORI_TEST_"):
            continue
        if upper in valid or upper in NOT_SETTINGS:  # names are read in any case
            continue
        close = difflib.get_close_matches(upper, valid, n=1, cutoff=0.75)
        unknown.append((name, close[0] if close else None))
    return unknown
