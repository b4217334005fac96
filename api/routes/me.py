"""``GET /v1/me`` and ``GET /v1/profile/usage``: who the key belongs to, the balance, what was spent."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from api.openapi import operation
from api.schemas.account import (
    LedgerEntryView,
    Me,
    Period,
    Preferences,
    StorageView,
    Usage,
    UsageQuery,
    UsedInPeriod,
    account_fields,
)
from api.schemas.common import balance_of, dump
from api.state import PLATFORM, caller, current_user
from api.validation import as_utc, query_params
from core.errors import InvalidInput
from core.services import accounts
from core.services.quota import storage_usage

routes = web.RouteTableDef()
TAGS = ("Account",)


@routes.get("/v1/me")
@operation("The current user and balance", tags=TAGS, responses={200: Me})
async def me_handler(request: web.Request) -> web.Response:
    user = current_user(request)
    seconds = await accounts.current_balance(request.app[PLATFORM], user.id)
    me = Me(
        **account_fields(user),
        balance=balance_of(seconds),
        preferences=Preferences(language=user.asr_language, voice=user.voice, reply_mode=user.reply_mode),
    )
    return web.json_response(dump(me))


@routes.get("/v1/profile/usage")
@operation(
    "Usage and remaining minutes",
    tags=TAGS,
    description="Seconds charged in the period (default: this calendar month) by channel and by kind "
    "of work, the balance now, minutes held by running jobs, the latest ledger entries, and the files "
    "kept for you against your storage quota.",
    query=UsageQuery,
    responses={200: Usage},
    errors=(400,),
)
async def usage_handler(request: web.Request) -> web.Response:
    params = query_params(request, UsageQuery)
    now = datetime.now(UTC)
    since = as_utc(params.since) or now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    until = as_utc(params.until) or now
    if since >= until:
        raise InvalidInput("since must be before until.", field="since")
    platform, user_id = caller(request)
    report = await accounts.usage(platform.db, user_id, since=since, until=until, recent=params.recent)
    storage = await storage_usage(platform, user_id)
    usage = Usage(
        period=Period(since=report.since, until=report.until),
        remaining=balance_of(report.remaining_seconds),
        held_seconds=report.held_seconds,
        used=UsedInPeriod(
            seconds=report.used_seconds,
            minutes=round(report.used_seconds / 60, 2),
            by_channel=report.by_channel,
            by_kind=report.by_kind,
        ),
        granted_seconds=report.granted_seconds,
        storage=StorageView(
            bytes_used=storage.bytes_used,
            objects=storage.objects,
            quota_bytes=storage.quota_bytes,
            quota_objects=storage.quota_objects,
            upload_ttl_hours=platform.settings.upload_ttl_hours,
            retention_days=platform.settings.retention_days,
        ),
        recent=[LedgerEntryView.model_validate(e, from_attributes=True) for e in report.recent],
    )
    return web.json_response(dump(usage))
