"""Web accounts and sessions on SQLite and PostgreSQL: passwords, lockout and its end, sign-up's free
minutes, sessions ending on sign-out everywhere and on a new password, and the JWT the API takes."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import Conflict, InvalidInput
from core.services import accounts, web_accounts, web_sessions
from tests.api_harness import ApiEnv

PASSWORD = "correct horse battery staple"


async def test_lockout_counts_per_account_and_ends_after_its_time(api: ApiEnv) -> None:
    platform = api.platform
    platform.settings.signin_max_failures = 2
    platform.settings.signin_lockout_seconds = 1
    user = await web_accounts.create_account(platform.db, email="Lock@Example.com", password=PASSWORD)
    with pytest.raises(web_accounts.SignInFailed):
        await web_accounts.sign_in(platform, "lock@example.com", "wrong one!", address="10.0.0.1")
    with pytest.raises(web_accounts.SignInFailed):
        await web_accounts.sign_in(platform, "lock@example.com", "wrong two!", address="10.0.0.2")
    # Locked for the account (from any address), even with the right password.
    with pytest.raises(web_accounts.SignInLocked) as locked:
        await web_accounts.sign_in(platform, "LOCK@example.com", PASSWORD, address="10.0.0.3")
    assert locked.value.details["retry_after"] == 1
    await asyncio.sleep(1.1)
    signed_in = await web_accounts.sign_in(platform, " lock@example.com ", PASSWORD, address="10.0.0.3")
    assert signed_in.id == user.id
    # Success cleared the account's count: one more failure does not lock it again.
    with pytest.raises(web_accounts.SignInFailed):
        await web_accounts.sign_in(platform, "lock@example.com", "wrong three", address="10.0.0.3")
    assert (
        await web_accounts.sign_in(platform, "lock@example.com", PASSWORD, address="10.0.0.3")
    ).id == user.id


async def test_an_address_is_locked_across_accounts(api: ApiEnv) -> None:
    platform = api.platform
    platform.settings.signin_ip_max_failures = 3
    await web_accounts.create_account(platform.db, email="ip@example.com", password=PASSWORD)
    for n in range(3):
        with pytest.raises(web_accounts.SignInFailed):
            await web_accounts.sign_in(platform, f"guess{n}@example.com", "whatever!", address="192.0.2.7")
    with pytest.raises(web_accounts.SignInLocked):
        await web_accounts.sign_in(platform, "ip@example.com", PASSWORD, address="192.0.2.7")
    assert await web_accounts.sign_in(platform, "ip@example.com", PASSWORD, address="192.0.2.8")


async def test_sign_up_grants_the_free_minutes_once_and_refuses_a_taken_email(api: ApiEnv) -> None:
    platform = api.platform
    with pytest.raises(web_accounts.SignUpClosed):
        await web_accounts.sign_up(platform, "new@example.com", PASSWORD, address="198.51.100.1")
    platform.settings.signup = "open"
    platform.settings.free_minutes = 7
    user = await web_accounts.sign_up(platform, "New@Example.com", PASSWORD, address="198.51.100.1")
    assert user.email == "new@example.com"
    assert await accounts.balance_seconds(platform.db, user.id) == 7 * 60
    with pytest.raises(Conflict):
        await web_accounts.sign_up(platform, "NEW@example.com", PASSWORD, address="198.51.100.1")
    with pytest.raises(InvalidInput):
        await web_accounts.sign_up(platform, "other@example.com", "short", address="198.51.100.1")
    with pytest.raises(InvalidInput):
        await web_accounts.sign_up(platform, "not-an-address", PASSWORD, address="198.51.100.1")
    assert (
        await web_accounts.sign_in(platform, "new@example.com", PASSWORD, address="198.51.100.1")
    ).id == user.id


async def test_sessions_end_everywhere_and_with_a_new_password(api: ApiEnv) -> None:
    platform = api.platform
    user = await web_accounts.create_account(platform.db, email="s@example.com", password=PASSWORD)
    first = await web_sessions.start(platform, user.id, user_agent="A" * 500)
    second = await web_sessions.start(platform, user.id)
    resolved = await web_sessions.resolve(platform, first)
    assert resolved is not None and resolved.user.id == user.id
    assert await web_sessions.resolve(platform, first + "x") is None
    assert await web_sessions.count(platform.db, user.id) == 2
    await web_sessions.end(platform.db, first)
    assert await web_sessions.resolve(platform, first) is None
    assert await web_sessions.resolve(platform, second) is not None
    await web_accounts.set_password(platform.db, "S@example.com", "a new password")
    assert await web_sessions.resolve(platform, second) is None
    with pytest.raises(web_accounts.SignInFailed):
        await web_accounts.sign_in(platform, "s@example.com", PASSWORD, address="203.0.113.1")
    third = await web_sessions.start(platform, user.id)
    assert await web_sessions.end_all(platform.db, user.id) == 1
    assert await web_sessions.resolve(platform, third) is None


async def test_the_token_route_answers_a_jwt_the_api_accepts(api: ApiEnv) -> None:
    user = await web_accounts.create_account(api.platform.db, email="jwt@example.com", password=PASSWORD)
    async with api.http.post(
        f"{api.base}/v1/auth/token", json={"email": "JWT@example.com", "password": PASSWORD}
    ) as response:
        assert response.status == 200
        body = await response.json()
    status, me = await api.call("GET", "/v1/me", key=body["access_token"])
    assert status == 200 and me["id"] == user.id
    async with api.http.post(
        f"{api.base}/v1/auth/token", json={"email": "jwt@example.com", "password": "wrong password"}
    ) as response:
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "invalid_credentials"
    async with api.http.post(f"{api.base}/v1/auth/token", json={"email": "jwt@example.com"}) as response:
        assert response.status == 400
    # Text that cannot be hashed or stored (a lone surrogate, a NUL) is a 400, not a server error.
    for raw in (
        b'{"email": "jwt@example.com", "password": "\\ud800x"}',
        b'{"email": "j\\ud800@x.io", "password": "p"}',
    ):
        async with api.http.post(
            f"{api.base}/v1/auth/token", data=raw, headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 400, await response.text()
