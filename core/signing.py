"""Signed, expiring object URLs for the local store (pure: no I/O, the clock is passed in).

A URL grants one method on one key until ``expires_at`` (Unix seconds), optionally with an upload
size limit and the SHA-256 the upload must have. All of these go into an HMAC-SHA256 over a
canonical string, so changing any of them — or using the URL for another key or method — breaks the
signature. The signature carries a version prefix (``v1.``) so the scheme can change later while
old links are still recognised (and refused) cleanly.

    canonical = "v1\\n{METHOD}\\n{key}\\n{expires_at}\\n{max_bytes or ''}\\n{sha256 or ''}"
    query     = expires=…[&max_bytes=…][&sha256=…]&signature=v1.<base64url(hmac)>

Keys are validated before signing; no valid key contains a newline, so the canonical string is
unambiguous.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from core.errors import Forbidden, InvalidObjectKey
from core.storage.base import normalize_sha256
from core.storage.keys import validate_key

SIGNATURE_VERSION = "v1"
PARAM_EXPIRES = "expires"
PARAM_MAX_BYTES = "max_bytes"
PARAM_SHA256 = "sha256"
PARAM_SIGNATURE = "signature"

_PURPOSE = b"nagovori/signed-object-url/v1"
_METHOD = re.compile(r"[A-Z]{1,16}")
_INTEGER = re.compile(r"0|[1-9][0-9]{0,18}")  # canonical decimal only: no sign, spaces or '_'
_SHA256 = re.compile(r"[0-9a-f]{64}")
_QUERY_SAFE = re.compile(r"[A-Za-z0-9._-]*")  # unreserved in a URL: the same after urlencode


@dataclass(frozen=True)
class SignedRequest:
    """What a verified URL allows."""

    method: str
    key: str
    expires_at: int
    max_bytes: int | None
    sha256: str | None


class UrlSigner:
    """Signs and verifies object URLs with a key derived from the platform's ``SECRET_KEY``."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the signing secret must not be empty")
        # A key of its own, so these signatures can never be replayed as any other HMAC the
        # platform might compute from the same secret.
        self._key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()

    def sign(
        self,
        method: str,
        key: str,
        *,
        expires_at: int,
        max_bytes: int | None = None,
        sha256: str | None = None,
    ) -> dict[str, str]:
        """The query parameters that authorise ``method`` on ``key`` until ``expires_at``."""
        method = method.upper()
        if not _METHOD.fullmatch(method):
            raise ValueError(f"not an HTTP method: {method!r}")
        validate_key(key)
        _check_count("expires_at", expires_at)
        if max_bytes is not None:
            _check_count("max_bytes", max_bytes)
        digest = None if sha256 is None else normalize_sha256(sha256)
        query = {PARAM_EXPIRES: str(expires_at)}
        if max_bytes is not None:
            query[PARAM_MAX_BYTES] = str(max_bytes)
        if digest is not None:
            query[PARAM_SHA256] = digest
        query[PARAM_SIGNATURE] = self._signature(method, key, expires_at, max_bytes, digest)
        return query

    def url(
        self,
        base_url: str,
        method: str,
        key: str,
        *,
        expires_at: int,
        max_bytes: int | None = None,
        sha256: str | None = None,
    ) -> str:
        """``{base_url}/objects/{key}?{signed query}`` — the API serves PUT and GET there."""
        query = self.sign(method, key, expires_at=expires_at, max_bytes=max_bytes, sha256=sha256)
        # Every value is digits, lowercase hex or "v1." + base64url: nothing to escape, so skip
        # urlencode's general path (a fifth of a presign's own time); anything else still goes through it.
        if all(_QUERY_SAFE.fullmatch(value) for value in query.values()):
            encoded = "&".join(f"{name}={value}" for name, value in query.items())
        else:
            encoded = urlencode(query)
        return f"{base_url.rstrip('/')}/objects/{quote(key, safe='/')}?{encoded}"

    def verify(self, method: str, key: str, query: Mapping[str, str], *, now: int) -> SignedRequest:
        """The request the URL allows; ``Forbidden`` unless signature, method, key and expiry all hold."""
        provided = query.get(PARAM_SIGNATURE)
        if not isinstance(provided, str) or not provided.startswith(f"{SIGNATURE_VERSION}."):
            raise _invalid()
        method = method.upper()
        if not _METHOD.fullmatch(method):
            raise _invalid()
        try:
            validate_key(key)
        except InvalidObjectKey:
            raise _invalid() from None
        expires_at = _parse_count(query.get(PARAM_EXPIRES))
        if expires_at is None:
            raise _invalid()
        max_bytes = _parse_count(query.get(PARAM_MAX_BYTES)) if PARAM_MAX_BYTES in query else None
        if PARAM_MAX_BYTES in query and max_bytes is None:
            raise _invalid()
        digest = query.get(PARAM_SHA256)
        if digest is not None and not _SHA256.fullmatch(digest):
            raise _invalid()
        expected = self._signature(method, key, expires_at, max_bytes, digest)
        if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "surrogatepass")):
            raise _invalid()
        # Checked after the signature, so "expired" is only ever said about a genuine URL.
        if now >= expires_at:
            raise Forbidden("The signed URL has expired.", reason="expired")
        return SignedRequest(method, key, expires_at, max_bytes, digest)

    def _signature(
        self, method: str, key: str, expires_at: int, max_bytes: int | None, sha256: str | None
    ) -> str:
        fields = [
            SIGNATURE_VERSION,
            method,
            key,
            str(expires_at),
            "" if max_bytes is None else str(max_bytes),
            sha256 or "",
        ]
        mac = hmac.new(self._key, "\n".join(fields).encode(), hashlib.sha256).digest()
        return f"{SIGNATURE_VERSION}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _invalid() -> Forbidden:
    return Forbidden("The signed URL is not valid.", reason="invalid_signature")


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _parse_count(value: str | None) -> int | None:
    if not isinstance(value, str) or not _INTEGER.fullmatch(value):
        return None
    return int(value)
