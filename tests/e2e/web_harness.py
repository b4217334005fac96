"""The web dashboard under a real browser: the live app (``live_api``) on a loop of its own thread,
Debian's Chromium driven by Playwright (``executable_path``, never a downloaded browser), and
helpers to make accounts on the server's own database and sign in."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
import uuid
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from core.db.migrate import upgrade
from core.platform import Platform
from core.services import web_accounts
from core.settings import Settings
from tests.api_harness import live_api
from tests.conftest import require

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

T = TypeVar("T")
CHROMIUM = os.environ.get("NAGOVORI_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / ".artifacts" / "web"
DOC_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
PASSWORD = "correct horse battery staple"


@dataclass
class WebServer:
    """The running app: its URL, its platform, and a way to run coroutines on its loop."""

    base: str
    platform: Platform
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run ``coroutine`` on the server's loop (its database engine belongs to that loop)."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def account(self, *, minutes: float = 10, password: str = PASSWORD) -> tuple[str, str]:
        """A new account that signs in with ``password``; (e-mail, user id)."""
        email = f"user-{uuid.uuid4().hex[:10]}@Example.com"  # mixed case: stored lower-cased
        user = self.run(
            web_accounts.create_account(
                self.platform.db, email=email, password=password, starting_minutes=minutes
            )
        )
        return email, user.id


def migrated_sqlite(folder: Path) -> str:
    """A fresh SQLite database in ``folder``, migrated; its URL. Migrated on a thread of its own:
    Playwright's sync API runs an event loop on the test's thread."""
    url = f"sqlite+aiosqlite:///{folder / 'web.db'}"
    with ThreadPoolExecutor(1) as pool:
        pool.submit(upgrade, url).result()
    return url


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[WebServer]:
    """``live_api(settings)`` with its workers, on a loop in a thread of its own, until the block ends."""
    ready: list[WebServer] = []
    started = threading.Event()
    stop: asyncio.Event | None = None

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with live_api(settings, minutes=0) as env:
            ready.append(WebServer(env.base, env.platform, asyncio.get_running_loop()))
            started.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(60), "the server did not start"
    server = ready[0]
    try:
        yield server
    finally:
        assert stop is not None
        server.loop.call_soon_threadsafe(stop.set)
        thread.join(30)


def launch_browser(extra_args: Sequence[str] = ()) -> Iterator[Browser]:
    """Debian's Chromium, headless (skipped locally, failing in CI, when it is missing);
    ``extra_args`` are more command-line switches (a fake microphone, say)."""
    require(shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser: Browser, base: str, *, language: str = "en-US") -> BrowserContext:
    context = browser.new_context(
        base_url=base,
        locale=language,
        extra_http_headers={"Accept-Language": f"{language},{language[:2]};q=0.9"},
        viewport={"width": 1100, "height": 820},
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    context.set_default_timeout(10_000)
    return context


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/signin")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def screenshot(page: Page, name: str, *, docs: bool = False) -> None:
    """Into tests/.artifacts/web/ (not committed); ``docs`` also into docs/img/ for docs/web.md
    when ``NAGOVORI_DOC_SCREENSHOTS=1`` (so that a test run leaves the checkout unchanged)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if docs and os.environ.get("NAGOVORI_DOC_SCREENSHOTS") == "1":
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOC_IMAGES / f"web-{name}.png"), full_page=True)
