"""The Transcribe page in a real browser (Debian's Chromium through Playwright) against the live app
with real engines (PocketSphinx): upload a shared clip with a progress bar, the text arriving live
over Server-Sent Events, SRT download, segments that play their part of the audio, the 402 in words
with a retry that keeps the form, and other users' jobs answering 404.

One server and one browser for the module; the upload runs once (``transcribed``) and its tests
look at the finished page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

pytest.importorskip("playwright")
from playwright.sync_api import expect

from core.services import transcriptions, users
from tests.api_harness import api_settings
from tests.conftest import SHARED_AUDIO, require
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
    from playwright.sync_api import Browser, BrowserContext, Page

CLIP = "en/jfk.flac"  # 11 s, FLAC (which Chromium plays); its speech starts after a short pause
SHORT_CLIP = "en/LJ001-0002.wav"  # 1.9 s: "in being comparatively modern."
JOB_TIMEOUT_MS = 60_000
SRT_CUE = re.compile(r"^(\d+)\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n(.+)$", re.DOTALL)


@pytest.fixture(scope="module")
def clip() -> Path:
    path = SHARED_AUDIO / CLIP
    require(path.is_file(), f"shared clip {path} is missing")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    tmp = tmp_path_factory.mktemp("web-transcribe")
    url = migrated_sqlite(tmp)
    with serving(api_settings(tmp, url, signin_ip_max_failures=10_000)) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


@dataclass
class Transcribed:
    """The signed-in page after a finished upload, and whose job it is."""

    page: Page
    job_id: str
    user_id: str


@pytest.fixture(scope="module")
def transcribed(browser: Browser, server: WebServer, clip: Path) -> Iterator[Transcribed]:
    """Sign in, upload ``clip`` through the page and wait until its transcript is complete."""
    email, user_id = server.account(minutes=10)
    context = new_context(browser, server.base)
    try:
        page = context.new_page()
        sign_in(page, email)
        page.get_by_role("link", name="Transcribe").click()
        expect(page.get_by_role("heading", name="Transcribe", level=1)).to_be_visible()
        page.set_input_files("#tx-file", str(clip))
        expect(page.locator("#tx-chosen")).to_contain_text("jfk.flac")
        page.locator("#tx-start").click()
        expect(page).to_have_url(re.compile(r"/transcribe/[0-9a-f-]{8,}$"), timeout=JOB_TIMEOUT_MS)
        job_id = page.url.rsplit("/", 1)[1]
        expect(page.locator("#tx")).to_have_attribute("data-status", "completed", timeout=JOB_TIMEOUT_MS)
        yield Transcribed(page, job_id, user_id)
    finally:
        context.close()


def test_upload_progress_reaches_100_and_the_text_arrives_live(
    transcribed: Transcribed, server: WebServer
) -> None:
    page = transcribed.page
    expect(page.locator("#tx-upload")).to_have_js_property("value", 100)
    expect(page.locator("#tx-upload-pct")).to_have_text("100%")
    expect(page.locator("#tx-progress")).to_have_js_property("value", 100)
    expect(page.locator("#tx-status")).to_have_text("Done.")
    # The words came one by one over the event stream (token events), before the final "done".
    live_words = int(page.locator("#tx").get_attribute("data-live-words") or 0)
    assert live_words > 0
    job = server.run(
        transcriptions.get_transcription(server.platform, transcribed.user_id, transcribed.job_id)
    )
    assert job.status == "completed" and job.source == "web"
    stored = " ".join((job.transcript_text or "").split())
    assert stored, "the engine recognized nothing in a speech clip"
    assert " ".join(page.locator("#tx-text").inner_text().split()) == stored
    assert live_words == len(stored.split())
    expect(page.locator("#tx-billed")).to_contain_text("Charged: 11 s")
    screenshot(page, "transcribe", docs=True)


def test_download_srt_parses_as_numbered_timed_cues(transcribed: Transcribed) -> None:
    page = transcribed.page
    with page.expect_download() as download_info:
        page.locator("#tx-downloads").get_by_role("link", name="SRT").click()
    download = download_info.value
    assert download.suggested_filename == "jfk.srt"
    srt = Path(download.path()).read_text(encoding="utf-8")
    cues = [SRT_CUE.match(block) for block in srt.strip().split("\n\n")]
    assert cues and all(cues), srt
    assert [int(cue.group(1)) for cue in cues if cue] == list(range(1, len(cues) + 1))
    words = " ".join(cue.group(4).replace("\n", " ") for cue in cues if cue).split()
    assert words == page.locator("#tx-text").inner_text().split()
    # The other formats answer too, each as what it says it is.
    for fmt, content_type in (("txt", "text/plain"), ("vtt", "text/vtt"), ("json", "application/json")):
        response = page.request.get(f"/web/transcribe/{transcribed.job_id}/download/{fmt}")
        assert response.status == 200 and response.headers["content-type"].startswith(content_type)
    assert page.request.get(f"/web/transcribe/{transcribed.job_id}/download/vtt").text().startswith("WEBVTT")
    assert page.request.get(f"/web/transcribe/{transcribed.job_id}/download/json").json()["segments"]


def test_clicking_a_segment_plays_that_part_of_the_audio(transcribed: Transcribed) -> None:
    page = transcribed.page
    audio = page.locator("#tx-audio")
    # The player loaded the upload's metadata from the page's own audio endpoint.
    page.wait_for_function("() => document.getElementById('tx-audio').readyState >= 1")
    assert abs(audio.evaluate("a => a.duration") - 11.0) < 0.2
    segment = page.locator("#tx-segments button").last
    start, end = (
        float(segment.get_attribute("data-start") or "nan"),
        float(segment.get_attribute("data-end") or ""),
    )
    assert 0 < start < end
    audio.evaluate("a => { a.currentTime = 10.9; }")  # somewhere else first: the click must move it
    page.wait_for_function("() => document.getElementById('tx-audio').currentTime > 10.5")
    segment.click()
    expect(segment).to_have_attribute("aria-current", "true")
    position = audio.evaluate("a => a.currentTime")
    assert start - 0.05 <= position <= start + 2.0, (position, start)
    # Seeking works because the endpoint serves byte ranges.
    ranged = page.request.get(f"/web/transcribe/{transcribed.job_id}/audio", headers={"Range": "bytes=0-99"})
    assert ranged.status == 206 and len(ranged.body()) == 100
    assert ranged.headers["content-range"].startswith("bytes 0-99/")
    size = int(ranged.headers["content-range"].rsplit("/", 1)[1])
    tail = page.request.get(f"/web/transcribe/{transcribed.job_id}/audio", headers={"Range": "bytes=-10"})
    assert tail.status == 206 and tail.headers["content-range"] == f"bytes {size - 10}-{size - 1}/{size}"
    beyond = page.request.get(
        f"/web/transcribe/{transcribed.job_id}/audio", headers={"Range": f"bytes={size}-"}
    )
    assert beyond.status == 416


def test_another_users_job_is_not_found(
    browser: Browser, server: WebServer, transcribed: Transcribed
) -> None:
    email, _ = server.account(minutes=5)
    context = new_context(browser, server.base)
    try:
        page = context.new_page()
        sign_in(page, email)
        job = transcribed.job_id
        response = page.goto(f"/transcribe/{job}")
        assert response is not None and response.status == 404
        expect(page.get_by_text("There is no such page.")).to_be_visible()
        for path in (f"/web/transcribe/{job}/events", f"/web/transcribe/{job}/audio"):
            answer = page.request.get(path)
            assert answer.status == 404 and answer.json()["error"]["code"] == "not_found", path
        assert page.request.get(f"/web/transcribe/{job}/download/srt").status == 404
        # The page's endpoints: a POST without this browser's CSRF token is refused, a stranger is 401.
        refused = page.request.post("/web/transcribe/presign", data={"filename": "a.wav", "size_bytes": 10})
        assert refused.status == 403 and refused.json()["error"]["code"] == "csrf"
        stranger = requests.get(f"{server.base}/web/transcribe/{job}/events", timeout=10)
        assert stranger.status_code == 401 and stranger.json()["error"]["code"] == "signed_out"
    finally:
        context.close()


def test_no_minutes_is_said_in_words_and_a_retry_keeps_the_form(browser: Browser, server: WebServer) -> None:
    clip = SHARED_AUDIO / SHORT_CLIP
    email, user_id = server.account(minutes=0)
    context: BrowserContext = new_context(browser, server.base)
    try:
        page = context.new_page()
        sign_in(page, email)
        page.goto("/transcribe")
        page.set_input_files("#tx-file", str(clip))
        page.select_option("#tx-preset", "concise")
        page.locator("#tx-start").click()
        error = page.locator("#tx-error")
        expect(error).to_contain_text("Not enough minutes left for this.")
        expect(error).to_contain_text("Your balance: 0 s.")
        expect(error.get_by_role("link", name="Buy minutes")).to_have_attribute("href", "/buy")
        screenshot(page, "transcribe-402")
        # Nothing was uploaded for a job that could not run; the form still holds the file and choices.
        expect(page.locator("#tx-chosen")).to_contain_text("LJ001-0002.wav")
        expect(page.locator("#tx-preset")).to_have_value("concise")
        server.run(users.grant_minutes(server.platform.db, user_id, 1, reason="test"))
        page.get_by_role("button", name="Try again").click()
        expect(page).to_have_url(re.compile(r"/transcribe/[0-9a-f-]{8,}$"), timeout=JOB_TIMEOUT_MS)
        expect(error).to_be_hidden()
        expect(page.locator("#tx")).to_have_attribute("data-status", "completed", timeout=JOB_TIMEOUT_MS)
        job = server.run(
            transcriptions.get_transcription(server.platform, user_id, page.url.rsplit("/", 1)[1])
        )
        assert job.options["preset"] == "concise"
    finally:
        context.close()


def test_the_page_speaks_russian(browser: Browser, server: WebServer) -> None:
    email, _ = server.account(minutes=1)
    context = new_context(browser, server.base)
    try:
        page = context.new_page()
        sign_in(page, email)
        page.goto("/transcribe")
        page.get_by_role("button", name="Русский").click()  # the header's switch, remembered
        expect(page.get_by_role("heading", name="Распознавание речи", level=1)).to_be_visible()
        expect(page.get_by_label("Аудио- или видеофайл")).to_be_visible()
        expect(page.get_by_label("Язык записи")).to_have_value("auto")
        page.locator("#tx-start").click()  # no file chosen: said in Russian, nothing sent
        expect(page.locator("#tx-error")).to_have_text("Сначала выберите файл.")
    finally:
        context.close()
