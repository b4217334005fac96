"""Signed object URLs served by the API itself: PUT uploads, GET downloads (redirected to the
bucket when the store signs its own URLs).

No API key here: the HMAC signature in the query is the authorization, bound to the key, the
method, the expiry, the size limit and (when given at presign) the SHA-256 of the content.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from aiohttp import web

from api.openapi import Body, operation
from api.schemas.uploads import SignedQuery, UploadReceipt
from api.state import PLATFORM
from core.services import uploads
from core.storage.keys import validate_key

routes = web.RouteTableDef()

CHUNK = 256 * 1024


@routes.put("/objects/{key:.+}")
@operation(
    "Upload to a presigned URL",
    tags=("Upload",),
    description="The `upload_url` of `POST /v1/uploads/presign`: PUT the file body, no API key. A "
    "tampered or expired URL is a 403; a body over the allowed size, or over what is left of your "
    "storage quota, a 413; other content than the presigned SHA-256 a 400. An upload is written once: "
    "a second PUT of other bytes is a 409 `upload_used` (the same bytes again answer 200).",
    query=SignedQuery,
    body=Body("application/octet-stream", schema={"type": "string", "format": "binary"}),
    responses={200: UploadReceipt},
    errors=(400, 403, 404, 409, 413),
    auth=False,
)
async def put_object_handler(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM]
    key = validate_key(request.match_info["key"])
    grant = platform.signer.verify("PUT", key, request.query, now=int(time.time()))
    limit = grant.max_bytes if grant.max_bytes is not None else platform.settings.max_upload_bytes
    upload = await uploads.receive(
        platform,
        key,
        _body(request),
        max_bytes=limit,
        sha256=grant.sha256,
        content_type=request.headers.get("Content-Type"),
        content_length=request.content_length,
    )
    return web.json_response(
        {"object_key": upload.object_key, "size_bytes": upload.size_bytes, "sha256": upload.sha256},
        status=200,
    )


@routes.get("/objects/{key:.+}")
@operation(
    "Download from a signed URL",
    tags=("Upload",),
    description="The `url` of `GET /v1/tts/{id}/download`; no API key. With object storage (S3) the "
    "answer is a 307 redirect to a presigned URL of the bucket.",
    query=SignedQuery,
    responses={200: Body("application/octet-stream", schema={"type": "string", "format": "binary"})},
    errors=(400, 403, 404),
    auth=False,
)
async def get_object_handler(request: web.Request) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    key = validate_key(request.match_info["key"])
    now = int(time.time())
    grant = platform.signer.verify("GET", key, request.query, now=now)
    # Object storage serves the bytes itself, through a URL that expires no later than this one.
    direct = platform.store.presign_get(key, expires_in=max(1, grant.expires_at - now))
    if direct is not None:
        raise web.HTTPTemporaryRedirect(direct)
    reader = await platform.store.open_read(key)
    async with reader:
        response = web.StreamResponse(
            headers={
                "Content-Type": reader.info.content_type or "application/octet-stream",
                "Content-Length": str(reader.info.size),
            }
        )
        await response.prepare(request)
        async for chunk in reader:
            await response.write(chunk)
        await response.write_eof()
        return response


async def _body(request: web.Request) -> AsyncIterator[bytes]:
    async for chunk in request.content.iter_chunked(CHUNK):
        yield chunk
