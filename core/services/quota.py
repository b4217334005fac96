"""Per-user storage quota: what a user keeps stored, and refusals before more is stored.

What counts: every upload row (a completed one with its size; a pending one as an object while its
URL still works; a pending direct upload to object storage with its declared size until it is used
or swept) and every TTS result not yet expired (with its recorded size). Limits are
``STORAGE_QUOTA_MB`` and ``STORAGE_QUOTA_OBJECTS``; over them a request is refused with
``StorageQuotaExceeded`` (413) or ``TooManyObjects`` (429), saying what is used and the limit.

Two ways to read the usage: ``measure`` sums the user's rows (for reports: exactly the rule
above), ``recorded_usage`` reads the running total the database keeps (``storage_totals``, one
row: for the hot paths). The total counts every pending upload whatever its age (a trigger cannot
watch the clock), so it can only exceed ``measure``, by pending uploads whose URL expired; before
refusing an object for that reason, ``drop_expired_grants`` deletes those rows (no PUT can complete
them any more). ``total_mismatches`` proves the totals equal the sums (the ledger audit runs it).

A new upload row is decided on its user's total under the total's lock: alone, in one statement
(``insert_if_room``), or with the other presigns of its process that arrive at the same time, in
one transaction (``core.services.grant_batches``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id, utcnow
from core.db.database import Database
from core.db.models import SpeechJob, Upload, User
from core.db.storage_tables import StorageTotal
from core.errors import ServiceUnavailable, StorageQuotaExceeded, TooManyObjects
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
        # A pending upload with a size is a direct one to object storage (``uploads.presign``):
        # it may have arrived unseen, so its reservation counts until it is used or swept.
        or_(
            Upload.uploaded_at.is_not(None), Upload.created_at >= usable_since, Upload.size_bytes.is_not(None)
        ),
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


async def recorded_usage(session: AsyncSession, settings: Settings, user_id: str) -> StorageUsage:
    """The user's running total as this session sees it: one primary-key read. Inside a write
    transaction that has just changed the user's uploads, it includes the change (and on
    PostgreSQL the row stays locked until commit, so no other change of the total slips in)."""
    row = (
        await session.execute(
            select(StorageTotal.bytes_used, StorageTotal.objects).where(StorageTotal.user_id == user_id)
        )
    ).one_or_none()
    bytes_used, objects = row if row is not None else (0, 0)
    return StorageUsage(
        bytes_used=int(bytes_used),
        objects=int(objects),
        quota_bytes=settings.storage_quota_bytes,
        quota_objects=settings.storage_quota_objects,
    )


async def drop_expired_grants(
    session: AsyncSession, settings: Settings, user_id: str, *, now: datetime | None = None
) -> int:
    """Delete the user's pending uploads whose URL no longer works (``measure`` no longer counts
    them; the total does until they are gone); returns how many."""
    usable_since = (now or utcnow()) - timedelta(seconds=settings.upload_url_ttl_seconds)
    result = await session.execute(
        delete(Upload)
        .where(
            Upload.user_id == user_id,
            Upload.uploaded_at.is_(None),
            Upload.created_at < usable_since,
            # Not direct uploads (reserved size): their object may exist; the expiry sweep deletes both.
            Upload.size_bytes.is_(None),
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def insert_within_quota(
    platform: Platform,
    user_id: str,
    values: dict[str, Any],
    *,
    size_bytes: int | None,
    refused: bool = False,
) -> int:
    """Insert one more upload row of the user (``values``: ``upload_values``) if it fits
    (``size_bytes``: its declared size, if any), or raise the refusal; returns the bytes the upload
    may take: its declared size, else what the quota has left (read after the insert: a PUT decides
    exactly). ``refused``: a first attempt was refused already (decided in a batch of grants,
    ``core.services.grant_batches``, which sends here the grants it cannot decide alone).

    Alone, it is one statement per attempt (``insert_if_room``), so racing presigns near a limit
    never overshoot it together. Refused for the object count, it drops the user's expired grants
    (which the total still counts) and tries once more."""
    for _ in range(3):  # a refusal, a retry after dropping expired grants (or a race freeing room)
        if refused:
            await _make_room(platform, user_id, size_bytes)
        if await insert_if_room(platform.db, platform.settings, user_id, values, size_bytes):
            return size_bytes if size_bytes is not None else await bytes_left(platform, user_id)
        refused = True
    raise ServiceUnavailable("The storage quota is changing too fast to decide; try again shortly.")


async def _make_room(platform: Platform, user_id: str, size_bytes: int | None) -> None:
    """After a refused insert: raise the refusal the user's total explains, unless expired grants
    could be dropped for an object or a race freed room meanwhile (then try again)."""
    async with platform.db.lookup() as session:
        usage = await recorded_usage(session, platform.settings, user_id)
    try:
        require_room(usage, size_bytes=size_bytes, new_object=True)
    except TooManyObjects:
        async with platform.db.write() as session:
            if not await drop_expired_grants(session, platform.settings, user_id):
                raise


async def bytes_left(platform: Platform, user_id: str) -> int:
    """What the user's quota has left now (the limit of a grant without a declared size)."""
    async with platform.db.lookup() as session:
        return (await recorded_usage(session, platform.settings, user_id)).bytes_free


