"""The Speak page in a real browser (Debian's Chromium through Playwright) against the live app with
the espeak engine: speak a sentence and hear it while it streams, download it, the bill; free voice
previews; too long a text and too small a balance said in words; the Russian page; isolation.

One server and one browser for the module; each test makes its own account and browser context.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

import av
import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect

from core.services import accounts
from core.services.speech import list_speech
from tests.api_harness import api_settings
from tests.e2e.web_harness import (
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

    from core.db.models import SpeechJob

SENTENCE = "Hello from the web dashboard. This sentence is spoken while it streams."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    tmp = tmp_path_factory.mktemp("speak")
    url = migrated_sqlite(tmp)
    settings = api_settings(tmp, url, signin_ip_max_failures=10_000)
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


def balance(server: WebServer, user_id: str) -> int:
    return server.run(accounts.current_balance(server.platform, user_id))


def speech_jobs(server: WebServer, user_id: str) -> list[SpeechJob]:
    jobs, _count = server.run(list_speech(server.platform, user_id))
    return jobs


def decoded_seconds(data: bytes) -> float:
    """The audio's length by decoding every frame (a header alone would not prove it plays)."""
    with av.open(io.BytesIO(data)) as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
        rate = container.streams.audio[0].rate
    return samples / rate


def test_speak_plays_the_stream_offers_the_download_and_bills_the_seconds(
    page: Page, server: WebServer
) -> None:
    email, user_id = server.account(minutes=10)
    sign_in(page, email)
    page.get_by_role("link", name="Speak").click()
    expect(page).to_have_url(f"{server.base}/speak")
    before = balance(server, user_id)

    page.get_by_label("Text", exact=True).fill(SENTENCE)
    expect(page.locator("#speak-counter")).to_have_text(f"{len(SENTENCE)} of 5000 characters")
    page.get_by_label("Nova", exact=True).check()
    page.get_by_label("Speed").select_option("1.25")
    page.get_by_role("button", name="Speak", exact=True).click()

    download_link = page.get_by_role("link", name="Download")
    expect(download_link).to_be_visible(timeout=30_000)
    # The <audio> element played the stream (MediaSource): once it ended, it knows the duration.
    page.wait_for_function("() => Number.isFinite(document.getElementById('speak-audio').duration)")
    duration = page.eval_on_selector("#speak-audio", "audio => audio.duration")
    assert page.eval_on_selector("#speak-audio", "audio => audio.src.startsWith('blob:')")
    assert page.eval_on_selector("#speak-audio", "audio => audio.played.length > 0")  # it did play
    assert 1.0 < duration < 30.0
    with page.expect_download() as info:
        download_link.click()
    file = info.value
    assert file.suggested_filename.startswith("nagovori-") and file.suggested_filename.endswith(".mp3")
    seconds = decoded_seconds(file.path().read_bytes())
    assert seconds == pytest.approx(duration, abs=0.3)

    (job,) = speech_jobs(server, user_id)
    assert (job.voice, job.speed, job.audio_format, job.source) == ("nova", 1.25, "mp3", "web")
    assert job.status == "completed" and not job.truncated
    assert job.billed_seconds is not None and job.billed_seconds >= seconds
    after = balance(server, user_id)
    assert before - after == job.billed_seconds
    expect(page.get_by_role("status")).to_contain_text(f"Billed {job.billed_seconds} s")
    expect(page.get_by_role("button", name="Stop")).to_be_hidden()
    expect(page.locator("#speak-balance")).to_have_text(f"Balance: 9 min {after - 540} s")
    screenshot(page, "speak", docs=True)


def test_voice_previews_are_free_and_heard_again_without_a_new_request(page: Page, server: WebServer) -> None:
    email, user_id = server.account(minutes=1)
    sign_in(page, email)
    page.goto("/speak")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/web/speak/preview/" in r.url else None)

    page.get_by_role("link", name="Listen to Onyx").click()
    page.wait_for_function(
        "() => { const a = document.getElementById('preview-player'); return a.duration > 0.5 }"
    )
    page.get_by_role("link", name="Listen to Onyx").click()
    page.wait_for_timeout(300)
    assert len(asked) == 1 and asked[0].endswith("/web/speak/preview/onyx?lang=en")

    # The server keeps what it made: the same bytes again, and nobody pays for any of it.
    first = page.request.get("/web/speak/preview/onyx?lang=en")
    again = page.request.get("/web/speak/preview/onyx?lang=en")
    assert first.ok and first.headers["content-type"] == "audio/mpeg"
    assert first.body() == again.body() and decoded_seconds(first.body()) > 0.5
    assert page.request.get("/web/speak/preview/nobody?lang=en").status == 400
    assert balance(server, user_id) == 60 and speech_jobs(server, user_id) == []


