"""``POST /v1/uploads/presign``: a signed URL to PUT a file to (the PUT itself is in ``objects``)."""

from __future__ import annotations

from aiohttp import web

from api.openapi import operation
from api.schemas.common import dump
from api.schemas.uploads import PresignRequest, PresignResponse
from api.state import PLATFORM, current_user
from api.validation import json_body
from core.services import uploads

routes = web.RouteTableDef()


@routes.post("/v1/uploads/presign")
@operation(
    "Get a presigned URL for file upload",
    tags=("Upload",),
    description="PUT the file to `upload_url` with the `upload_headers` (no API key needed; the URL is "
    "the permission). With object storage and a `size_bytes`, the URL points straight at the bucket and "
    "the upload is checked when a job first uses it (400/413 if other bytes arrived than announced). The URL "
    "expires at `expires_at`, allows at most `size_bytes` and, with `content_sha256`, only that content. "
    "With `content_sha256` of a file you uploaded before, `already_uploaded` is true and no PUT is needed. "
    "The URL works once. Over your storage quota: 413 `storage_quota_exceeded` (bytes) or 429 "
    "`too_many_objects` (files); without `size_bytes` the URL allows what is left of the quota.",
    body=PresignRequest,
    responses={200: PresignResponse},
    errors=(400, 413, 429),
)
async def presign_handler(request: web.Request) -> web.Response:
    body = await json_body(request, PresignRequest)
    presigned = await uploads.presign(
        request.app[PLATFORM],
        current_user(request).id,
        filename=body.filename,
        content_type=body.content_type,
        size_bytes=body.size_bytes,
        content_sha256=body.content_sha256,
    )
    return web.json_response(dump(PresignResponse.model_validate(presigned, from_attributes=True)))
