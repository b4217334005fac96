"""The Admin page in a real browser (Debian's Chromium through Playwright) against the live app:
finding an account, granting it minutes after a confirmation (once, whatever is re-sent), creating
an account that then signs in, a failed job with its error code, and 403 for everyone else.

One server and one browser for the module; each test makes its own accounts and browser context.
"""

from __future__ import annotations

import base64
import random
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

pytest.importorskip("playwright")

from core.services import accounts, users
from tests.api_harness import api_settings
from tests.e2e.web_harness import (
    PASSWORD,
    WebServer,
    launch_browser,
    migrated_sqlite,
    new_context,
    screenshot,
    serving,
    sign_in,
)
from tests.integration.bad_files import flac_metadata

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CLIP = "en/jfk.flac"  # its header announces 11 s


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    tmp = tmp_path_factory.mktemp("web-admin")
    url = migrated_sqlite(tmp)
    settings = api_settings(tmp, url, signin_ip_max_failures=10_000)  # every test signs in from 127.0.0.1
    with serving(settings) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture
def context(browser: Browser, server: WebServer) -> Iterator[BrowserContext]:
    context = new_context(browser, server.base)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def admin_page(context: BrowserContext, server: WebServer) -> Page:
    """A browser signed in as a new administrator."""
    email, user_id = server.account(minutes=0)
    server.run(users.set_admin(server.platform, user_id, True))
    page = context.new_page()
    sign_in(page, email)
    page.wait_for_url(re.compile(r"/$"))
    return page


def balance(server: WebServer, user_id: str) -> int:
    return server.run(accounts.balance_seconds(server.platform.db, user_id))


def test_an_admin_finds_an_account_and_grants_minutes_once_after_confirming(
    admin_page: Page, server: WebServer, browser: Browser
) -> None:
    page = admin_page
    email, user_id = server.account(minutes=10)
    server.account(minutes=1)  # another account, which the search must leave out
    page.get_by_role("navigation").get_by_role("link", name="Admin").click()
    page.wait_for_url(re.compile(r"/admin$"))

    page.get_by_label("Find an account").fill(email.split("@")[0].upper())  # any case, part of it
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#accounts tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-user-id") == user_id
    assert "10 min" in rows.first.inner_text()
    screenshot(page, "admin")
    rows.first.get_by_role("link", name=f"Open the account {email.lower()}").click()

    # A wrong amount is refused in words, and nothing is granted.
    page.get_by_label("Minutes", exact=True).fill("0")
    page.get_by_label("Reason", exact=True).fill("refund")
    page.get_by_role("button", name="Review the grant").click()
    assert page.get_by_role("alert").inner_text().startswith("Enter a number of minutes greater than zero")
    assert page.get_by_label("Reason", exact=True).input_value() == "refund"  # the form keeps what was typed

    page.get_by_label("Minutes", exact=True).fill("5")
    page.get_by_label("Reason", exact=True).fill("refund for a failed upload")
    page.get_by_role("button", name="Review the grant").click()
    assert page.locator("#confirm-question").inner_text() == f"Grant 5 min to {email.lower()}?"
    assert page.locator("#confirm-after").inner_text() == "15 min"
    assert balance(server, user_id) == 600  # nothing granted before the confirmation
    screenshot(page, "admin-confirm")
    token = page.locator('input[name="form_token"]').input_value()
    csrf = page.locator('input[name="csrf"]').first.input_value()
    page.get_by_role("button", name="Grant 5 min").click()

    page.wait_for_url(re.compile(rf"/admin/users/{user_id}\?granted=1$"))
    assert page.get_by_role("status").inner_text() == "The minutes are granted and recorded with the reason."
    assert page.locator("#user-balance").inner_text() == "15 min"
    assert balance(server, user_id) == 600 + 300
    screenshot(page, "admin-user")
    latest = page.locator("#grants tbody tr").first.inner_text()
    assert "5 min" in latest and "refund for a failed upload (by admin " in latest

    # The confirmation sent again (a double click, a reload) adds nothing.
    again = page.request.post(
        f"/admin/users/{user_id}/grant",
        form={
            "csrf": csrf,
            "minutes": "5",
            "reason": "refund for a failed upload",
            "form_token": token,
            "confirm": "yes",
        },
    )
    assert again.ok and again.url.endswith("?repeated=1")
    assert balance(server, user_id) == 900

    # The user sees the new balance in a browser of their own.
    theirs = new_context(browser, server.base)
    try:
        user_page = theirs.new_page()
        sign_in(user_page, email)
        user_page.wait_for_url(re.compile(r"/$"))
        assert user_page.locator("#balance").inner_text() == "15 min"
    finally:
        theirs.close()