def test_too_long_a_text_is_refused_in_words_and_kept(page: Page, server: WebServer) -> None:
    email, user_id = server.account(minutes=10)
    sign_in(page, email)
    page.goto("/speak")
    text = "word " * 1000 + "extra"  # 5005 characters
    page.get_by_label("Text", exact=True).fill(text)
    expect(page.locator("#speak-counter")).to_have_text("5005 of 5000 characters")
    page.get_by_role("button", name="Speak", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "The text is 5005 characters long; the limit is 5000. Shorten it by 5 characters or split it "
        "in two — your text is still here."
    )
    assert page.get_by_label("Text", exact=True).input_value() == text

    # The server says the same to anything that skips the page's check, and holds nothing.
    csrf = page.get_attribute('meta[name="csrf-token"]', "content")
    refused = page.request.post(
        "/web/speak/stream",
        form={"text": text, "voice": "alloy"},
        headers={"X-CSRF-Token": csrf or "", "Accept": "application/json"},
    )
    assert refused.status == 400
    assert refused.json()["error"]["code"] == "text_too_long"
    assert "5005" in refused.json()["error"]["message"]
    assert speech_jobs(server, user_id) == [] and balance(server, user_id) == 600


def test_an_empty_balance_shows_the_balance_and_links_buy_minutes(page: Page, server: WebServer) -> None:
    email, user_id = server.account(minutes=0)
    sign_in(page, email)
    page.goto("/speak")
    page.get_by_label("Text", exact=True).fill(SENTENCE)
    page.get_by_role("button", name="Speak", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Not enough minutes for this text: your balance is 0 s. Buy minutes")
    expect(alert.get_by_role("link", name="Buy minutes")).to_have_attribute("href", "/buy")
    assert page.get_by_label("Text", exact=True).input_value() == SENTENCE
    assert [j.status for j in speech_jobs(server, user_id)] == []


def test_a_post_without_the_csrf_token_is_refused_and_another_users_job_is_not_found(
    page: Page, server: WebServer
) -> None:
    email, user_id = server.account(minutes=1)
    _other_email, other_id = server.account(minutes=1)
    sign_in(page, email)
    page.goto("/speak")
    refused = page.request.post("/web/speak/stream", form={"text": SENTENCE})
    assert refused.status == 403 and speech_jobs(server, user_id) == []
    # With the form's token (what the page does without JavaScript) the answer is the audio itself.
    csrf = page.get_attribute('meta[name="csrf-token"]', "content") or ""
    spoken = page.request.post("/web/speak/stream", form={"text": "Hi there.", "csrf": csrf, "format": "wav"})
    assert spoken.ok and spoken.headers["content-type"] == "audio/wav"
    assert decoded_seconds(spoken.body()) > 0.3 and len(speech_jobs(server, user_id)) == 1
    # Another user's job is "not found", like one that does not exist.
    from core.services.speech import SpeechRequest, request_speech

    theirs = server.run(request_speech(server.platform, other_id, SpeechRequest(text="Hi there.")))
    assert page.request.get(f"/web/speak/jobs/{theirs.id}").status == 404


def test_the_russian_page(browser: Browser, server: WebServer) -> None:
    email, _user_id = server.account(minutes=3)
    context = new_context(browser, server.base, language="ru-RU")
    try:
        page = context.new_page()
        page.goto("/signin")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Пароль", exact=True).fill("correct horse battery staple")
        page.get_by_role("button", name="Войти").click()
        page.get_by_role("link", name="Озвучить").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Озвучить текст")
        expect(page.locator("#speak-balance")).to_have_text("Баланс: 3 мин")
        expect(page.get_by_text("Глубокий низкий мужской голос. (мужской)")).to_be_visible()
        page.get_by_label("Текст", exact=True).fill("Привет!")
        expect(page.locator("#speak-counter")).to_have_text("7 из 5000 символов")
        link = page.get_by_role("link", name="Прослушать голос Alloy")
        assert link.get_attribute("href") == "/web/speak/preview/alloy?lang=ru"
        screenshot(page, "speak-ru")
    finally:
        context.close()
