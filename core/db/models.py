"""The core's tables: users, API keys, uploads and jobs (transcription and speech).

Jobs of both kinds share one table (single-table inheritance): the pipeline's fairness, queue
position and reconciliation treat them alike, while ``TranscriptionJob`` and ``SpeechJob`` keep
their own typed columns. The minute ledger lives in ``billing.tables``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, UtcDateTime, new_id, utcnow


class User(Base):
    """An account: one minute balance shared by the bots and the API."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Preferences, shared by every channel.
    ui_language: Mapped[str | None] = mapped_column(String(8))  # "ru" | "en"; None: from Telegram
    asr_language: Mapped[str] = mapped_column(String(8), default="auto")
    voice: Mapped[str] = mapped_column(String(16), default="alloy")
    reply_mode: Mapped[str] = mapped_column(String(8), default="text")  # "text" | "voice"
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # company fields and the like


class ApiKey(Base):
    """An API key; only its SHA-256 and a short display prefix are kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="default")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Upload(Base):
    """An object a user was allowed to upload, and what actually arrived."""

    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_user_sha256", "user_id", "sha256"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    object_key: Mapped[str] = mapped_column(String(512), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    declared_size: Mapped[int | None] = mapped_column(BigInteger)
    declared_sha256: Mapped[str | None] = mapped_column(String(64))
    # Set when the PUT completed; a direct upload to S3 reserves its declared size here from the
    # presign on (uploaded_at stays NULL until its first use checks what arrived).
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    uploaded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Job(Base):
    """Work for a worker: queued → processing → completed | failed | cancelled."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_user_status_created", "user_id", "status", "created_at"),
        Index("ix_jobs_status_created", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(8))  # "asr" | "tts"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    source: Mapped[str] = mapped_column(String(16), default="api")  # api | telegram | cli | web
    language: Mapped[str | None] = mapped_column(String(8))  # asked for: a code or "auto"
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Where the result goes (a Telegram chat); SQL NULL when nowhere (an API job), never JSON
    # null, so that the reconciler's ``delivery IS NOT NULL`` means "has somewhere to go".
    delivery: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    hold_seconds: Mapped[int] = mapped_column(Integer, default=0)  # the estimate plus extensions
    billed_seconds: Mapped[int | None] = mapped_column(Integer)
    # Completed with less than the whole input: the balance ran out part-way (billed what was done).
    truncated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Its input or result audio was deleted after RETENTION_DAYS; the text stays.
    audio_expired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_abstract": True}  # noqa: RUF012


class TranscriptionJob(Job):
    """Speech to text for one uploaded or Telegram-hosted file."""

    object_key: Mapped[str | None] = mapped_column(String(512), index=True)  # indexed for expiry sweeps
    telegram_file_id: Mapped[str | None] = mapped_column(String(255))
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # The upload's SHA-256 when the job was created: the worker decodes only these very bytes.
    input_sha256: Mapped[str | None] = mapped_column(String(64))
    # An audio_url's download so far (0–1) while the worker fetches it; None when its server sent
    # no Content-Length, or for inputs the worker does not download.
    transfer_progress: Mapped[float | None] = mapped_column(Float)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    detected_language: Mapped[str | None] = mapped_column(String(8))
    model: Mapped[str | None] = mapped_column(String(64))
    transcript_text: Mapped[str | None] = mapped_column(Text)
    segments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    __mapper_args__ = {"polymorphic_identity": "asr"}  # noqa: RUF012


class SpeechJob(Job):
    """Text to speech; the audio is stored as an object."""

    text: Mapped[str | None] = mapped_column(Text)
    voice: Mapped[str | None] = mapped_column(String(16))
    audio_format: Mapped[str | None] = mapped_column(String(8))
    speed: Mapped[float | None] = mapped_column(Float)
    result_key: Mapped[str | None] = mapped_column(String(512))
    result_size_bytes: Mapped[int | None] = mapped_column(BigInteger)  # counts toward the storage quota
    audio_seconds: Mapped[float | None] = mapped_column(Float)

    __mapper_args__ = {"polymorphic_identity": "tts"}  # noqa: RUF012
