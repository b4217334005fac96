"""Credentials in headers only: ``X-API-Key`` beside ``Authorization: Bearer`` on JSON, SSE and
OpenAI-compatible routes; two different credentials are refused as ambiguous; a key in the query
string is refused with the reason (URLs end up in logs and browser history)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api_harness import ApiEnv, api_settings, live_api, sqlite_copy, sse_events

CLIP = "en/LJ001-0002.wav"  # "in being comparatively modern."


@pytest.fixture
async def api(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    async with live_api(api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path))) as env:
        yield env


async def get(env: ApiEnv, path: str, headers: dict[str, str], **params: str) -> tuple[int, Any]:
    """(status, JSON body) of a GET with exactly these headers (none added)."""
    async with env.http.get(f"{env.base}{path}", headers=headers, params=params) as response:
        return response.status, await response.json()


async def test_x_api_key_works_like_bearer_on_a_json_route(api: ApiEnv) -> None:
    status, by_header = await get(api, "/v1/me", {"X-API-Key": api.key})
    assert status == 200, by_header
    status, by_bearer = await get(api, "/v1/me", api.auth)
    assert status == 200 and by_header["id"] == by_bearer["id"] == api.user_id
    # Both at once are fine when they agree (gateways add one beside the other).
    status, _ = await get(api, "/v1/me", {**api.auth, "X-API-Key": api.key})
    assert status == 200
    # A wrong key in the header is a plain 401; a JWT belongs in Authorization.
    status, body = await get(api, "/v1/me", {"X-API-Key": "nag_" + "x" * 43})
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await get(api, "/v1/me", {"X-API-Key": "eyJhbGciOiJIUzI1NiJ9.e30.sig"})
    assert status == 401 and "Authorization: Bearer" in body["error"]["message"]


async def test_x_api_key_opens_the_sse_stream(api: ApiEnv, shared_audio: Path) -> None:
    job = await api.transcribe(shared_audio / CLIP)
    url = f"{api.base}/v1/transcriptions/{job['id']}/stream"
    async with api.http.get(url, headers={"X-API-Key": api.key}) as response:
        assert response.status == 200 and response.content_type == "text/event-stream"
        names = [name async for name, _ in sse_events(response)]
    assert names[0] == "update" and names[-1] == "done"


async def test_two_different_credentials_are_ambiguous(api: ApiEnv) -> None:
    _, other_key = await api.new_user()
    status, body = await get(api, "/v1/me", {**api.auth, "X-API-Key": other_key})
    assert status == 400 and body["error"]["code"] == "conflicting_credentials"
    async with api.http.get(
        f"{api.base}/v1/me", headers=[("X-API-Key", api.key), ("X-API-Key", other_key)]
    ) as response:
        assert (
            response.status == 400 and (await response.json())["error"]["code"] == "conflicting_credentials"
        )


async def test_a_key_in_the_query_string_is_refused_with_the_reason(api: ApiEnv) -> None:
    # Refused even beside a valid header: the key is in the URL now, and URLs are logged.
    for name in ("api_key", "apiKey", "key", "token", "access_token"):
        for headers in ({}, api.auth):
            status, body = await get(api, "/v1/me", headers, **{name: api.key})
            assert status == 401, (name, body)
            error = body["error"]
            assert error["code"] == "credentials_in_query"
            assert "logs" in error["message"] and "X-API-Key" in error["message"]
            assert api.key not in error["message"]


async def test_a_key_under_any_query_name_is_refused_and_other_queries_pass(api: ApiEnv) -> None:
    status, body = await get(api, "/v1/transcriptions", api.auth, q=api.key)
    assert status == 401 and body["error"]["code"] == "credentials_in_query"
    status, body = await get(api, "/v1/transcriptions", api.auth, q="nag", limit="5")
    assert status == 200 and body["limit"] == 5
    # The OpenAI-compatible routes answer in OpenAI's shape, with the same reason.
    async with api.http.post(f"{api.base}/v1/audio/transcriptions", params={"api_key": api.key}) as response:
        assert response.status == 401
        error = (await response.json())["error"]
    assert error["type"] == "authentication_error" and error["code"] == "credentials_in_query"


async def test_no_credential_says_both_ways_to_send_one(api: ApiEnv) -> None:
    status, body = await get(api, "/v1/me", {})
    assert status == 401
    assert "Authorization: Bearer" in body["error"]["message"] and "X-API-Key" in body["error"]["message"]
