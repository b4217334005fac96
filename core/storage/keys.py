"""Object keys: the only names the store accepts, and the ones the platform hands out.

A key is a relative, ``/``-separated path such as ``uploads/<user>/<hex>.mp3``. The rules are strict
on purpose — keys come from users (presign responses they send back, URL paths), so nothing in a
valid key can climb out of the store, hide a control character or mean something different once
decoded again:

* segments of ASCII letters, digits and ``- _ . ~ = + @``; no empty segments, no leading ``/``;
* no segment starts with ``.`` (that rules out ``.``/``..`` and reserves dot-names for the store's
  own temp and metadata files);
* at most ``MAX_KEY_BYTES`` in all, ``MAX_SEGMENT_BYTES`` per segment and ``MAX_SEGMENTS`` deep.
"""

from __future__ import annotations

import re
import uuid

from core.errors import InvalidObjectKey

MAX_KEY_BYTES = 1024  # S3's own limit
MAX_SEGMENT_BYTES = 200  # leaves room under the usual 255-byte file-name limit for the store's dot-files
MAX_SEGMENTS = 16

UPLOADS_PREFIX = "uploads"
RESULTS_PREFIX = "results"
_OWNED_PREFIXES = frozenset({UPLOADS_PREFIX, RESULTS_PREFIX})

_SEGMENT = re.compile(r"[A-Za-z0-9_~=+@-][A-Za-z0-9._~=+@-]*")
# Every rule at once, for the valid keys of the hot paths (each presign checks its key): one regex
# match instead of a pass per rule. The rules' own checks below only run to say what is wrong.
_SEGMENT_BOUNDED = rf"[A-Za-z0-9_~=+@-][A-Za-z0-9._~=+@-]{{0,{MAX_SEGMENT_BYTES - 1}}}"
_VALID_KEY = re.compile(rf"{_SEGMENT_BOUNDED}(?:/{_SEGMENT_BOUNDED}){{0,{MAX_SEGMENTS - 1}}}")
_EXTENSION = re.compile(r"[a-z0-9]{1,10}")


def validate_key(key: str) -> str:
    """Return ``key`` unchanged when it is a valid object key, else raise ``InvalidObjectKey``."""
    if isinstance(key, str) and len(key) <= MAX_KEY_BYTES and _VALID_KEY.fullmatch(key):
        return key  # ASCII only, so its length in characters is its length in bytes
    if not isinstance(key, str) or not key:
        raise InvalidObjectKey("The object key is empty.")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in key):
        raise InvalidObjectKey("The object key contains control characters.")
    if "\\" in key:
        raise InvalidObjectKey("The object key must use '/' as separator, not '\\'.")
    if key.startswith("/"):
        raise InvalidObjectKey("The object key must be relative (no leading '/').")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidObjectKey(f"The object key is longer than {MAX_KEY_BYTES} bytes.")
    segments = key.split("/")
    if len(segments) > MAX_SEGMENTS:
        raise InvalidObjectKey(f"The object key has more than {MAX_SEGMENTS} segments.")
    for segment in segments:
        _check_segment(segment)
    return key


def _check_segment(segment: str) -> None:
    if not segment:
        raise InvalidObjectKey("The object key has an empty segment ('//' or a trailing '/').")
    if segment in {".", ".."}:
        raise InvalidObjectKey("The object key must not contain '.' or '..' segments.")
    if segment.startswith("."):
        raise InvalidObjectKey("Object key segments must not start with '.'.")
    if len(segment) > MAX_SEGMENT_BYTES:
        raise InvalidObjectKey(f"An object key segment is longer than {MAX_SEGMENT_BYTES} bytes.")
    if not _SEGMENT.fullmatch(segment):
        raise InvalidObjectKey("The object key may contain only letters, digits, '/' and '-_.~=+@'.")


def upload_key(user_id: str, filename: str) -> str:
    """A fresh key for a user's upload: ``uploads/{user_id}/{uuid4hex}{.ext}``.

    Only the file's extension survives (lower-cased, 1–10 letters or digits) so that decoders and
    downloads keep a useful hint; the name itself is never trusted or stored in the key.
    """
    _check_segment(str(user_id))
    return validate_key(f"{UPLOADS_PREFIX}/{user_id}/{uuid.uuid4().hex}{_safe_extension(filename)}")


def result_key(user_id: str, job_id: str, ext: str) -> str:
    """The key of a job's result: ``results/{user_id}/{job_id}.{ext}``."""
    _check_segment(str(user_id))
    _check_segment(str(job_id))
    clean = ext.lstrip(".").lower()
    if not _EXTENSION.fullmatch(clean):
        raise InvalidObjectKey("A result extension must be 1–10 letters or digits.")
    return validate_key(f"{RESULTS_PREFIX}/{user_id}/{job_id}.{clean}")


def key_owner(key: str) -> str | None:
    """The user id a key belongs to (``uploads/…`` and ``results/…``), or None for any other key.

    Never raises: an invalid key belongs to nobody, so "not yours" checks treat it as missing.
    """
    try:
        validate_key(key)
    except InvalidObjectKey:
        return None
    segments = key.split("/")
    if len(segments) >= 3 and segments[0] in _OWNED_PREFIXES:
        return segments[1]
    return None


def _safe_extension(filename: str) -> str:
    """``".mp3"`` for ``"C:\\Music\\Meeting.MP3"``; ``""`` when there is no usable extension."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    ext = ext.lower()
    if not dot or not stem.strip(".") or not _EXTENSION.fullmatch(ext):
        return ""
    return f".{ext}"