def upload_values(**given: Any) -> dict[str, Any]:
    """Every column of a new upload row: ``given``, the defaults an ORM flush would add (``id``,
    ``created_at``), NULL for the rest. (Cheaper than an ORM ``Upload``, on presign's hot path.)"""
    values: dict[str, Any] = dict.fromkeys(column.key for column in Upload.__table__.columns)
    unknown = given.keys() - values.keys()
    if unknown:
        raise TypeError(f"uploads has no column {', '.join(sorted(unknown))}")
    values.update(given)
    values["id"] = values["id"] or new_id()
    values["created_at"] = values["created_at"] or utcnow()
    return values


async def insert_if_room(
    db: Database, settings: Settings, user_id: str, values: dict[str, Any], size_bytes: int | None
) -> bool:
    """Insert the upload row (``values``) if the user's total has room for it; whether it did.

    One statement decides and inserts: ``INSERT … SELECT … WHERE EXISTS (the user's total has room
    … FOR UPDATE)``. On PostgreSQL the subquery locks the total row and, if a racing insert changed
    it meanwhile, checks the room again on the row as committed; the trigger then counts the new
    row under the same lock. On SQLite the statement runs while it holds the one writer's lock.
    The lock is held for one statement only (no transaction round trips)."""
    needed = size_bytes if size_bytes is not None else 1  # as ``require_room``
    # Locks in the platform's order, the user before the total (as a PUT or a finishing job takes
    # them): the user's row first (the share the new row's foreign key needs anyway; a subquery
    # PostgreSQL runs before scanning the totals), then the total row.
    owner = (
        select(User.id).where(User.id == user_id).with_for_update(read=True, key_share=True).scalar_subquery()
    )
    room = (
        select(StorageTotal.user_id)
        .where(
            StorageTotal.user_id == owner,
            StorageTotal.objects < settings.storage_quota_objects,
            StorageTotal.bytes_used + needed <= settings.storage_quota_bytes,
        )
        .with_for_update()
    )
    columns = Upload.__table__.columns
    row = select(*(literal(value, columns[name].type) for name, value in values.items())).where(room.exists())
    async with db.write_one() as session:
        result = await session.execute(insert(Upload).from_select(list(values), row))
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class TotalMismatch:
    """A user whose recorded total (None: no total row) differs from the sum over their rows."""

    user_id: str
    recorded: tuple[int, int] | None  # (bytes, objects)
    counted: tuple[int, int]


async def total_mismatches(session: AsyncSession, *, limit: int = 1000) -> list[TotalMismatch]:
    """Every user (up to ``limit``) whose running total is not the sum of their uploads (all of
    them, pending ones as 0 bytes) and unexpired TTS results: a full scan, for the audit."""
    uploads = (
        select(
            Upload.user_id.label("user_id"),
            func.count().label("objects"),
            func.coalesce(func.sum(Upload.size_bytes), 0).label("bytes"),
        )
        .group_by(Upload.user_id)
        .subquery()
    )
    results = (
        select(
            SpeechJob.user_id.label("user_id"),
            func.count().label("objects"),
            func.coalesce(func.sum(SpeechJob.result_size_bytes), 0).label("bytes"),
        )
        .where(SpeechJob.result_key.is_not(None), SpeechJob.audio_expired_at.is_(None))
        .group_by(SpeechJob.user_id)
        .subquery()
    )
    counted_bytes = func.coalesce(uploads.c.bytes, 0) + func.coalesce(results.c.bytes, 0)
    counted_objects = func.coalesce(uploads.c.objects, 0) + func.coalesce(results.c.objects, 0)
    rows = (
        await session.execute(
            select(User.id, StorageTotal.bytes_used, StorageTotal.objects, counted_bytes, counted_objects)
            .outerjoin(StorageTotal, StorageTotal.user_id == User.id)
            .outerjoin(uploads, uploads.c.user_id == User.id)
            .outerjoin(results, results.c.user_id == User.id)
            .where(
                or_(
                    StorageTotal.user_id.is_(None),
                    StorageTotal.bytes_used != counted_bytes,
                    StorageTotal.objects != counted_objects,
                )
            )
            .limit(limit)
        )
    ).all()
    return [
        TotalMismatch(
            user_id=user_id,
            recorded=None if recorded_bytes is None else (int(recorded_bytes), int(recorded_objects)),
            counted=(int(size), int(count)),
        )
        for user_id, recorded_bytes, recorded_objects, size, count in rows
    ]


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
