"""Hostile input at the API edge answers 4xx in the JSON error shape, never 500 (issue 11, §6)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.api_harness import ApiEnv, api_settings, live_api, sqlite_copy


@pytest.fixture
async def api(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path))
    async with live_api(settings, minutes=10, workers=False, is_admin=True) as env:
        yield env


@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000,  # deeper than the interpreter's recursion limit
        '{"name": ' + "[" * 200 + "]" * 200 + "}",  # parses, but deeper than any body of ours
        '{"name": ' + '{"a": ' * 200 + "1" + "}" * 200 + "}",
    ],
    ids=["unclosed-5000", "arrays-200", "objects-200"],
)
@pytest.mark.parametrize(
    "path", ["/v1/api-keys", "/v1/uploads/presign", "/v1/transcriptions", "/v1/tts", "/v1/admin/users"]
)
async def test_deeply_nested_json_is_a_400(api: ApiEnv, path: str, body: str) -> None:
    status, answer = await api.call("POST", path, data=body, headers={"Content-Type": "application/json"})
    assert status == 400, answer
    assert answer["error"]["code"] == "invalid_request"
    assert "nests deeper than 32 levels" in answer["error"]["message"]  # said before pydantic looks


async def test_a_telegram_id_beyond_64_bits_is_a_400(api: ApiEnv) -> None:
    status, answer = await api.call("POST", "/v1/admin/users", json={"telegram_id": 2**70})
    assert status == 400, answer
    assert answer["error"]["field"] == "telegram_id"
    status, answer = await api.call("POST", "/v1/admin/users", json={"telegram_id": 2**63 - 1})
    assert status == 201, answer


async def test_email_uniqueness_ignores_case(api: ApiEnv) -> None:
    status, created = await api.call("POST", "/v1/admin/users", json={"email": "Jane@Example.com"})
    assert status == 201 and created["user"]["email"] == "jane@example.com"
    status, answer = await api.call("POST", "/v1/admin/users", json={"email": "JANE@example.COM"})
    assert status == 409, answer


async def test_replaying_a_grant_key_with_another_amount_is_a_409_naming_the_original(api: ApiEnv) -> None:
    status, created = await api.call("POST", "/v1/admin/users", json={"create_api_key": False})
    grants = f"/v1/admin/users/{created['user']['id']}/grants"
    status, first = await api.call("POST", grants, json={"minutes": 1, "idempotency_key": "promo"})
    assert status == 201 and first["granted_seconds"] == 60 and first["balance"]["seconds"] == 60

    status, replay = await api.call("POST", grants, json={"minutes": 1, "idempotency_key": "promo"})
    assert status == 201 and replay == first  # the same grant: answered again, added once
    status, clash = await api.call("POST", grants, json={"minutes": 5, "idempotency_key": "promo"})
    assert status == 409, clash
    assert clash["error"]["code"] == "conflict"
    assert clash["error"]["granted_seconds"] == 60
    status, other = await api.call("POST", grants, json={"minutes": 1, "idempotency_key": "other"})
    assert status == 201 and other["balance"]["seconds"] == 120  # only the two real grants added


def _jwt(api: ApiEnv, exp: Any) -> dict[str, str]:
    secret = api.platform.settings.secret_key.get_secret_value()
    return {"Authorization": f"Bearer {jwt.encode({'sub': api.user_id, 'exp': exp}, secret)}"}


@pytest.mark.parametrize(
    ("exp", "status"),
    [
        (60, 200),
        (60.5, 200),  # a NumericDate may have a fraction
        (str(int(time.time()) + 60), 401),  # a string, which PyJWT would take
        (10 * 365 * 86400, 401),  # beyond the maximum lifetime (24 h by default)
        (86400 + 3600, 401),
        (None, 401),
    ],
    ids=["int", "float", "string", "ten-years", "25-hours", "null"],
)
async def test_jwt_exp_is_a_number_within_the_maximum_lifetime(api: ApiEnv, exp: Any, status: int) -> None:
    value = time.time() + exp if isinstance(exp, int | float) else exp
    async with api.http.get(f"{api.base}/v1/me", headers=_jwt(api, value)) as response:
        body = await response.json()
    assert response.status == status, body
    if status == 401:
        assert body["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "bad",
    ["\x00", "\x1b", "\u202a", "\u202e", "\u2066", "\u2069"],
    ids=["NUL", "ESC", "LRE", "RLO", "LRI", "PDI"],
)
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/api-keys", "name"),
        ("/v1/admin/users", "name"),
        ("/v1/admin/users", "api_key_name"),
    ],
)
async def test_names_with_control_or_bidi_override_characters_are_refused(
    api: ApiEnv, path: str, field: str, bad: str
) -> None:
    name = f"invoice{bad}fdp.exe"
    status, answer = await api.call("POST", path, json={field: name})
    assert status == 400, answer
    assert answer["error"]["field"] == field


async def test_names_in_any_script_are_accepted(api: ApiEnv) -> None:
    name = "\u0645\u062d\u0645\u062f \u200f(\u0645\u0627\u0644\u064a\u0629)"  # Arabic, with an RLM
    status, created = await api.call("POST", "/v1/admin/users", json={"name": name, "api_key_name": "Ключ"})
    assert status == 201 and created["user"]["name"] == name, created
