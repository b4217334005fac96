"""Presigned uploads: grant a PUT URL, receive the bytes, de-duplicate by SHA-256 per user."""

from __future__ import annotations

import time
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from core.db.base import utcnow
from core.db.models import Upload
from core.errors import InvalidInput, NotFound, PayloadTooLarge, UploadIncomplete
from core.platform import Platform
from core.storage.base import normalize_sha256, validate_content_type
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


async def presign(
    platform: Platform,
    user_id: str,
    *,
    filename: str,
    content_type: str | None = None,
    size_bytes: int | None = None,
    content_sha256: str | None = None,
) -> Presigned:
    """A signed PUT URL bound to a fresh key, this size limit and (if given) this checksum."""
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
    async with platform.db.write() as session:
        session.add(
            Upload(
                user_id=user_id,
                object_key=key,
                filename=filename,
                content_type=content_type,
                declared_size=size_bytes,
                declared_sha256=sha,
            )
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
) -> Upload:
    """Store the body of a verified PUT and record what arrived."""
    key = validate_key(key)
    async with platform.db.read() as session:
        upload = await session.scalar(select(Upload).where(Upload.object_key == key))
    if upload is None:
        raise NotFound("No upload was granted for this key.")
    if upload.uploaded_at is not None and sha256 is not None and upload.sha256 == sha256:
        return upload  # a de-duplicated or repeated PUT of the same content
    stored = await platform.store.put(
        key,
        body,
        max_bytes=max_bytes,
        expected_sha256=sha256,
        content_type=content_type or upload.content_type,
    )
    async with platform.db.write() as session:
        row = await session.get(Upload, upload.id)
        assert row is not None
        row.size_bytes = stored.size
        row.sha256 = stored.sha256
        row.uploaded_at = utcnow()
        return row


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


async def _uploaded_with_hash(platform: Platform, user_id: str, sha: str) -> Upload | None:
    async with platform.db.read() as session:
        return await session.scalar(
            select(Upload)
            .where(Upload.user_id == user_id, Upload.sha256 == sha, Upload.uploaded_at.is_not(None))
            .order_by(Upload.uploaded_at.desc())
            .limit(1)
        )
