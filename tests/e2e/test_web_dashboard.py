"""The web dashboard in a real browser (Debian's Chromium through Playwright) against the live app:
sign-in, lockout, balance and usage, API keys, CSRF, languages, security headers, isolation.

One server and one browser for the module; each test makes its own accounts and browser context.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

pytest.importorskip("playwright")
from playwright.sync_api import expect

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

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

MAX_FAILURES = 3
BOT = "nagovori_test_bot"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    tmp = tmp_path_factory.mktemp("web")
    url = migrated_sqlite(tmp)
    settings = api_settings(
        tmp,
        url,
        signin_max_failures=MAX_FAILURES,
        signin_ip_max_failures=10_000,  # every test signs in from 127.0.0.1
        bot_username=BOT,
    )
    with serving(settings) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture
def page(browser: Browser, server: WebServer) -> Iterator[Page]:
    context = new_context(browser, server.base)
    try:
        yield context.new_page()
    finally:
        context.close()


def api(server: WebServer, method: str, path: str, token: str, **kwargs: object) -> requests.Response:
    return requests.request(
        method, f"{server.base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs
    )


def jwt_for(server: WebServer, email: str, password: str = PASSWORD) -> str:
    response = requests.post(
        f"{server.base}/v1/auth/token", json={"email": email, "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and 60 <= body["expires_in"] <= 86400
    return str(body["access_token"])


def in_words(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if minutes and rest:
        return f"{minutes} min {rest} s"
    return f"{minutes} min" if minutes else f"{rest} s"


def test_sign_in_shows_balance_usage_chart_and_recent_jobs(page: Page, server: WebServer) -> None:
    email, _ = server.account(minutes=12.5)
    # Real usage through the API with a JWT from /v1/auth/token: a short espeak-ng speech job.
    token = jwt_for(server, email.upper())  # e-mails match whatever their case
    created = api(server, "POST", "/v1/tts", token, json={"text": "Hello from the dashboard test."})
    assert created.status_code in (200, 201, 202), created.text
    job_id = created.json()["job"]["id"] if "job" in created.json() else created.json()["id"]
    deadline = time.monotonic() + 30
    while True:
        job = api(server, "GET", f"/v1/tts/{job_id}", token).json()["job"]
        if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert job["status"] == "completed", job
    billed = int(job["billed_seconds"])
    assert billed >= 1
    left = 750 - billed

    sign_in(page, email)
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator("#balance").inner_text() == in_words(left)
    assert page.locator("#used").inner_text() == in_words(billed)
    # The chart has a bar for today's API speech, labelled in words; the table says the same.
    bar_titles = page.locator("svg.chart rect title").all_text_contents()
    assert any("API · speech" in title for title in bar_titles), bar_titles
    assert page.locator("ul.legend").inner_text().startswith("API · speech")
    jobs = page.locator("#jobs tbody tr")
    assert jobs.count() == 1
    assert "Hello from the dashboard test." in jobs.first.inner_text()
    assert "completed" in jobs.first.inner_text()
    # The current page is marked for screen readers; the skip link leads to the content.
    assert page.get_by_role("link", name="Overview").get_attribute("aria-current") == "page"
    screenshot(page, "overview")


def test_a_wrong_password_says_so_and_signs_nobody_in(page: Page, server: WebServer) -> None:
    email, _ = server.account()
    page.goto("/signin")
    screenshot(page, "signin", docs=True)
    sign_in(page, email, "not the password")
    alert = page.get_by_role("alert")
    assert alert.inner_text() == "Wrong e-mail or password."
    assert page.get_by_label("E-mail").input_value() == email  # the form keeps what was typed
    assert not any(c["name"] == "nagovori_session" for c in page.context.cookies())
    page.goto("/keys")
    assert "/signin" in page.url
    # An unknown e-mail gets the very same answer (which accounts exist is not told).
    sign_in(page, "nobody-here@example.com", "whatever it is")
    assert page.get_by_role("alert").inner_text() == "Wrong e-mail or password."


def test_repeated_failures_lock_the_account_for_the_page_and_the_token_route(
    page: Page, server: WebServer
) -> None:
    email, _ = server.account()
    for _ in range(MAX_FAILURES):
        sign_in(page, email, "wrong guess 1234")
        assert page.get_by_role("alert").inner_text() == "Wrong e-mail or password."
    sign_in(page, email)  # the right password, but locked now
    assert re.fullmatch(
        r"Too many failed sign-ins\. Try again in \d+ min\.", page.get_by_role("alert").inner_text()
    )
    assert "/signin" in page.url
    screenshot(page, "lockout")
    locked = requests.post(
        f"{server.base}/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=30
    )
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert locked.json()["error"]["code"] == "signin_locked"
    # Another account from the same address is not locked.
    other, _ = server.account()
    sign_in(page, other)
    page.wait_for_url(re.compile(r"/$"))


def test_create_copy_and_revoke_a_key_and_the_api_refuses_it(page: Page, server: WebServer) -> None:
    email, _ = server.account()
    sign_in(page, email)
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create a key").click()
    shown = page.get_by_label("New API key").input_value()
    assert re.fullmatch(r"nag_[A-Za-z0-9_\-]{40,}", shown)
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == shown
    screenshot(page, "key-created", docs=True)
    assert api(server, "GET", "/v1/me", shown).status_code == 200

    page.goto("/keys")  # the secret is shown once: not on the list
    assert shown not in page.content()
    row = page.locator("#keys tbody tr", has_text="laptop")
    assert shown[:8] in row.inner_text()
    assert "never" not in row.inner_text()  # it was just used (last used is shown)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke the key “laptop”").click()
    assert page.get_by_role("status").inner_text().startswith("The key is revoked")
    assert "revoked" in page.locator("#keys tbody tr", has_text="laptop").inner_text()
    refused = api(server, "GET", "/v1/me", shown)
    assert refused.status_code == 401, refused.text


def test_a_post_without_the_csrf_token_is_refused(page: Page, server: WebServer) -> None:
    email, _ = server.account()
    sign_in(page, email)
    page.wait_for_url(re.compile(r"/$"))
    # The browser's own cookies (SameSite notwithstanding), without or with a wrong token.
    for form in ({"name": "forged"}, {"name": "forged", "csrf": "0" * 64}):
        refused = page.request.post("/keys", form=form)
        assert refused.status == 403
        assert "The form has expired or did not come from this site" in refused.text()
    refused = page.request.post("/signout/everywhere", form={})
    assert refused.status == 403
    page.goto("/keys")
    assert "forged" not in page.locator("main").inner_text()
    assert page.locator("#keys").count() == 0  # no key was made
    # A page's own fetch() carries the token as X-CSRF-Token (app.js reads it from the page).
    status = page.evaluate(
        """async () => {
            const body = new FormData();
            body.append("name", "from-fetch");
            return (await nagovori.post("/keys", body)).status;
        }"""
    )
    assert status == 201
    page.reload()
    assert page.locator("#keys tbody tr").all_inner_texts()[0].startswith("from-fetch")
    # Signing in needs the token too (no one can sign a visitor into their own account).
    fresh = page.context.browser.new_context(base_url=server.base)  # type: ignore[union-attr]
    try:
        response = fresh.request.post("/signin", form={"email": email, "password": PASSWORD})
        assert response.status == 403
    finally:
        fresh.close()


def test_the_russian_interface_follows_accept_language_and_the_choice_is_remembered(
    browser: Browser, server: WebServer
) -> None:
    email, _ = server.account(minutes=3)
    context = new_context(browser, server.base, language="ru-RU")
    try:
        page = context.new_page()
        page.goto("/signin")
        assert page.locator("html").get_attribute("lang") == "ru"
        assert page.get_by_role("heading", level=1).inner_text() == "Вход"
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Пароль").fill("не тот пароль")
        page.get_by_role("button", name="Войти").click()
        assert page.get_by_role("alert").inner_text() == "Неверный e-mail или пароль."
        page.get_by_label("Пароль").fill(PASSWORD)
        page.get_by_role("button", name="Войти").click()
        page.wait_for_url(re.compile(r"/$"))
        assert page.get_by_role("heading", level=1).inner_text() == "Обзор"
        assert page.locator("#balance").inner_text() == "3 мин"
        screenshot(page, "overview-ru", docs=True)
        page.get_by_role("button", name="English").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Overview"
        page.goto("/buy")  # remembered, although the browser still asks for Russian
        assert page.get_by_role("heading", level=1).inner_text() == "Buy minutes"
        assert page.get_by_role("button", name="English").get_attribute("aria-pressed") == "true"
    finally:
        context.close()


def test_buy_minutes_lists_the_packages_and_links_the_bot(page: Page, server: WebServer) -> None:
    email, _ = server.account(minutes=1)
    sign_in(page, email)
    page.get_by_role("link", name="Buy minutes").first.click()
    packages = page.locator("ul.packages li")
    assert packages.count() == 3
    assert "60 minutes" in packages.first.inner_text() and "50 Telegram Stars" in packages.first.inner_text()
    link = page.get_by_role("link", name=f"Open @{BOT} in Telegram")
    assert link.get_attribute("href") == f"https://t.me/{BOT}?start=buy"
    screenshot(page, "buy", docs=True)


def test_security_headers_and_a_light_first_load(page: Page, server: WebServer) -> None:
    sizes: list[int] = []
    page.on("response", lambda r: sizes.append(len(r.body())) if r.status == 200 else None)
    response = page.goto("/signin")
    assert response is not None
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cache-control"] == "no-store"
    cookie = next(c for c in page.context.cookies() if c["name"] == "nagovori_pre")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.wait_for_load_state("networkidle")
    assert sum(sizes) < 150_000, sizes
    assert len(sizes) >= 3  # the page, its stylesheet and its script: all from us
    asset = requests.get(f"{server.base}/static/app.js", timeout=30)
    assert asset.headers["X-Content-Type-Options"] == "nosniff"
    # No inline script anywhere: the CSP would block it, so none may be needed.
    assert "<script>" not in page.content() and " onclick=" not in page.content()
    email, _ = server.account()
    sign_in(page, email)
    page.wait_for_url(re.compile(r"/$"))
    session = next(c for c in page.context.cookies() if c["name"] == "nagovori_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax" and not session["secure"]  # http here


def test_another_users_keys_and_jobs_stay_out_of_sight(browser: Browser, server: WebServer) -> None:
    alice, _ = server.account()
    bob, _ = server.account()
    alice_ctx, bob_ctx = new_context(browser, server.base), new_context(browser, server.base)
    try:
        a = alice_ctx.new_page()
        sign_in(a, alice)
        a.goto("/keys")
        a.get_by_label("Name").fill("alice-secret-project")
        a.get_by_role("button", name="Create a key").click()
        alice_key = a.get_by_label("New API key").input_value()
        a.goto("/keys")
        key_id = a.locator("#keys tbody tr").first.get_attribute("data-key-id")

        b = bob_ctx.new_page()
        sign_in(b, bob)
        b.goto("/keys")
        assert "alice-secret-project" not in b.content()
        # Bob's own valid CSRF token, Alice's key id: not his, so nothing happens.
        token = b.locator("form[action='/keys'] input[name='csrf']").get_attribute("value")
        answer = b.request.post(f"/keys/{key_id}/revoke", form={"csrf": token or ""})
        assert answer.status == 404
        assert api_get_me(server, alice_key) == 200
    finally:
        alice_ctx.close()
        bob_ctx.close()


def api_get_me(server: WebServer, key: str) -> int:
    return api(server, "GET", "/v1/me", key).status_code


def test_sign_out_and_sign_out_everywhere(browser: Browser, server: WebServer) -> None:
    email, _ = server.account()
    first, second = new_context(browser, server.base), new_context(browser, server.base)
    try:
        one, two = first.new_page(), second.new_page()
        for page in (one, two):
            sign_in(page, email)
            page.wait_for_url(re.compile(r"/$"))
        one.reload()
        assert "Browsers signed in to this account: 2." in one.locator("main").inner_text()
        one.get_by_role("button", name="Sign out everywhere").click()
        assert one.get_by_role("status").inner_text() == "You are signed out on every device."
        two.goto("/")
        assert "/signin" in two.url
        sign_in(two, email)
        two.wait_for_url(re.compile(r"/$"))
        two.get_by_role("button", name="Sign out", exact=True).click()
        assert two.get_by_role("status").inner_text() == "You are signed out."
        two.goto("/keys")
        assert "/signin?next=/keys" in two.url
    finally:
        first.close()
        second.close()


def test_an_account_made_with_the_cli_signs_in_and_set_password_signs_it_out(
    page: Page, server: WebServer
) -> None:
    email = f"cli-{time.monotonic_ns()}@example.com"
    settings = server.platform.settings
    environ = {
        "PATH": "/usr/bin:/bin",
        "NAGOVORI_DATA_DIR": str(settings.data_dir),
        "NAGOVORI_DATABASE_URL": settings.effective_database_url,
        "NAGOVORI_SECRET_KEY": settings.secret_key.get_secret_value(),
    }
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "users",
            "create",
            "--email",
            email,
            "--minutes",
            "2",
            "--password-stdin",
        ],
        input=f"{PASSWORD}\n",
        capture_output=True,
        text=True,
        env=environ,
        cwd=Path(settings.data_dir).parent,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    sign_in(page, email)
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator("#balance").inner_text() == "2 min"
    changed = subprocess.run(
        [sys.executable, "-m", "cli", "users", "set-password", "--email", email, "--password-stdin"],
        input="a brand new password\n",
        capture_output=True,
        text=True,
        env=environ,
        cwd=Path(settings.data_dir).parent,
        timeout=60,
    )
    assert changed.returncode == 0, changed.stderr
    page.goto("/")
    assert "/signin" in page.url  # the new password signed every browser out
    sign_in(page, email, "a brand new password")
    page.wait_for_url(re.compile(r"/$"))


def test_keyboard_alone_signs_in_and_reaches_the_content(page: Page, server: WebServer) -> None:
    email, _ = server.account()
    page.goto("/signin")
    expect(page.get_by_label("E-mail")).to_be_focused()  # the e-mail field has the focus on arrival
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/$"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    # The focused control is visibly outlined (the ring is not left to the browser's default).
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_self_sign_up_when_open_grants_the_free_minutes(page: Page, server: WebServer) -> None:
    closed = page.goto("/signup")
    assert closed is not None and closed.status == 404
    assert page.get_by_role("alert").inner_text() == "There is no such page."
    page.goto("/signin")
    assert page.get_by_role("link", name="No account yet? Create one").count() == 0
    settings = server.platform.settings
    settings.signup, settings.free_minutes = "open", 4
    try:
        page.goto("/signin")
        page.get_by_role("link", name="No account yet? Create one").click()
        assert "4 free minutes" in page.locator("main").inner_text()
        email = f"new-{time.monotonic_ns()}@example.com"
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill("short")
        page.get_by_role("button", name="Create the account").click()
        assert "/signup" in page.url  # the browser's own check (minlength) keeps it here
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create the account").click()
        page.wait_for_url(re.compile(r"/$"))
        assert page.locator("#balance").inner_text() == "4 min"
        refused = page.context.request.post(
            "/signup", form={"email": email, "password": PASSWORD, "csrf": "x"}
        )
        assert refused.status == 403
    finally:
        settings.signup, settings.free_minutes = "closed", 10