def test_the_grant_names_the_admin_in_the_ledger(admin_page: Page, server: WebServer) -> None:
    page = admin_page
    _, user_id = server.account(minutes=0)
    page.goto(f"/admin/users/{user_id}")
    page.get_by_label("Minutes", exact=True).fill("2,5")  # a decimal comma too
    page.get_by_label("Reason", exact=True).fill("  goodwill\n for the outage ")
    page.get_by_role("button", name="Review the grant").click()
    page.get_by_role("button", name="Grant 2 min 30 s").click()
    page.wait_for_url(re.compile(r"\?granted=1$"))
    assert balance(server, user_id) == 150
    reason = page.locator("#grants tbody tr").first.locator("td").nth(3).inner_text()
    admin_id = re.fullmatch(r"goodwill for the outage \(by admin ([0-9a-f-]{36}), web\)", reason)
    assert admin_id is not None, reason
    admin = server.run(accounts.find_account(server.platform.db, admin_id.group(1)))
    assert admin is not None and admin.is_admin

    # Amounts and reasons that lie are refused at the review and at the grant itself; nothing added.
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    bad = [(m, "why") for m in ("-5", "nan", "inf", "1e9", "100001", "abc", "0.001", "")] + [
        ("1", " "),
        ("1", "x" * 161),
    ]
    for minutes, why in bad:
        for confirm in ("", "yes"):
            answer = page.request.post(
                f"/admin/users/{user_id}/grant",
                form={
                    "csrf": csrf,
                    "minutes": minutes,
                    "reason": why,
                    "form_token": "t" * 32,
                    "confirm": confirm,
                },
            )
            assert answer.status == 400, (minutes, why, confirm, answer.status)
    assert balance(server, user_id) == 150


def test_an_admin_creates_an_account_that_signs_in(
    admin_page: Page, server: WebServer, browser: Browser
) -> None:
    page = admin_page
    page.goto("/admin")
    email = f"new-{uuid.uuid4().hex[:10]}@example.com"
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Initial password").fill("short")
    page.get_by_label("Starting minutes").fill("3")
    # The browser's own check (minlength) is bypassed: the server must refuse too.
    page.locator("#new-password").evaluate("el => el.removeAttribute('minlength')")
    page.get_by_role("button", name="Create the account").click()
    assert page.get_by_role("alert").inner_text() == "A password has at least 8 characters."
    assert page.get_by_label("E-mail").input_value() == email
    assert page.get_by_label("Initial password").input_value() == ""  # never echoed back

    page.get_by_label("Initial password").fill(PASSWORD)
    page.get_by_role("button", name="Create the account").click()
    page.wait_for_url(re.compile(r"/admin/users/[0-9a-f-]{36}\?created=1$"))
    assert page.get_by_role("status").inner_text() == "The account is created; it can sign in now."
    assert page.locator("#user-balance").inner_text() == "3 min"
    assert "starting balance (by admin " in page.locator("#grants tbody tr").first.inner_text()

    # The same e-mail again: refused in words.
    page.goto("/admin")
    page.get_by_label("E-mail").fill(email.upper())
    page.get_by_label("Initial password").fill(PASSWORD)
    page.get_by_role("button", name="Create the account").click()
    assert page.get_by_role("alert").inner_text() == "An account with this e-mail already exists."

    theirs = new_context(browser, server.base)
    try:
        new_user = theirs.new_page()
        sign_in(new_user, email)
        new_user.wait_for_url(re.compile(r"/$"))
        assert new_user.locator("#balance").inner_text() == "3 min"
        # Not an admin: no Admin link.
        assert new_user.get_by_role("navigation").get_by_role("link", name="Admin").count() == 0
    finally:
        theirs.close()


