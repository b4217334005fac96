"""The metadata the S3 store keeps on each object it wrote, sealed so that nobody else can forge it.

S3 keeps user metadata (``x-amz-meta-*``) with the object and returns it on every HEAD and GET, so
the store records the SHA-256 and content type there instead of hashing on every ``stat``. But
clients write objects too (presigned PUTs straight into the bucket) and could send such headers
themselves. The seal — an HMAC over the key, size, digest and content type, keyed by the platform's
secret — tells the store's own records from anything else: metadata without a valid seal is
ignored and the object hashed, so the store never vouches for bytes it did not hash.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SHA256 = "nagovori-sha256"
CONTENT_TYPE = "nagovori-type"
SEAL = "nagovori-seal"
_VERSION = "v1"


def sealed_metadata(
    secret: bytes, key: str, size: int, sha256: str, content_type: str | None
) -> dict[str, str]:
    """The ``Metadata`` to store with an object the store has just hashed."""
    return {
        SHA256: sha256,
        CONTENT_TYPE: content_type or "",
        SEAL: _mac(secret, key, size, sha256, content_type or ""),
    }


def trusted_digest(
    secret: bytes, key: str, size: int, metadata: Mapping[str, str]
) -> tuple[str, str | None] | None:
    """``(sha256, content_type)`` when ``metadata`` carries a valid seal for this key and size."""
    sha = metadata.get(SHA256, "")
    content_type = metadata.get(CONTENT_TYPE, "")
    seal = metadata.get(SEAL, "")
    if len(sha) != 64 or not seal:
        return None
    if not hmac.compare_digest(seal, _mac(secret, key, size, sha, content_type)):
        return None
    return sha, content_type or None


def _mac(secret: bytes, key: str, size: int, sha256: str, content_type: str) -> str:
    message = "\n".join((_VERSION, key, str(size), sha256, content_type)).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
