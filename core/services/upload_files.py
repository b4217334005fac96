"""An upload as a local file for the step that first uses it — and, for a direct upload, its check.

With the local store the file is used in place. With object storage it is downloaded to a temporary
folder (hashed on the way), and an upload a client PUT straight into the bucket
(``uploads.presign`` with ``store.presign_put``) is checked here, on first use, because nobody saw
its bytes arrive: it must exist and have exactly the announced size and (when announced) SHA-256.
Its declared size has counted against the quota since the presign. S3 itself refuses most lies at
PUT time — the size, checksum and "create only" are signed into the URL — but not every
S3-compatible server checks all of them, so this check does not rely on it. A refused object is
deleted (the client may PUT again while its URL works); an accepted one is recorded on the upload
row exactly as a PUT through the API would be, and its digest sealed in the store
(``ObjectStore.adopt_upload``).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import select

from core.db.base import utcnow
from core.db.models import Upload
from core.errors import InputChanged, InvalidInput, NotFound, PayloadTooLarge, UploadIncomplete
from core.jobs.admission import lock_user
from core.platform import Platform
from core.services.uploads import HEAD_BYTES, check_audio_head
from core.storage.base import ChecksumMismatch, StoredObject
from core.storage.keys import validate_key
from core.storage.transfer import fetch_to_file


@contextlib.asynccontextmanager
async def upload_file(platform: Platform, user_id: str, key: str) -> AsyncIterator[tuple[Upload, Path]]:
    """The user's completed upload at ``key`` and a local file with exactly its bytes.

    ``NotFound`` for another user's (or no) upload, ``UploadIncomplete`` when nothing arrived yet;
    for a direct upload also ``PayloadTooLarge``/``InvalidInput``/``ChecksumMismatch`` when other
    bytes arrived than announced, and the quota's refusals. The temporary copy is removed on exit.
    """
    key = validate_key(key)
    upload = await _owned_upload(platform, user_id, key)
    in_place = platform.store.local_path(key)
    if in_place is not None:
        if upload.uploaded_at is None:
            raise UploadIncomplete(object_key=key)
        yield upload, in_place
        return
    folder = platform.settings.data_dir / "tmp"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="upload-", dir=folder))
    try:
        target = workdir / (Path(key).name)
        if upload.uploaded_at is None:
            upload = await _complete_direct(platform, upload, target)
        else:
            got = await fetch_to_file(platform.store, key, target)
            if (got.size, got.sha256) != (upload.size_bytes, upload.sha256):
                raise InputChanged(object_key=key, expected_size=upload.size_bytes, actual_size=got.size)
        yield upload, target
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, True)


async def _owned_upload(platform: Platform, user_id: str, key: str) -> Upload:
    async with platform.db.read() as session:
        upload = await session.scalar(
            select(Upload).where(Upload.object_key == key, Upload.user_id == user_id)
        )
    if upload is None:
        raise NotFound("No such object; upload it through /v1/uploads/presign first.", object_key=key)
    return upload


async def _complete_direct(platform: Platform, upload: Upload, target: Path) -> Upload:
    """Check and record a direct upload (see the module docstring); its bytes end up in ``target``."""
    key = upload.object_key
    announced = upload.declared_size
    if announced is None:  # only uploads of an announced size go straight to the store
        raise UploadIncomplete(object_key=key)
    try:
        stored = await platform.store.adopt_upload(key, target, max_bytes=announced)
    except NotFound:
        raise UploadIncomplete(object_key=key) from None
    except PayloadTooLarge:
        await platform.store.delete(key)
        raise PayloadTooLarge(
            f"The uploaded file is larger than the {announced} bytes announced; upload it again.",
            limit_bytes=announced,
        ) from None
    if stored.size != announced:
        await platform.store.delete(key)
        raise InvalidInput(
            f"The uploaded file is {stored.size} bytes, not the {announced} bytes announced; upload it again.",
            reason="size_mismatch",
            object_key=key,
        )
    if upload.declared_sha256 is not None and stored.sha256 != upload.declared_sha256:
        await platform.store.delete(key)
        raise ChecksumMismatch(expected_sha256=upload.declared_sha256, actual_sha256=stored.sha256)
    row = await _record(platform, upload, stored)
    check_audio_head(await asyncio.to_thread(_head, target))
    return row


async def _record(platform: Platform, upload: Upload, stored: StoredObject) -> Upload:
    """Write what arrived on the row, under the user's lock, as ``uploads.receive`` does. No quota
    check: the row has counted exactly this size since the presign (``uploads.presign``)."""
    async with platform.db.write() as session:
        await lock_user(session, upload.user_id)
        row = await session.get(Upload, upload.id, with_for_update=True)
        if row is None:  # swept meanwhile (the sweep deletes the object too)
            raise NotFound("The upload expired before it was used; presign it again.")
        if row.uploaded_at is not None:  # another request recorded it meanwhile
            if (row.size_bytes, row.sha256) != (stored.size, stored.sha256):
                raise InputChanged(object_key=row.object_key, expected_size=row.size_bytes)
            return row
        row.size_bytes = stored.size
        row.sha256 = stored.sha256
        row.uploaded_at = utcnow()
        return row


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(HEAD_BYTES)
