"""Presigned uploads."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import QueryParams, RequestBody, Timestamp


class PresignRequest(RequestBody):
    filename: str = Field(
        min_length=1, max_length=255, description="Original filename", examples=["meeting.mp3"]
    )
    content_type: str | None = Field(
        None, max_length=100, description="MIME type of the file", examples=["audio/mpeg"]
    )
    size_bytes: int | None = Field(None, ge=0, description="File size in bytes; the upload may not exceed it")
    content_sha256: str | None = Field(
        None,
        pattern=r"^[0-9a-fA-F]{64}$",
        description="SHA-256 of the content (hex): the upload must match it, and a file you already "
        "uploaded is not uploaded again",
    )


class PresignResponse(BaseModel):
    bucket: str
    object_key: str = Field(examples=["uploads/0b7c…/3f2a….mp3"])
    upload_url: str = Field(json_schema_extra={"format": "uri"}, description="PUT the file body to this URL")
    expires_at: Timestamp
    already_uploaded: bool = Field(description="True if this file was already uploaded (same SHA-256)")
    upload_headers: dict[str, str] = Field(
        default_factory=dict,
        description="Headers to send with the PUT, exactly as given: with object storage (S3) they are "
        "part of the URL's signature (size, SHA-256, content type, create-only). Empty: none needed",
    )


class SignedQuery(QueryParams):
    """The query of a signed object URL (use the URL as given; every part is signed)."""

    expires: int = Field(description="Unix time the URL stops working")
    max_bytes: int | None = Field(None, description="Upload size limit")
    sha256: str | None = Field(None, description="The content's required SHA-256")
    signature: str


class UploadReceipt(BaseModel):
    """The answer to the PUT on ``upload_url``."""

    object_key: str
    size_bytes: int
    sha256: str
