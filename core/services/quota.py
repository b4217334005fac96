"""Per-user storage quota: what a user keeps stored, and refusals before more is stored.

What counts: every upload row (a completed one with its size; a pending one as an object while its
URL still works) and every TTS result not yet expired (with its recorded size). Limits are
``STORAGE_QUOTA_MB`` and ``STORAGE_QUOTA_OBJECTS``; over them a request is refused with
``StorageQuotaExceeded`` (413) or ``TooManyObjects`` (429), saying what is used and the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.db.models import SpeechJob, Upload
from core.errors import StorageQuotaExceeded, TooManyObjects
from core.platform import Platform
from core.settings import Settings

RETRY_AFTER_SECONDS = 3600  # pending uploads free their place when their URL expires (an hour by default)


@dataclass(frozen=True)
class StorageUsage:
    """A user's stored bytes and objects, and the limits."""

    bytes_used: int
    objects: int
    quota_bytes: int
    quota_objects: int

    @property
    def bytes_free(self) -> int:
        return max(0, self.quota_bytes - self.bytes_used)


async def measure(
    session: AsyncSession,
    settings: Settings,
    user_id: str,
    *,
    now: datetime | None = None,
    excluding_upload: str | None = None,
) -> StorageUsage:
    """The user's usage as this session sees it (``excluding_upload``: an upload row id to leave out)."""
    now = now or utcnow()
    usable_since = now - timedelta(seconds=settings.upload_url_ttl_seconds)
    conditions = [
        Upload.user_id == user_id,
        or_(Upload.uploaded_at.is_not(None), Upload.created_at >= usable_since),
    ]
    if excluding_upload is not None:
        conditions.append(Upload.id != excluding_upload)
    upload_count, upload_bytes = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Upload.size_bytes), 0)).where(*conditions)
        )
    ).one()
    result_count, result_bytes = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(SpeechJob.result_size_bytes), 0)).where(
                SpeechJob.user_id == user_id,
                SpeechJob.result_key.is_not(None),
                SpeechJob.audio_expired_at.is_(None),
            )
        )
    ).one()
    return StorageUsage(
        bytes_used=int(upload_bytes or 0) + int(result_bytes or 0),
        objects=int(upload_count) + int(result_count),
        quota_bytes=settings.storage_quota_bytes,
        quota_objects=settings.storage_quota_objects,
    )


async def storage_usage(platform: Platform, user_id: str) -> StorageUsage:
    """The user's storage now (for ``/v1/profile/usage``)."""
    async with platform.db.read() as session:
        return await measure(session, platform.settings, user_id)


def require_room(usage: StorageUsage, *, size_bytes: int | None = None, new_object: bool = False) -> None:
    """Refuse one more object (``new_object``) or ``size_bytes`` more bytes that do not fit.

    Without a size, a full quota (no byte left) is refused.
    """
    if new_object and usage.objects >= usage.quota_objects:
        raise TooManyObjects(
            f"You keep {usage.objects} stored files; the limit is {usage.quota_objects}. Files no job "
            "uses are deleted after a while, finished jobs' audio after the retention period.",
            objects=usage.objects,
            quota_objects=usage.quota_objects,
            retry_after=RETRY_AFTER_SECONDS,
        )
    needed = size_bytes if size_bytes is not None else 1
    if usage.bytes_used + needed > usage.quota_bytes:
        raise over_quota(usage, size_bytes)


def over_quota(usage: StorageUsage, size_bytes: int | None = None) -> StorageQuotaExceeded:
    """The refusal for a file (of ``size_bytes``, when known) that does not fit in the quota."""
    if size_bytes is not None:
        what = f"this file needs {_size(size_bytes)}"
    elif usage.bytes_free:
        what = f"this file is larger than the {_size(usage.bytes_free)} left"
    else:
        what = "no space is left"
    return StorageQuotaExceeded(
        f"Your stored files use {_size(usage.bytes_used)} of your {_size(usage.quota_bytes)} "
        f"storage quota; {what}.",
        used_bytes=usage.bytes_used,
        quota_bytes=usage.quota_bytes,
        **({"size_bytes": size_bytes} if size_bytes is not None else {}),
    )


def _size(count: int | None) -> str:
    count = count or 0
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    if count >= 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count} bytes"
