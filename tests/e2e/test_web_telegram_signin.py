"""The Telegram bot's sign-in link in a real browser (Debian's Chromium through Playwright) against
the live app: opening the link only asks, the button signs a Telegram-only account (no e-mail, no
password) in and lands on its Overview; a used, expired or unknown link gets a page in words.

The link is issued by the same service the bot's /login calls (the bot side:
tests/e2e/test_bot_login.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
import requests

pytest.importorskip("playwright")
from playwright.sync_api import expect

from core.services import accounts, signin_links
from core.services.signin_links import LinkState
from tests.api_harness import api_settings
from tests.e2e.web_harness import WebServer, launch_browser, migrated_sqlite, new_context, screenshot, serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

BOT = "nagovori_test_bot"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    tmp = tmp_path_factory.mktemp("web-tg")
    url = migrated_sqlite(tmp)
    with serving(api_settings(tmp, url, bot_username=BOT)) as running:
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


def telegram_user(server: WebServer, telegram_id: int, name: str, minutes: float) -> str:
    """A bot user's account, made the way the bot makes it on first contact; its id."""
    user, created = server.run(
        accounts.telegram_account(
            server.platform.db, telegram_id, name=name, language="en", free_minutes=minutes
        )
    )
    assert created
    return user.id


def link_path(server: WebServer, user_id: str, ttl: timedelta = signin_links.LINK_TTL) -> tuple[str, str]:
    """(the link's path and query, its token), issued as /login issues it."""
    link = server.run(signin_links.issue(server.platform, user_id, ttl=ttl))
    parts = urlsplit(link.url)
    assert parts.path == "/signin/telegram" and parts.query == f"token={link.token}"
    return f"{parts.path}?{parts.query}", link.token


def state(server: WebServer, token: str) -> LinkState:
    return server.run(signin_links.inspect(server.platform, token))


def test_a_bot_user_signs_in_with_the_link_and_sees_their_balance(page: Page, server: WebServer) -> None:
    user_id = telegram_user(server, 770001, "Vera Telegram", minutes=7.5)
    path, token = link_path(server, user_id)

    # A link preview or prefetcher only GETs: the page asks, and the link still works.
    preview = requests.get(server.base + path, timeout=30)
    assert preview.status_code == 200 and 'name="token"' in preview.text
    page.goto(path)
    expect(page.get_by_role("heading", name="Sign in with Telegram")).to_be_visible()
    assert state(server, token) is LinkState.VALID
    # A POST from elsewhere (no CSRF token of this browser) is refused and uses nothing up.
    forged = requests.post(server.base + "/signin/telegram", data={"token": token}, timeout=30)
    assert forged.status_code == 403 and "nagovori_session" not in forged.cookies
    assert state(server, token) is LinkState.VALID
    screenshot(page, "telegram-signin", docs=True)

    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator("#balance").inner_text() == "7 min 30 s"
    expect(page.get_by_text("Signed in as Vera Telegram")).to_be_visible()
    assert state(server, token) is LinkState.USED

    # The same link again, even in this signed-in browser: refused in words.
    page.goto(path)
    expect(page.locator("#link-refused")).to_have_text(
        "This sign-in link has been used already; each link works only once."
    )
    expect(page.get_by_role("link", name=f"@{BOT}")).to_have_attribute("href", f"https://t.me/{BOT}")
    assert page.get_by_role("button", name="Sign in").count() == 0


def test_expired_and_unknown_links_get_a_page_in_words(browser: Browser, server: WebServer) -> None:
    user_id = telegram_user(server, 770002, "Ivan", minutes=3)
    path, token = link_path(server, user_id, ttl=timedelta(milliseconds=1))
    context = new_context(browser, server.base, language="ru-RU")
    try:
        page = context.new_page()
        response = page.goto(path)
        assert response is not None and response.status == 410
        expect(page.locator("#link-refused")).to_have_text(
            "Срок действия ссылки истёк; ссылки действуют 10 минут."
        )
        assert state(server, token) is LinkState.EXPIRED

        response = page.goto("/signin/telegram?token=not-a-token-we-issued")
        assert response is not None and response.status == 404
        expect(page.locator("#link-refused")).to_contain_text("Эта ссылка для входа недействительна")
        screenshot(page, "telegram-signin-refused")
        # Nobody got signed in: the Overview still sends this browser to the sign-in page.
        page.goto("/")
        page.wait_for_url(re.compile(r"/signin"))
    finally:
        context.close()
