"""Choosing the object store from settings: S3-compatible when ``S3_ENDPOINT`` is set, else local disk."""

from __future__ import annotations

from core.settings import Settings
from core.storage.base import ObjectStore
from core.storage.local import LocalObjectStore


def build_store(settings: Settings) -> ObjectStore:
    """The store ``settings`` describe (nothing connects until the first use)."""
    if not settings.uses_s3:
        return LocalObjectStore(settings.objects_dir)
    if not settings.s3_bucket:
        raise ValueError("NAGOVORI_S3_ENDPOINT is set but NAGOVORI_S3_BUCKET is empty: name the bucket.")
    from core.storage.s3 import S3Config, S3ObjectStore  # botocore loads only when S3 is used

    config = S3Config(
        endpoint=settings.s3_endpoint,
        public_endpoint=settings.s3_public_endpoint,
        bucket=settings.s3_bucket,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id or None,
        secret_access_key=settings.s3_secret_access_key.get_secret_value() or None,
        path_style=settings.s3_path_style,
        prefix=settings.s3_prefix,
    )
    # The metadata seal is keyed by a secret of its own, derived from the platform's.
    seal_key = f"object-seal:{settings.secret_key.get_secret_value()}".encode()
    return S3ObjectStore(config, seal_key=seal_key)
