"""Presigned uploads: grant a PUT URL, receive the bytes, de-duplicate by SHA-256 per user.

An upload is written once: a PUT to an upload that already completed never replaces it (the store
refuses atomically, so of two racing PUTs one wins) — the same bytes again answer as before, other
bytes are ``UploadUsed`` (409). Grants and PUTs count against the user's storage quota
(``core.services.quota``). Audio that arrives with a request instead (a multipart file, base64, a
fetched URL) takes the same path through ``store_stream``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audio import AudioError, looks_like_media
from core.db.base import utcnow
from core.db.models import TranscriptionJob, Upload
from core.errors import (
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    StorageQuotaExceeded,
    UploadIncomplete,
    UploadUsed,
)
from core.jobs.admission import lock_user
from core.platform import Platform
from core.services.grant_batches import grant_upload
from core.services.quota import over_quota, recorded_usage, require_room, upload_values
from core.storage.base import ObjectExists, normalize_sha256, validate_content_type
from core.storage.keys import upload_key, validate_key

BUCKET = "uploads"


@dataclass(frozen=True)
class Presigned:
    """What a client needs to upload a file (or learns it already did)."""

    bucket: str
    object_key: str
    upload_url: str
    expires_at: datetime
    already_uploaded: bool
    upload_headers: dict[str, str] = field(default_factory=dict)
    """Headers the PUT must carry (a direct upload to object storage signs them into the URL)."""


async def presign(
    platform: Platform,
    user_id: str,
    *,
    filename: str,
    content_type: str | None = None,
    size_bytes: int | None = None,
    content_sha256: str | None = None,
) -> Presigned:
    """A signed PUT URL bound to a fresh key, this size limit and (if given) this checksum.

    With object storage that signs its own URLs (S3) and a declared size, the URL points straight
    at the store, with the size (and the announced checksum and content type) signed in; the declared
    size counts against the quota from now on, and what arrived is checked on first use
    (``upload_file``). Otherwise the URL is the API's own ``/objects`` route, which checks as it
    receives.
    """
    settings = platform.settings
    filename = filename.strip()
    if not filename or len(filename) > 255:
        raise InvalidInput("filename must have 1 to 255 characters.", field="filename")
    if size_bytes is not None:
        if size_bytes < 0:
            raise InvalidInput("size_bytes cannot be negative.", field="size_bytes")
        if size_bytes > settings.max_upload_bytes:
            raise PayloadTooLarge(
                f"The file is {size_bytes} bytes; the limit is {settings.max_upload_mb} MB.",
                limit_bytes=settings.max_upload_bytes,
            )
    content_type = validate_content_type(content_type)
    sha = normalize_sha256(content_sha256, field="content_sha256") if content_sha256 else None
    expires = int(time.time()) + settings.upload_url_ttl_seconds
    if sha is not None:
        existing = await _uploaded_with_hash(platform, user_id, sha)
        if existing is not None:
            url = platform.signer.url(
                settings.effective_public_url,
                "PUT",
                existing.object_key,
                expires_at=expires,
                max_bytes=settings.max_upload_bytes,
                sha256=sha,
            )
            return Presigned(BUCKET, existing.object_key, url, datetime.fromtimestamp(expires, UTC), True)
    key = upload_key(user_id, filename)
    limit = (
        min(size_bytes, settings.max_upload_bytes) if size_bytes is not None else settings.max_upload_bytes
    )
    direct = (
        None
        if size_bytes is None
        else platform.store.presign_put(
            key,
            size=size_bytes,
            expires_in=settings.upload_url_ttl_seconds,
            sha256=sha,
            content_type=content_type,
        )
    )
    # Decided exactly on the user's running total, and durable before the URL is answered; racing
    # presigns of this process share one write (a direct upload is not re-checked when it is PUT:
    # its reservation is decided here).
    room = await grant_upload(
        platform,
        user_id,
        upload_values(
            user_id=user_id,
            object_key=key,
            filename=filename,
            content_type=content_type,
            declared_size=size_bytes,
            declared_sha256=sha,
            # A direct upload's bytes arrive unseen: its declared size is counted from now on.
            size_bytes=size_bytes if direct is not None else None,
        ),
        size_bytes=size_bytes,
    )
    limit = min(limit, room)  # without a declared size: what is left of the quota
    if direct is not None:
        return Presigned(
            BUCKET, key, direct.url, datetime.fromtimestamp(expires, UTC), False, dict(direct.headers)
        )
    url = platform.signer.url(
        settings.effective_public_url, "PUT", key, expires_at=expires, max_bytes=limit, sha256=sha
    )
    return Presigned(BUCKET, key, url, datetime.fromtimestamp(expires, UTC), False)


async def receive(
    platform: Platform,
    key: str,
    body: AsyncIterable[bytes],
    *,
    max_bytes: int,
    sha256: str | None,
    content_type: str | None,
    content_length: int | None = None,
) -> Upload:
    """Store the body of a verified PUT (at most ``max_bytes``) and record what arrived.

    A completed upload is never replaced: the same bytes again return it unchanged, anything else
    is ``UploadUsed``. The body must also fit in what is left of the user's storage quota.
    """
    key = validate_key(key)
    async with platform.db.read() as session:
        upload = await session.scalar(select(Upload).where(Upload.object_key == key))
    if upload is None:
        raise NotFound("No upload was granted for this key.")
    if upload.uploaded_at is not None:
        if content_length in (None, upload.size_bytes) and await _same_content(body, upload):
            return upload  # a repeated PUT of the same bytes (or a de-duplicated one)
        raise UploadUsed(object_key=key)
    async with platform.db.lookup() as session:  # a pending upload counts no bytes yet
        usage = await recorded_usage(session, platform.settings, upload.user_id)
    limit = min(max_bytes, usage.bytes_free)
    if content_length is not None and content_length > limit:
        if limit < max_bytes:
            raise over_quota(usage, content_length)
        raise PayloadTooLarge(
            f"The file is {content_length} bytes; this upload allows {max_bytes}.", limit_bytes=max_bytes
        )
    try:
        stored = await platform.store.put(
            key,
            body,
            max_bytes=limit,
            expected_sha256=sha256,
            content_type=content_type or upload.content_type,
            overwrite=False,
        )
    except PayloadTooLarge:
        if limit < max_bytes:
            raise over_quota(usage) from None
        raise
    except ObjectExists:
        raise UploadUsed(object_key=key) from None  # another PUT of this upload won the race
    try:
        async with platform.db.write() as session:
            await lock_user(session, upload.user_id)
            row = await session.get(Upload, upload.id, with_for_update=True)
            if row is None:
                raise NotFound("The upload expired before it completed; presign it again.")
            row.size_bytes = stored.size
            row.sha256 = stored.sha256
            row.uploaded_at = utcnow()
            # Other uploads of this user may have completed meanwhile: decided on the total that
            # counts this one, which the trigger's update holds until commit (racing PUTs wait).
            await session.flush()
            usage = await recorded_usage(session, platform.settings, upload.user_id)
            before = dataclasses.replace(usage, bytes_used=usage.bytes_used - stored.size)
            require_room(before, size_bytes=stored.size)
            return row
    except (NotFound, StorageQuotaExceeded):
        await platform.store.delete(key)  # ours: the store let only this PUT write the key
        raise


HEAD_BYTES = 16  # what core.audio needs to recognize a container


@dataclass(frozen=True)
class StoredAudio:
    """What ``store_stream`` kept: the upload it made (``new``), or an earlier upload of the same
    bytes — which a refused request must not delete, since it was there before."""

    upload: Upload
    new: bool


async def store_stream(
    platform: Platform,
    user_id: str,
    chunks: AsyncIterable[bytes],
    *,
    filename: str,
    max_bytes: int,
    content_type: str | None = None,
) -> StoredAudio:
    """Store audio that came with a request (a multipart file, base64 text, a fetched URL) as the
    user's upload, through the same steps as a presigned PUT: the audio head check, the size limit
    (``max_bytes``), the storage quota. De-duplicated like presigned uploads: when the user already
    has an upload of the same bytes, that one is returned and this copy deleted. A refused or broken
    body leaves nothing stored."""
    stream = aiter(chunks)
    head = b""
    async for chunk in stream:
        head += chunk
        if len(head) >= HEAD_BYTES:
            break
    check_audio_head(head)
    name = filename.strip()[:255] or "audio"
    presigned = await presign(platform, user_id, filename=name, content_type=content_type)
    try:
        upload = await receive(
            platform,
            presigned.object_key,
            _prepended(head, stream),
            max_bytes=max_bytes,
            sha256=None,
            content_type=content_type,
        )
    except BaseException:
        await asyncio.shield(discard(platform, user_id, presigned.object_key))
        raise
    assert upload.sha256 is not None
    first = await _first_with_hash(platform, user_id, upload.sha256)
    if first is None or first.id == upload.id:
        return StoredAudio(upload, new=True)
    await discard(platform, user_id, upload.object_key)
    return StoredAudio(first, new=False)


async def _prepended(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for chunk in rest:
        yield chunk


def check_audio_head(head: bytes) -> None:
    """Refuse a file whose first bytes are no container we decode, before it is stored."""
    if not head:
        raise AudioError("The file is empty (0 bytes).", reason="empty")
    if not looks_like_media(head):
        raise AudioError(
            "The file is not audio or video in a format we can read (e.g. MP3, OGG/Opus, WAV, FLAC, "
            "M4A, WEBM, MP4).",
            reason="not_audio",
        )


async def discard(platform: Platform, user_id: str, key: str) -> None:
    """Delete the user's upload (row and object) unless a job uses it: a request refused after its
    file was stored leaves nothing behind."""
    key = validate_key(key)
    used = exists().where(TranscriptionJob.object_key == key)
    async with platform.db.write() as session:
        gone = await session.execute(
            delete(Upload)
            .where(Upload.object_key == key, Upload.user_id == user_id, ~used)
            .execution_options(synchronize_session=False)
        )
    if getattr(gone, "rowcount", 0):
        await platform.store.delete(key)


async def _same_content(body: AsyncIterable[bytes], upload: Upload) -> bool:
    """Whether ``body`` is exactly the stored upload (read at most one byte past its size)."""
    hasher, size, limit = hashlib.sha256(), 0, upload.size_bytes or 0
    async for chunk in body:
        size += len(chunk)
        if size > limit:
            return False
        hasher.update(chunk)
    return size == limit and hasher.hexdigest() == upload.sha256


async def uploaded_object(platform: Platform, user_id: str, key: str) -> Upload:
    """The user's completed upload at ``key``; other users' keys are NotFound."""
    key = validate_key(key)
    async with platform.db.read() as session:
        upload = await session.scalar(
            select(Upload).where(Upload.object_key == key, Upload.user_id == user_id)
        )
    if upload is None:
        raise NotFound("No such object; upload it through /v1/uploads/presign first.", object_key=key)
    if upload.uploaded_at is None:
        raise UploadIncomplete(object_key=key)
    return upload


async def pin_upload(session: AsyncSession, user_id: str, key: str) -> None:
    """Lock the upload row (after the user's, per the lock order) in the transaction that inserts a
    job using it, so the expiry sweep (``core.jobs.retention``), which locks it too, either sees the
    job or has already deleted the upload (then NotFound)."""
    await lock_user(session, user_id)
    row = await session.scalar(
        select(Upload.id).where(Upload.object_key == key, Upload.user_id == user_id).with_for_update()
    )
    if row is None:
        raise NotFound("The upload has expired; upload the file again.", object_key=key)


async def _uploaded_with_hash(platform: Platform, user_id: str, sha: str) -> Upload | None:
    async with platform.db.read() as session:
        return await session.scalar(
            select(Upload)
            .where(Upload.user_id == user_id, Upload.sha256 == sha, Upload.uploaded_at.is_not(None))
            .order_by(Upload.uploaded_at.desc())
            .limit(1)
        )


async def _first_with_hash(platform: Platform, user_id: str, sha: str) -> Upload | None:
    """The user's oldest completed upload of these bytes: the one every copy defers to, so that
    copies completing at the same time keep one file between them, never none."""
    async with platform.db.read() as session:
        return await session.scalar(
            select(Upload)
            .where(Upload.user_id == user_id, Upload.sha256 == sha, Upload.uploaded_at.is_not(None))
            .order_by(Upload.uploaded_at, Upload.id)
            .limit(1)
        )
