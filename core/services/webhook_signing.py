"""Webhook secrets and signatures, as the Standard Webhooks specification has them (pure: no I/O).

A secret is ``whsec_`` + base64 of 32 random bytes; the receiver keeps it, the platform keeps it
sealed (AES-GCM under a key derived from ``SECRET_KEY``), so a copy of the database alone does not
let anyone forge deliveries. A delivery is signed as

    webhook-signature: v1,<base64(HMAC-SHA256(key=base64decode(secret without "whsec_"),
                                              msg="{webhook-id}.{webhook-timestamp}.{body}"))>

which the ``standardwebhooks`` and ``svix`` libraries verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SEAL_VERSION = "v1"
_PURPOSE = b"nagovori/webhook-secrets/v1"
_NONCE_BYTES = 12


class SecretUnavailable(Exception):
    """A sealed secret that this platform's ``SECRET_KEY`` cannot open (the key was changed)."""


def new_secret() -> str:
    """A fresh signing secret, as the receiver stores it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key a ``whsec_…`` secret stands for."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header value of one attempt."""
    digest = hmac.new(
        secret_key_bytes(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256
    ).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def headers(secret: str, msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """Every header of one attempt: the id (the same on every retry), its time, its signature."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "Content-Type": "application/json",
    }


class SecretBox:
    """Seals and opens stored webhook secrets with a key of their own derived from ``SECRET_KEY``
    (never the key itself, so no other use of it can be turned against these)."""

    def __init__(self, platform_secret: str) -> None:
        if not platform_secret:
            raise ValueError("the platform secret must not be empty")
        self._aead = AESGCM(hmac.new(platform_secret.encode(), _PURPOSE, hashlib.sha256).digest())

    def seal(self, secret: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), _PURPOSE)
        return f"{SEAL_VERSION}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, stored: str) -> str:
        version, _, payload = stored.partition(":")
        try:
            if version != SEAL_VERSION:
                raise ValueError(version)
            raw = base64.b64decode(payload, validate=True)
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _PURPOSE).decode()
        except (ValueError, binascii.Error, InvalidTag) as exc:
            raise SecretUnavailable("the webhook secret cannot be opened with this SECRET_KEY") from exc
