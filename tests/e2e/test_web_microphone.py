"""The Transcribe page's Dictate button in a real browser: Debian's Chromium with a fake microphone
that plays a shared clip (``--use-file-for-fake-audio-capture``), MediaRecorder's Opus chunks over
the API's realtime WebSocket (a one-time token from the page's own CSRF-protected endpoint) to
PocketSphinx. The partial text shows, then the finals with the clip's words; Stop bills exactly
what was recorded and the session is a job in History. Also: the Russian button, no minutes said in
words before the microphone is asked for, a refused microphone, a browser without MediaRecorder and
a session the server refuses said in words, and no token for a signed-out or forged request.

One server and one browser (with the fake microphone) for the module; each test has its own account.
"""

from __future__ import annotations

import csv
import re
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np
import pytest
import requests

pytest.importorskip("playwright")
from playwright.sync_api import expect

from core.services import accounts, transcriptions
from tests.api_harness import api_settings
from tests.conftest import SHARED_AUDIO, require
from tests.e2e.web_harness import (
    CHROMIUM,
    WebServer,
    launch_browser,
    migrated_sqlite,
    new_context,
    screenshot,
    serving,
    sign_in,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CLIP = "en/jfk.flac"  # 11 s: "And so my fellow Americans, ask not what your country can do for you, …"
# Words of the reference that PocketSphinx gets from the fake microphone (the rest it may mishear);
# the last are the clip's last, so seeing them means the whole clip was heard.
EXPECTED_WORDS = ("fellow americans", "do for your country")
SILENCE_SECONDS = 3.0  # after the speech, so its end is heard as a pause (the fake device loops)
RATE = 48000
SESSION_TIMEOUT_MS = 60_000
COUNT_MICROPHONE_REQUESTS = """
window.microphoneRequests = 0;
const ask = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (constraints) => { window.microphoneRequests += 1; return ask(constraints); };
"""


def reference(clip: str) -> str:
    with (SHARED_AUDIO / "references.tsv").open(encoding="utf-8", newline="") as table:
        return next(row["reference"] for row in csv.DictReader(table, delimiter="\t") if row["file"] == clip)


@pytest.fixture(scope="module")
def fake_microphone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clip as the 16-bit PCM WAV Chromium's fake capture reads, with silence after it."""
    source = SHARED_AUDIO / CLIP
    require(source.is_file(), f"shared clip {source} is missing")
    with av.open(str(source)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        frames = [f for frame in container.decode(audio=0) for f in resampler.resample(frame)]
        frames += resampler.resample(None)
    samples = np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
    samples = np.concatenate([samples, np.zeros(int(RATE * SILENCE_SECONDS), dtype=samples.dtype)])
    path = tmp_path_factory.mktemp("microphone") / "jfk.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    tmp = tmp_path_factory.mktemp("web-microphone")
    url = migrated_sqlite(tmp)
    with serving(api_settings(tmp, url, signin_ip_max_failures=10_000)) as running:
        yield running


@pytest.fixture(scope="module")
def browser(fake_microphone: Path) -> Iterator[Browser]:
    yield from launch_browser(
        (
            "--use-fake-ui-for-media-stream",  # the permission prompt answers yes
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={fake_microphone}",
        )
    )


@pytest.fixture
def context(browser: Browser, server: WebServer) -> Iterator[BrowserContext]:
    context = new_context(browser, server.base)
    context.grant_permissions(["microphone"], origin=server.base)
    try:
        yield context
    finally:
        context.close()


def balance(server: WebServer, user_id: str) -> int:
    return server.run(accounts.balance_seconds(server.platform.db, user_id))


def csp_violations(page: Page) -> list[str]:
    """Console errors the page's Content-Security-Policy causes (collected as they come)."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return found


def test_dictation_shows_partial_then_final_text_and_bills_what_was_recorded(
    context: BrowserContext, server: WebServer
) -> None:
    words = " ".join(re.sub(r"[^\w\s]", " ", reference(CLIP).lower()).split())
    assert all(word in words for word in EXPECTED_WORDS)
    email, user_id = server.account(minutes=10)
    page = context.new_page()
    page.add_init_script(COUNT_MICROPHONE_REQUESTS)
    violations = csp_violations(page)
    sign_in(page, email)
    page.goto("/transcribe")
    page.select_option("#tx-language", "en")
    before = balance(server, user_id)
    assert before == 600

    page.get_by_role("button", name="Dictate").click()
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_focused()  # the keyboard stays on the control that ends it
    expect(page.locator("#tx")).to_have_attribute("data-dictation", "recording")
    expect(page.locator("#dx-status")).to_have_text("Listening: speak now. Press Stop when you are done.")
    partial, final = page.locator("#dx-partial"), page.locator("#dx-final")
    # Partial text while the speech goes on, greyed and then replaced; finals stay.
    expect(partial).to_have_text(re.compile(r"\w"), timeout=SESSION_TIMEOUT_MS)
    expect(final).to_have_text(re.compile(r"\w"), timeout=SESSION_TIMEOUT_MS)
    for word in EXPECTED_WORDS:
        expect(final).to_contain_text(word, ignore_case=True, timeout=SESSION_TIMEOUT_MS)
    assert int(page.locator("#tx").get_attribute("data-partials") or 0) > 0
    assert page.locator("#dx-partial").evaluate("e => getComputedStyle(e).color") != page.locator(
        "#dx-final"
    ).evaluate("e => getComputedStyle(e).color")

    stop.press("Enter")  # the keyboard works as well as a click
    expect(page.locator("#tx")).to_have_attribute("data-dictation", "idle", timeout=SESSION_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Dictate")).to_be_focused()
    expect(page.locator("#dx-status")).to_have_text("Done.")
    billed = int(page.locator("#tx").get_attribute("data-dx-billed") or -1)
    job_id = page.locator("#tx").get_attribute("data-dx-job") or ""
    assert billed >= 11  # the whole clip was recorded before Stop
    after = balance(server, user_id)
    assert after == before - billed
    shown = f"Charged: {billed} s." if billed < 60 else f"Charged: {billed // 60} min"
    expect(page.locator("#dx-billed")).to_contain_text(shown)
    left = f"{after // 60} min {after % 60} s" if after % 60 else f"{after // 60} min"
    expect(page.locator("#dx-billed")).to_contain_text(f"Your balance: {left}.")
    expect(page.locator("#tx-error")).to_be_hidden()

    job = server.run(transcriptions.get_transcription(server.platform, user_id, job_id))
    assert job.status == "completed" and job.billed_seconds == billed
    assert job.options.get("realtime") is True and job.source == "web"  # the web's use, not the API's
    dictated = " ".join(final.inner_text().split())
    assert " ".join((job.transcript_text or "").split()) == dictated
    assert page.evaluate("window.microphoneRequests") == 1
    assert violations == []  # the same-origin WebSocket and the microphone passed the page's policy
    screenshot(page, "dictate", docs=True)

    page.get_by_role("link", name="Open it in History").click()
    expect(page).to_have_url(re.compile(f"/history/{job_id}$"))
    expect(page.locator("main")).to_contain_text(dictated.split()[0])
    page.goto("/history")
    expect(page.locator(f"a[href^='/history/{job_id}']").first).to_be_visible()


def test_no_minutes_is_said_in_russian_before_the_microphone_is_asked_for(
    context: BrowserContext, server: WebServer
) -> None:
    email, user_id = server.account(minutes=0)
    page = context.new_page()
    page.add_init_script(COUNT_MICROPHONE_REQUESTS)
    sign_in(page, email)
    page.goto("/transcribe")
    page.get_by_role("button", name="Русский").click()  # the header's switch, remembered
    dictate = page.get_by_role("button", name="Диктовать")
    expect(dictate).to_be_visible()
    expect(dictate).to_have_accessible_description(re.compile("Говорите в микрофон"))
    dictate.click()
    error = page.locator("#tx-error")
    expect(error).to_contain_text("На это не хватает минут.")
    expect(error).to_contain_text("Ваш баланс: 0 с.")
    expect(error.get_by_role("link", name="Купить минуты")).to_have_attribute("href", "/buy")
    expect(dictate).to_be_visible()  # back to idle, nothing recorded
    assert page.locator("#tx").get_attribute("data-dictation") == "idle"
    assert page.evaluate("window.microphoneRequests") == 0
    assert balance(server, user_id) == 0
    screenshot(page, "dictate-402-ru")


def test_a_token_needs_a_signed_in_browser_and_its_csrf_token(
    context: BrowserContext, server: WebServer
) -> None:
    stranger = requests.post(f"{server.base}/web/transcribe/realtime-token", json={}, timeout=10)
    assert stranger.status_code == 401 and "token" not in stranger.json()
    assert stranger.json()["error"]["code"] == "signed_out"
    email, _ = server.account(minutes=1)
    page = context.new_page()
    sign_in(page, email)
    page.goto("/transcribe")
    forged = page.request.post("/web/transcribe/realtime-token", data={})  # no X-CSRF-Token
    assert forged.status == 403 and "token" not in forged.json()
    assert forged.json()["error"]["code"] == "csrf"
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    granted = page.request.post("/web/transcribe/realtime-token", data={}, headers={"X-CSRF-Token": csrf})
    assert granted.status == 201 and granted.json()["token"].startswith("rt1.")
    assert granted.json()["path"] == "/v1/stt/realtime"


def test_a_refused_microphone_and_a_browser_without_mediarecorder_are_said_in_words(
    browser: Browser, server: WebServer
) -> None:
    email, user_id = server.account(minutes=5)
    # A second Chromium that asks the person (no fake prompt): not granted, the answer is no.
    asking = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream"],
    )
    try:
        context = new_context(asking, server.base)
        try:
            page = context.new_page()
            sign_in(page, email)
            page.goto("/transcribe")
            page.get_by_role("button", name="Dictate").click()
            error = page.locator("#tx-error")
            expect(error).to_have_text(
                "The browser did not allow the microphone. Allow it for this site (the icon in the "
                "address bar) and press Dictate again."
            )
            expect(page.get_by_role("button", name="Dictate")).to_be_visible()
            expect(page.locator("#tx")).to_have_attribute("data-dictation", "idle")
            expect(page.locator("#dx")).to_be_hidden()  # nothing dictated: only the error shows

            page.add_init_script("delete window.MediaRecorder;")  # an old browser
            page.reload()
            page.get_by_role("button", name="Dictate").click()
            expect(error).to_contain_text("This browser cannot record from a microphone here.")
            expect(page.locator("#dx")).to_be_hidden()
        finally:
            context.close()
    finally:
        asking.close()
    assert balance(server, user_id) == 300  # nothing was held or charged


def test_a_session_the_server_refuses_is_said_in_words_and_costs_nothing(
    context: BrowserContext, server: WebServer
) -> None:
    email, user_id = server.account(minutes=2)
    page = context.new_page()
    sign_in(page, email)
    page.goto("/transcribe")
    # A model the server does not have (as if the list changed since the page was loaded).
    page.locator("#tx-model").evaluate("s => { s.add(new Option('no-such-model', 'no-such-model')); }")
    page.select_option("#tx-model", "no-such-model")
    page.get_by_role("button", name="Dictate").click()
    error = page.locator("#tx-error")
    expect(error).to_contain_text("Dictation stopped:", timeout=SESSION_TIMEOUT_MS)
    expect(error).to_contain_text("no-such-model")
    expect(page.locator("#tx")).to_have_attribute("data-dictation", "idle")
    expect(page.locator("#dx")).to_be_hidden()
    assert balance(server, user_id) == 120
    screenshot(page, "dictate-refused")
