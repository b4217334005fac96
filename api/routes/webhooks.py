"""``/v1/webhooks``: endpoints that get signed events when jobs finish, their deliveries and
attempts, manual re-sends, and the account's secret for per-job ``callback_url``s."""

from __future__ import annotations

from aiohttp import web

from api.openapi import operation
from api.schemas.common import dump
from api.schemas.webhooks import (
    CallbackSecretCreated,
    CreateWebhook,
    Delivery,
    DeliveryList,
    ListDeliveries,
    Webhook,
    WebhookCreated,
    WebhookList,
    callback_secret_view,
    delivery_view,
    webhook_view,
)
from api.state import caller
from api.validation import json_body, query_params
from core.services import webhooks

routes = web.RouteTableDef()
TAGS = ("Webhooks",)


@routes.post("/v1/webhooks")
@operation(
    "Create a webhook endpoint",
    tags=TAGS,
    description="Events of your jobs are POSTed to `url` as Standard Webhooks (`webhook-id`, "
    "`webhook-timestamp`, `webhook-signature`). The answer's `secret` is shown only this once. "
    "`url` must be a public http(s) address (400 `address_not_allowed` otherwise).",
    body=CreateWebhook,
    responses={201: WebhookCreated},
    errors=(400, 409),
)
async def create_webhook_handler(request: web.Request) -> web.Response:
    body = await json_body(request, CreateWebhook)
    platform, user_id = caller(request)
    new = await webhooks.create_endpoint(
        platform, user_id, url=body.url, events=list(body.events), description=body.description
    )
    created = WebhookCreated(**webhook_view(new.endpoint).model_dump(), secret=new.secret)
    return web.json_response(dump(created), status=201)


@routes.get("/v1/webhooks")
@operation("List your webhook endpoints (without secrets)", tags=TAGS, responses={200: WebhookList})
async def list_webhooks_handler(request: web.Request) -> web.Response:
    endpoints = await webhooks.list_endpoints(*caller(request))
    return web.json_response(dump(WebhookList(items=[webhook_view(e) for e in endpoints])))


@routes.post("/v1/webhooks/callback-secret")
@operation(
    "Create or replace your callback secret",
    tags=TAGS,
    description="Deliveries to a job's own `callback_url` are signed with this secret, shown only this "
    "once. Calling again makes a new one and the old one stops signing at once.",
    responses={201: CallbackSecretCreated},
)
async def callback_secret_handler(request: web.Request) -> web.Response:
    new = await webhooks.rotate_callback_secret(*caller(request))
    return web.json_response(dump(callback_secret_view(new)), status=201)


@routes.get("/v1/webhooks/{id}")
@operation("Get a webhook endpoint", tags=TAGS, responses={200: Webhook}, errors=(404,))
async def get_webhook_handler(request: web.Request) -> web.Response:
    platform, user_id = caller(request)
    endpoint = await webhooks.get_endpoint(platform, user_id, request.match_info["id"])
    return web.json_response(dump(webhook_view(endpoint)))


@routes.delete("/v1/webhooks/{id}")
@operation(
    "Delete a webhook endpoint",
    tags=TAGS,
    description="No more events go there; its pending deliveries are dropped.",
    responses={204: "Deleted"},
    errors=(404,),
)
async def delete_webhook_handler(request: web.Request) -> web.Response:
    platform, user_id = caller(request)
    await webhooks.delete_endpoint(platform, user_id, request.match_info["id"])
    return web.Response(status=204)


@routes.get("/v1/webhooks/{id}/deliveries")
@operation(
    "List an endpoint's deliveries and their attempts",
    tags=TAGS,
    description="Newest first, each with its attempts (status code or error, time, duration). "
    "`callback` as the id lists the deliveries to jobs' own `callback_url`s.",
    query=ListDeliveries,
    responses={200: DeliveryList},
    errors=(400, 404),
)
async def list_deliveries_handler(request: web.Request) -> web.Response:
    params = query_params(request, ListDeliveries)
    platform, user_id = caller(request)
    records, count = await webhooks.list_deliveries(
        platform, user_id, request.match_info["id"], limit=params.limit, offset=params.offset
    )
    page = DeliveryList(
        items=[delivery_view(r) for r in records], count=count, limit=params.limit, offset=params.offset
    )
    return web.json_response(dump(page))


@routes.post("/v1/webhooks/{id}/deliveries/{delivery_id}/retry")
@operation(
    "Send a delivery again now",
    tags=TAGS,
    description="The same `webhook-id` and body, a new attempt (a fresh timestamp and signature), "
    "whatever the delivery's state.",
    responses={202: Delivery},
    errors=(404,),
)
async def retry_delivery_handler(request: web.Request) -> web.Response:
    platform, user_id = caller(request)
    record = await webhooks.retry_delivery(
        platform, user_id, request.match_info["id"], request.match_info["delivery_id"]
    )
    return web.json_response(dump(delivery_view(record)), status=202)
