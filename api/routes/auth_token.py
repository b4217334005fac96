"""``POST /v1/auth/token``: an e-mail and a password for a short-lived JWT (no API key needed).

The token is the HS256 JWT every ``/v1`` route accepts as a Bearer credential. Sign-in attempts
here count toward the same per-account and per-address lockout as the web sign-in page.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from api.openapi import operation
from api.schemas.common import dump
from api.state import PLATFORM
from api.validation import json_body
from core.services import web_accounts


class TokenRequest(BaseModel):
    """Credentials of an account that has a password (``nagovori users create --password-stdin``)."""

    # Passwords are taken as typed: no whitespace stripping here.
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=web_accounts.PASSWORD_MAX_CHARS)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int  # seconds


routes = web.RouteTableDef()


@routes.post("/v1/auth/token")
@operation(
    "Exchange an e-mail and password for a JWT",
    tags=("Account",),
    description="Answers a JWT valid for `expires_in` seconds; send it as `Authorization: Bearer …`. "
    "Repeated failures lock the account (and the client address) for a while: 429 with Retry-After.",
    body=TokenRequest,
    responses={200: TokenResponse},
    errors=(400, 401, 429),
    auth=False,
)
async def issue_token_handler(request: web.Request) -> web.Response:
    body = await json_body(request, TokenRequest)
    platform = request.app[PLATFORM]
    user = await web_accounts.sign_in(
        platform, body.email, body.password, address=(request.remote or "unknown")[:64]
    )
    token, lifetime = web_accounts.issue_token(platform.settings, user.id)
    return web.json_response(dump(TokenResponse(access_token=token, expires_in=lifetime)))
