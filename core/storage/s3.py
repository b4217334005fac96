"""The S3-compatible object store (AWS S3, MinIO, Cloudflare R2; moto's server in tests).

One bucket, keys under an optional prefix. What the local store does with temp files, renames and
sidecars, this store does with S3's own guarantees:

* ``put`` streams: up to one part (``part_size``) is buffered; a smaller object is one
  ``PutObject``, a larger one a multipart upload (aborted on any error, so nothing half-written
  ever appears). The size limit and the SHA-256 are checked while streaming, before the object is
  published; ``overwrite=False`` is a conditional write (``If-None-Match: *``) that S3 decides
  atomically, so of two racing writers exactly one wins.
* The SHA-256 and content type travel as object metadata under a seal (``_seal.py``), so ``stat``
  is one ``HEAD``. Objects without a valid seal (written by clients through presigned URLs) are
  hashed when described — the store never vouches for bytes it did not hash.
* ``presign_put``/``presign_get`` sign URLs offline (no request), with the size and, when
  announced, the checksum and content type among the signed headers.

Connections belong to an event loop, and the platform runs several (the API's, each worker
thread's), so each loop gets its own client, closed by ``aclose`` in that loop.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import threading
import weakref
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.errors import Conflict, NotFound, PayloadTooLarge, ServiceUnavailable
from core.storage._s3_reader import S3Reader, parse_total_size
from core.storage._seal import sealed_metadata, trusted_digest
from core.storage.base import (
    DEFAULT_CHUNK_SIZE,
    ChecksumMismatch,
    DirectUpload,
    ObjectExists,
    ObjectReader,
    ObjectStore,
    StoredObject,
    checked_put,
    normalize_sha256,
    validate_content_type,
)
from core.storage.keys import validate_key
from core.storage.transfer import write_stream_to_file

PART_SIZE = 8 * 1024 * 1024  # S3's minimum part is 5 MiB; objects below one part are a single PUT
_MISSING = {"404", "NoSuchKey", "NotFound"}
_TAKEN = {"PreconditionFailed", "ConditionalRequestConflict"}
_DEFAULT_TYPES = {"binary/octet-stream", "application/octet-stream"}
MAX_URL_SECONDS = 7 * 24 * 3600  # SigV4's limit for presigned URLs


@dataclass(frozen=True)
class S3Config:
    """Where the bucket is and how to reach it (``Settings.s3_*``)."""

    endpoint: str  # e.g. http://127.0.0.1:9000 (MinIO), https://s3.eu-central-1.amazonaws.com
    bucket: str
    region: str = "us-east-1"
    access_key_id: str | None = None  # None: botocore's chain (environment, instance role)
    secret_access_key: str | None = None
    path_style: bool = False  # MinIO and most self-hosted servers need True
    prefix: str = ""  # prepended to every key, e.g. "nagovori/"
    public_endpoint: str = ""  # the endpoint presigned URLs name, when clients see another address
    part_size: int = PART_SIZE

    def client_args(self, *, public: bool = False) -> dict[str, Any]:
        endpoint = (self.public_endpoint or self.endpoint) if public else self.endpoint
        return {
            "endpoint_url": endpoint or None,
            "region_name": self.region,
            "aws_access_key_id": self.access_key_id or None,
            "aws_secret_access_key": self.secret_access_key or None,
        }

    def client_config(self) -> dict[str, Any]:
        return {
            "signature_version": "s3v4",
            "s3": {"addressing_style": "path" if self.path_style else "virtual"},
            "retries": {"max_attempts": 3, "mode": "standard"},
            # Checksums only where we ask for them: not every S3-compatible server knows the
            # SDK's default CRC trailers.
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
        }


@dataclass
class _LoopClient:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    context: Any = None
    client: Any = None


class S3ObjectStore(ObjectStore):
    """Objects in an S3 bucket; see the module docstring. ``seal_key`` is the platform's secret."""

    def __init__(self, config: S3Config, *, seal_key: bytes) -> None:
        if config.part_size < 5 * 1024 * 1024:
            raise ValueError("part_size must be at least 5 MiB (S3's smallest multipart part)")
        self.config = config
        self._seal_key = seal_key
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient] = (
            weakref.WeakKeyDictionary()
        )
        self._clients_lock = threading.Lock()
        self._signer: Any = None

    # -- connections -------------------------------------------------------------------------

    async def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        with self._clients_lock:
            entry = self._clients.setdefault(loop, _LoopClient())
        if entry.client is None:
            async with entry.lock:
                if entry.client is None:
                    context = get_session().create_client(
                        "s3", **self.config.client_args(), config=AioConfig(**self.config.client_config())
                    )
                    entry.client = await context.__aenter__()
                    entry.context = context
        return entry.client

    async def aclose(self) -> None:
        with self._clients_lock:
            entry = self._clients.pop(asyncio.get_running_loop(), None)
        if entry is not None and entry.context is not None:
            await entry.context.__aexit__(None, None, None)

    def _name(self, key: str) -> str:
        return f"{self.config.prefix}{key}"

    # -- writing -----------------------------------------------------------------------------

    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int,
        expected_sha256: str | None = None,
        content_type: str | None = None,
        overwrite: bool = True,
    ) -> StoredObject:
        request = checked_put(
            key, max_bytes=max_bytes, expected_sha256=expected_sha256, content_type=content_type
        )
        key, expected, content_type = request.key, request.expected_sha256, request.content_type
        client = await self._client()
        multipart = _Multipart(client, self.config.bucket, self._name(key), content_type)
        hasher, size, buffer = hashlib.sha256(), 0, bytearray()
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:  # stop reading at once: the rest of the body is never consumed
                    raise PayloadTooLarge(
                        f"The file is larger than the limit of {max_bytes} bytes.", max_bytes=max_bytes
                    )
                hasher.update(chunk)
                buffer += chunk
                if len(buffer) >= self.config.part_size:
                    await _s3_call(multipart.add(bytes(buffer)), key)
                    buffer = bytearray()
            sha = hasher.hexdigest()
            if expected is not None and sha != expected:
                raise ChecksumMismatch(expected_sha256=expected, actual_sha256=sha)
            metadata = sealed_metadata(self._seal_key, key, size, sha, content_type)
            condition = {} if overwrite else {"IfNoneMatch": "*"}
            if not multipart.started:
                await _s3_call(
                    client.put_object(
                        Bucket=self.config.bucket,
                        Key=self._name(key),
                        Body=bytes(buffer),
                        ContentLength=len(buffer),
                        ContentType=content_type or "application/octet-stream",
                        ChecksumSHA256=base64.b64encode(hasher.digest()).decode(),
                        Metadata=metadata,
                        **condition,
                    ),
                    key,
                )
            else:
                if buffer:
                    await _s3_call(multipart.add(bytes(buffer)), key)
                etag = await _s3_call(multipart.complete(condition), key)
                # A multipart upload's metadata is fixed before its digest is known: stamp it now,
                # copying this very version onto itself. Best effort — without it, stat hashes.
                with contextlib.suppress(ClientError, BotoCoreError):
                    await self._stamp(client, key, etag, metadata, content_type)
        finally:
            if multipart.open:
                await asyncio.shield(multipart.abort())
        return StoredObject(key=key, size=size, sha256=sha, content_type=content_type)

    async def _stamp(
        self, client: Any, key: str, etag: str, metadata: dict[str, str], content_type: str | None
    ) -> None:
        name = self._name(key)
        await client.copy_object(
            Bucket=self.config.bucket,
            Key=name,
            CopySource={"Bucket": self.config.bucket, "Key": name},
            CopySourceIfMatch=etag,
            MetadataDirective="REPLACE",
            ContentType=content_type or "application/octet-stream",
            Metadata=metadata,
        )

    async def adopt_upload(self, key: str, path: Path, *, max_bytes: int) -> StoredObject:
        """Download an object a client PUT through ``presign_put`` to ``path`` (hashed on the way),
        then seal its digest so later ``stat``/``open_read`` trust it without hashing again.

        ``NotFound`` when nothing was uploaded, ``PayloadTooLarge`` (before reading) when the object
        is larger than ``max_bytes``. The seal is stamped onto the version that was hashed only
        (``CopySourceIfMatch``), so a later PUT never inherits it.
        """
        key = validate_key(key)
        client = await self._client()
        response = await _s3_call(client.get_object(Bucket=self.config.bucket, Key=self._name(key)), key)
        body = response["Body"]
        try:
            if response["ContentLength"] > max_bytes:
                raise PayloadTooLarge(
                    f"The file is {response['ContentLength']} bytes; {max_bytes} were announced.",
                    limit_bytes=max_bytes,
                )
            reader = S3Reader(_placeholder(key), body, DEFAULT_CHUNK_SIZE)
            size, sha = await write_stream_to_file(reader, path)
        finally:
            with contextlib.suppress(Exception):
                await body.aclose()
        content_type = _usable_type(response.get("ContentType"))
        metadata = sealed_metadata(self._seal_key, key, size, sha, content_type)
        if trusted_digest(self._seal_key, key, size, response.get("Metadata") or {}) is None:
            with contextlib.suppress(ClientError, BotoCoreError):
                await self._stamp(client, key, response["ETag"], metadata, content_type)
        return StoredObject(key=key, size=size, sha256=sha, content_type=content_type)

    # -- reading -----------------------------------------------------------------------------

    async def stat(self, key: str) -> StoredObject | None:
        key = validate_key(key)
        client = await self._client()
        try:
            head = await _s3_call(client.head_object(Bucket=self.config.bucket, Key=self._name(key)), key)
        except NotFound:
            return None
        return await self._describe(client, key, head["ContentLength"], head)

    async def _describe(self, client: Any, key: str, size: int, response: dict[str, Any]) -> StoredObject:
        """The object ``response`` (a HEAD or GET) belongs to; hashed when its metadata is not ours."""
        trusted = trusted_digest(self._seal_key, key, size, response.get("Metadata") or {})
        if trusted is not None:
            sha, content_type = trusted
            return StoredObject(key=key, size=size, sha256=sha, content_type=content_type)
        hasher = hashlib.sha256()
        # IfMatch: the digest is of the very version described, even if the key is written meanwhile.
        try:
            whole = await _s3_call(
                client.get_object(Bucket=self.config.bucket, Key=self._name(key), IfMatch=response["ETag"]),
                key,
            )
        except ObjectExists:  # S3's 412: replaced since it was described
            raise Conflict("The object changed while it was being read.", key=key) from None
        async with whole["Body"] as body:
            while block := await body.read(1024 * 1024):
                hasher.update(block)
        return StoredObject(
            key=key,
            size=size,
            sha256=hasher.hexdigest(),
            content_type=_usable_type(response.get("ContentType")),
        )

    async def open_read(
        self, key: str, *, offset: int = 0, length: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> ObjectReader:
        key = validate_key(key)
        if offset < 0 or (length is not None and length < 0) or chunk_size <= 0:
            raise ValueError("offset and length must not be negative, chunk_size must be positive")
        client = await self._client()
        if length == 0:
            return await self._empty_reader(client, key, chunk_size)
        ranged: dict[str, str] = {}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            ranged["Range"] = f"bytes={offset}-{end}"
        try:
            response = await _s3_call(
                client.get_object(Bucket=self.config.bucket, Key=self._name(key), **ranged), key
            )
        except _RangeNotSatisfiable:
            return await self._empty_reader(client, key, chunk_size)  # past the end: clipped to nothing
        try:
            size = parse_total_size(response.get("ContentRange"), response["ContentLength"])
            info = await self._describe(client, key, size, response)
        except BaseException:
            await response["Body"].aclose()
            raise
        return S3Reader(info, response["Body"], chunk_size)

    async def _empty_reader(self, client: Any, key: str, chunk_size: int) -> ObjectReader:
        head = await _s3_call(client.head_object(Bucket=self.config.bucket, Key=self._name(key)), key)
        return S3Reader(await self._describe(client, key, head["ContentLength"], head), None, chunk_size)

    def local_path(self, key: str) -> Path | None:
        validate_key(key)
        return None

    async def delete(self, key: str) -> None:
        key = validate_key(key)
        client = await self._client()
        await _s3_call(client.delete_object(Bucket=self.config.bucket, Key=self._name(key)), key)

    # -- presigned URLs ----------------------------------------------------------------------

    def _presigner(self) -> Any:
        """A synchronous botocore client naming the public endpoint: signing needs no connection."""
        with self._clients_lock:
            if self._signer is None:
                self._signer = botocore.session.get_session().create_client(
                    "s3", **self.config.client_args(public=True), config=Config(**self.config.client_config())
                )
            return self._signer

    def presign_put(
        self,
        key: str,
        *,
        size: int,
        expires_in: int,
        sha256: str | None = None,
        content_type: str | None = None,
    ) -> DirectUpload:
        key = validate_key(key)
        params: dict[str, Any] = {
            "Bucket": self.config.bucket,
            "Key": self._name(key),
            "ContentLength": size,
        }
        # Only headers a client following the API reference sends anyway (the length of its body,
        # the content type and checksum it announced): ``If-None-Match`` would refuse a second PUT,
        # but signed it would also refuse every client that does not send it. A replaced object is
        # caught where it matters — its bytes are checked on first use and pinned on the job.
        headers = {"Content-Length": str(size)}
        if sha256 is not None:
            digest = base64.b64encode(bytes.fromhex(normalize_sha256(sha256))).decode()
            params["ChecksumSHA256"] = headers["x-amz-checksum-sha256"] = digest
        if content_type is not None:
            params["ContentType"] = headers["Content-Type"] = validate_content_type(content_type) or ""
        url = self._presigner().generate_presigned_url(
            "put_object", Params=params, ExpiresIn=min(expires_in, MAX_URL_SECONDS)
        )
        return DirectUpload(url=url, headers=headers)

    def presign_get(self, key: str, *, expires_in: int) -> str:
        key = validate_key(key)
        params = {"Bucket": self.config.bucket, "Key": self._name(key)}
        url: str = self._presigner().generate_presigned_url(
            "get_object", Params=params, ExpiresIn=min(expires_in, MAX_URL_SECONDS)
        )
        return url


class _Multipart:
    """One multipart upload, started by the first part; ``open`` until completed or aborted."""

    def __init__(self, client: Any, bucket: str, name: str, content_type: str | None) -> None:
        self._client, self._bucket, self._name = client, bucket, name
        self._content_type = content_type or "application/octet-stream"
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self.open = False

    @property
    def started(self) -> bool:
        return self._upload_id is not None

    async def add(self, data: bytes) -> None:
        if self._upload_id is None:
            created = await self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self._name, ContentType=self._content_type
            )
            self._upload_id, self.open = created["UploadId"], True
        number = len(self._parts) + 1
        part = await self._client.upload_part(
            Bucket=self._bucket, Key=self._name, UploadId=self._upload_id, PartNumber=number, Body=data
        )
        self._parts.append({"PartNumber": number, "ETag": part["ETag"]})

    async def complete(self, condition: dict[str, str]) -> str:
        done = await self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._name,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
            **condition,
        )
        self.open = False
        etag: str = done["ETag"]
        return etag

    async def abort(self) -> None:
        self.open = False
        with contextlib.suppress(ClientError, BotoCoreError):
            await self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._name, UploadId=self._upload_id
            )


class _RangeNotSatisfiable(Exception):
    """A range that starts past the end of the object (S3's 416)."""


async def _s3_call(call: Any, key: str) -> Any:
    """Await one S3 operation, its failures told as the store's errors."""
    try:
        return await call
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _MISSING or status == 404:
            raise NotFound("Object not found.", key=key) from None
        if code in _TAKEN:
            raise ObjectExists(key=key) from None
        if code == "InvalidRange" or status == 416:
            raise _RangeNotSatisfiable from None
        raise ServiceUnavailable("The object storage refused the request.", reason=code or None) from exc
    except BotoCoreError as exc:
        raise ServiceUnavailable("The object storage is unreachable.") from exc


def _usable_type(value: str | None) -> str | None:
    """A content type S3 reports, unless it is only S3's default."""
    if not value or value in _DEFAULT_TYPES:
        return None
    try:
        return validate_content_type(value)
    except Exception:
        return None


def _placeholder(key: str) -> StoredObject:
    return StoredObject(key=key, size=0, sha256="0" * 64)
