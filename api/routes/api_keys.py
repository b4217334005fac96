"""``/v1/api-keys``: several named keys per user, the secret shown once, revoked at once."""

from __future__ import annotations

from aiohttp import web

from api.openapi import operation
from api.schemas.account import ApiKeyCreated, ApiKeyList, CreateApiKey, key_view
from api.schemas.common import dump
from api.state import PLATFORM, current_user
from api.validation import json_body
from core.services import api_keys

routes = web.RouteTableDef()
TAGS = ("Account",)


@routes.post("/v1/api-keys")
@operation(
    "Create an API key",
    tags=TAGS,
    description="The answer's `key` is the only time the secret is shown: only its SHA-256 is stored.",
    body=CreateApiKey,
    responses={201: ApiKeyCreated},
    errors=(400,),
)
async def create_key_handler(request: web.Request) -> web.Response:
    body = await json_body(request, CreateApiKey)
    new = await api_keys.create_key(request.app[PLATFORM].db, current_user(request).id, name=body.name)
    created = ApiKeyCreated(**key_view(new.key).model_dump(), key=new.secret)
    return web.json_response(dump(created), status=201)


@routes.get("/v1/api-keys")
@operation("List your API keys (without secrets)", tags=TAGS, responses={200: ApiKeyList})
async def list_keys_handler(request: web.Request) -> web.Response:
    keys = await api_keys.list_keys(request.app[PLATFORM].db, current_user(request).id)
    return web.json_response(dump(ApiKeyList(items=[key_view(k) for k in keys])))


@routes.delete("/v1/api-keys/{id}")
@operation(
    "Revoke an API key",
    tags=TAGS,
    description="Requests with it fail from this moment on.",
    responses={204: "Revoked"},
    errors=(404,),
)
async def revoke_key_handler(request: web.Request) -> web.Response:
    await api_keys.revoke_key(request.app[PLATFORM], current_user(request).id, request.match_info["id"])
    return web.Response(status=204)
