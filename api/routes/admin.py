"""``/v1/admin``: create accounts, grant minutes, check the ledger (administrators' keys only; others
get 403)."""

from __future__ import annotations

from aiohttp import web

from api.openapi import operation
from api.schemas.account import account_fields
from api.schemas.admin import (
    AdminUser,
    CreateGrant,
    CreateUser,
    GrantResult,
    LedgerCheck,
    LedgerViolation,
    UserCreated,
)
from api.schemas.common import balance_of, dump
from api.state import PLATFORM, admin_user
from api.validation import json_body
from core.services import api_keys
from core.services.ledger_audit import check_ledger
from core.services.users import create_user, grant_minutes, minutes_to_seconds

routes = web.RouteTableDef()
TAGS = ("Admin",)
PROFILE_FIELDS = (
    "company_id",
    "company_name",
    "contact_name",
    "contact_phone",
    "company_address",
    "company_vat_id",
    "company_registration_number",
)


@routes.post("/v1/admin/users")
@operation(
    "Create an account",
    tags=TAGS,
    description="With `create_api_key` (the default) the answer carries the new user's first key, once.",
    body=CreateUser,
    responses={201: UserCreated},
    errors=(400, 403, 409),
)
async def create_user_handler(request: web.Request) -> web.Response:
    admin_user(request)
    body = await json_body(request, CreateUser)
    platform = request.app[PLATFORM]
    profile = {name: value for name in PROFILE_FIELDS if (value := getattr(body, name)) is not None}
    user = await create_user(
        platform.db,
        starting_minutes=body.starting_minutes,
        is_admin=body.is_admin,
        telegram_id=body.telegram_id,
        email=body.email,
        name=body.name,
        profile=profile,
    )
    secret = None
    if body.create_api_key:
        secret = (await api_keys.create_key(platform.db, user.id, name=body.api_key_name)).secret
    view = AdminUser(
        **account_fields(user),
        profile=profile,
        balance=balance_of(minutes_to_seconds(body.starting_minutes)),
    )
    return web.json_response(dump(UserCreated(user=view, api_key=secret)), status=201)


@routes.post("/v1/admin/users/{id}/grants")
@operation(
    "Grant minutes to an account",
    tags=TAGS,
    description="With an `idempotency_key`, repeating the same grant adds the minutes once; "
    "reusing the key with another amount is a 409 naming the original grant.",
    body=CreateGrant,
    responses={201: GrantResult},
    errors=(400, 403, 404, 409),
)
async def grant_handler(request: web.Request) -> web.Response:
    admin_user(request)
    body = await json_body(request, CreateGrant)
    platform = request.app[PLATFORM]
    user_id = request.match_info["id"]
    key = f"admin-grant:{user_id}:{body.idempotency_key}" if body.idempotency_key else None
    seconds = await grant_minutes(platform.db, user_id, body.minutes, reason=body.reason, idempotency_key=key)
    result = GrantResult(
        user_id=user_id, granted_seconds=minutes_to_seconds(body.minutes), balance=balance_of(seconds)
    )
    return web.json_response(dump(result), status=201)


@routes.get("/v1/admin/ledger/check")
@operation(
    "Check the minute ledger",
    tags=TAGS,
    description="Proves the ledger adds up (as `nagovori ledger check` does): every balance equals "
    "the sum of its entries; no finished job still holds minutes; every settled job captured and "
    "released exactly what it held; no job was charged twice or for less than it processed. "
    "`ok` is false and `violations` names the accounts and jobs when something is wrong. "
    "It reads every account and job: meant for operators, not for polling.",
    responses={200: LedgerCheck},
    errors=(403,),
)
async def ledger_check_handler(request: web.Request) -> web.Response:
    admin_user(request)
    platform = request.app[PLATFORM]
    report = await check_ledger(platform.db, quantum=platform.settings.billing_quantum_seconds)
    result = LedgerCheck(
        ok=report.ok,
        checked_accounts=report.checked_accounts,
        checked_jobs=report.checked_jobs,
        violations=[
            LedgerViolation(kind=v.kind, account_id=v.account_id, job_id=v.job_id, detail=v.detail)
            for v in report.violations
        ],
    )
    return web.json_response(dump(result))