def test_everyone_but_admins_is_refused(context: BrowserContext, server: WebServer) -> None:
    stranger = context.new_page()
    stranger.goto("/admin")
    assert "/signin?next=/admin" in stranger.url  # not signed in: sign in first

    email, user_id = server.account(minutes=1)
    page = context.new_page()
    sign_in(page, email)
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("navigation").get_by_role("link", name="Overview").count() == 1
    assert page.get_by_role("navigation").get_by_role("link", name="Admin").count() == 0
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert csrf

    for path in ("/admin", f"/admin/users/{user_id}"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        assert page.get_by_role("alert").inner_text() == "This page is for administrators only."
    screenshot(page, "admin-forbidden")

    # A forged form with a valid CSRF token still grants nothing and creates nobody.
    grant = page.request.post(
        f"/admin/users/{user_id}/grant",
        form={"csrf": csrf, "minutes": "500", "reason": "me", "form_token": "x" * 32, "confirm": "yes"},
    )
    assert grant.status == 403
    created = page.request.post(
        "/admin/users", form={"csrf": csrf, "email": "mine@example.com", "password": PASSWORD, "minutes": "9"}
    )
    assert created.status == 403
    assert balance(server, user_id) == 60
    assert server.run(accounts.find_account(server.platform.db, "mine@example.com")) is None

    # Once promoted, the same session sees the page (the account is read on every request).
    server.run(users.set_admin(server.platform, user_id, True))
    response = page.goto("/admin")
    assert response is not None and response.status == 200
    page.get_by_role("button", name="Русский").click()  # and in Russian
    assert page.get_by_role("heading", level=1).inner_text() == "Администрирование"
    assert page.get_by_role("navigation").get_by_role("link", name="Администрирование").count() == 1
    assert page.get_by_label("Найти учётную запись").count() == 1


def test_a_failed_job_shows_with_its_error_code(
    admin_page: Page, server: WebServer, shared_audio: Path
) -> None:
    email, _ = server.account(minutes=2)
    token = requests.post(
        f"{server.base}/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=30
    ).json()["access_token"]
    # A good FLAC header, then garbage where the frames should be: only the worker finds out.
    corrupt = flac_metadata((shared_audio / CLIP).read_bytes()) + random.Random(7).randbytes(50_000)
    done = requests.post(
        f"{server.base}/v1/transcriptions",
        headers={"Authorization": f"Bearer {token}"},
        json={"audio_data": base64.b64encode(corrupt).decode(), "wait": True},
        timeout=60,
    )
    assert done.status_code in (200, 201), done.text
    job = done.json()
    assert job["status"] == "failed" and job["error_code"] == "invalid_audio", job

    page = admin_page
    page.goto("/admin")
    row = page.locator(f'#failed-jobs tr[data-job-id="{job["id"]}"]')
    assert row.locator(".error-code").inner_text() == "invalid_audio"
    assert email.lower() in row.inner_text()
    assert row.locator(".error-message").inner_text()  # the message in words, under the code
    # The owner found by a search, above the failed list: the picture in docs/web.md.
    page.get_by_label("Find an account").fill(email.split("@")[0])
    page.get_by_role("button", name="Search").click()
    assert page.locator("#accounts tbody tr").count() == 1
    screenshot(page, "admin", docs=True)
