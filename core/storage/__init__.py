"""Object storage: the ``ObjectStore`` protocol, object keys, the local-disk store and transfer helpers.

Composition roots build the store settings choose (``factory.build_store``: local disk, or S3 in
``s3.py``, imported only then); everything else depends on ``ObjectStore`` only. Signed URLs for
the local store live in ``core.signing``; the S3 store signs its own (``presign_put``/``presign_get``).
"""

from __future__ import annotations

from core.storage.base import (
    DEFAULT_CHUNK_SIZE,
    ChecksumMismatch,
    DirectUpload,
    ObjectExists,
    ObjectReader,
    ObjectStore,
    StoredObject,
    normalize_sha256,
    validate_content_type,
)
from core.storage.keys import key_owner, result_key, upload_key, validate_key
from core.storage.local import LocalObjectStore
from core.storage.transfer import fetch_to_file, file_chunks, read_bytes

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ChecksumMismatch",
    "DirectUpload",
    "LocalObjectStore",
    "ObjectExists",
    "ObjectReader",
    "ObjectStore",
    "StoredObject",
    "fetch_to_file",
    "file_chunks",
    "key_owner",
    "normalize_sha256",
    "read_bytes",
    "result_key",
    "upload_key",
    "validate_content_type",
    "validate_key",
]
