"""The History page in a real browser (Debian's Chromium through Playwright) against the live app,
with real jobs: espeak-ng speech and a PocketSphinx transcription of a real clip, made through the
services and the API. Search, filters, pages, a job's own page with its downloads, cancel, delete,
and another user's jobs; the same search and filters on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

pytest.importorskip("playwright")

from core.db.migrate import upgrade
from core.jobs import admission
from core.services import accounts, api_keys, job_history, speech, transcriptions
from core.services.job_history import HistoryFilter
from core.services.speech import SpeechRequest
from tests.api_harness import api_settings, scratch_postgres
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

AUDIO = Path(__file__).resolve().parents[3] / "shared" / "audio"
CLIP = "en/LJ001-0002.wav"  # "in being comparatively modern." — 1.9 s
FOX = "The quick brown fox jumps over the lazy dog."
SPOONS = "Seven silver spoons lay on the table."
RUSSIAN = "Привет, как дела сегодня?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    tmp = tmp_path_factory.mktemp("history")
    url = migrated_sqlite(tmp)
    with serving(api_settings(tmp, url, signin_ip_max_failures=10_000)) as running:
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


def speak(server: WebServer, user_id: str, text: str) -> str:
    """A speech job through the service, as the Speak page and the API make them; its id."""
    job = server.run(speech.request_speech(server.platform, user_id, SpeechRequest(text=text)))
    return job.id


def transcribe(server: WebServer, user_id: str) -> str:
    """A transcription of the clip through the API (presigned upload, then the job); its id."""
    key = server.run(api_keys.create_key(server.platform.db, user_id)).secret
    auth = {"Authorization": f"Bearer {key}"}
    clip = AUDIO / CLIP
    presigned = requests.post(
        f"{server.base}/v1/uploads/presign",
        json={"filename": clip.name, "size_bytes": clip.stat().st_size},
        headers=auth,
        timeout=30,
    ).json()
    assert requests.put(presigned["upload_url"], data=clip.read_bytes(), timeout=30).status_code == 200
    created = requests.post(
        f"{server.base}/v1/transcriptions",
        json={"object_key": presigned["object_key"]},
        headers=auth,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def finished(server: WebServer, user_id: str, *job_ids: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    for job_id in job_ids:
        while (job := server.run(job_history.get_job(server.platform, user_id, job_id))).status in (
            "queued",
            "processing",
        ):
            assert time.monotonic() < deadline, f"job {job_id} did not finish"
            time.sleep(0.1)
        assert job.status == "completed", (job.status, job.error_message)


def queued_speech(server: WebServer, user_id: str, text: str) -> str:
    """A speech job that stays queued: admitted as for a user whose every slot is busy
    (``max_active=0``), so no worker gets it."""

    async def submit() -> str:
        checked = speech.build_speech_job(server.platform, user_id, SpeechRequest(text=text))
        async with server.platform.db.write() as session:
            await admission.submit(
                session, checked.job, hold_seconds=checked.hold_seconds, max_queued=20, max_active=0
            )
        return checked.job.id

    return server.run(submit())


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A migrated scratch database on the test PostgreSQL server, made and dropped on another
    thread (Playwright's event loop runs on this one)."""
    scratch = scratch_postgres()
    with ThreadPoolExecutor(1) as pool:
        url = pool.submit(scratch.__enter__).result()
        try:
            pool.submit(upgrade, url).result()
            yield url
        finally:
            pool.submit(scratch.__exit__, None, None, None).result()


def rows(page: Page) -> list[str]:
    return page.locator("#history tbody tr").all_inner_texts()


def test_history_lists_searches_filters_pages_cancels_and_deletes(page: Page, server: WebServer) -> None:
    email, user_id = server.account(minutes=10)
    fox, spoons, russian = (speak(server, user_id, text) for text in (FOX, SPOONS, RUSSIAN))
    heard = transcribe(server, user_id)
    finished(server, user_id, fox, spoons, russian, heard)
    transcript = server.run(transcriptions.get_transcription(server.platform, user_id, heard)).transcript_text
    assert transcript
    word = max(transcript.split(), key=len)  # PocketSphinx's own words: search what it heard
    waiting = queued_speech(server, user_id, "This one waits in the queue.")

    sign_in(page, email)
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_role("link", name="History").click()
    page.wait_for_url(re.compile(r"/history$"))
    assert page.locator("#h-results").inner_text() == "Jobs: 5"
    listed = rows(page)
    assert len(listed) == 5
    assert "This one waits in the queue." in listed[0]  # newest first
    assert "queued" in listed[0] and "Cancel" in listed[0]
    assert any(FOX in row and "completed" in row for row in listed)
    screenshot(page, "history", docs=True)

    # Search: a word of a speech text, in another case; a word the recognizer heard; Cyrillic in
    # lower case finds the capitalized word (SQLite lowers ASCII only).
    page.get_by_label("Search the texts").fill("FOX")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"q=FOX"))
    assert page.locator("#h-results").inner_text() == "Found: 1"
    assert FOX in rows(page)[0]
    page.get_by_label("Search the texts").fill(word)
    page.get_by_role("button", name="Show").click()
    assert len(rows(page)) == 1 and "transcription" in rows(page)[0]
    page.goto("/history?q=привет")
    assert len(rows(page)) == 1 and RUSSIAN in rows(page)[0]
    page.goto("/history?q=nowhere+in+any+text")
    assert page.locator("#history-empty").inner_text() == "Nothing matches these filters."

    # Filters: status, kind; dates (today's jobs are inside today, none before it).
    page.goto("/history")
    page.get_by_label("Status").select_option("queued")
    page.get_by_role("button", name="Show").click()
    assert len(rows(page)) == 1 and "queued" in rows(page)[0]
    page.get_by_label("Status").select_option("completed")
    page.get_by_label("Kind").select_option("asr")
    page.get_by_role("button", name="Show").click()
    assert len(rows(page)) == 1 and "transcription" in rows(page)[0]
    today = time.strftime("%Y-%m-%d", time.gmtime())
    page.goto(f"/history?from={today}&to={today}")
    assert len(rows(page)) == 5
    page.goto("/history?to=2020-01-01")
    assert page.locator("#history-empty").is_visible()
    page.goto("/history?from=yesterday")
    assert "YYYY-MM-DD" in page.get_by_role("alert").inner_text()
    assert len(rows(page)) == 5  # the date not understood is left out, said so

    # Pages of two, filtered to completed jobs: the links keep the filter.
    page.goto("/history?status=completed&size=2")
    assert len(rows(page)) == 2
    first_page = rows(page)
    page.get_by_role("link", name="Older →").click()
    query = parse_qs(urlparse(page.url).query)
    assert query == {"status": ["completed"], "size": ["2"], "page": ["2"]}
    second_page = rows(page)
    assert len(second_page) == 2 and not set(second_page) & set(first_page)
    page.get_by_role("link", name="Page 1").click()
    assert rows(page) == first_page
    assert page.locator(".pager a[aria-current='page']").inner_text() == "1"

    # Cancel the queued job from the list (after the confirmation): its hold goes back.
    held_before = server.run(accounts.usage(server.platform.db, user_id)).held_seconds
    assert held_before > 0
    page.goto("/history?status=queued")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=re.compile("Cancel the job")).click()
    page.wait_for_url(re.compile(r"done=cancelled"))
    assert "status=queued" in page.url  # back to the same filtered list
    assert page.get_by_role("status").inner_text() == "The job is cancelled; nothing was charged for it."
    assert page.locator("#history-empty").is_visible()
    assert server.run(job_history.get_job(server.platform, user_id, waiting)).status == "cancelled"
    assert server.run(accounts.usage(server.platform.db, user_id)).held_seconds == 0

    # A transcription's own page: its text, segments, billing and downloads.
    page.goto("/history?kind=asr")
    page.locator("#history tbody tr a").first.click()
    page.wait_for_url(re.compile(rf"/history/{heard}"))
    assert page.locator("#job-text").inner_text() == transcript
    assert page.locator("#segments tbody tr").count() >= 1
    assert page.locator("#billed").inner_text() == "2 s"  # 1.9 s of audio, rounded up
    screenshot(page, "history-job")
    with page.expect_download() as download:
        page.get_by_role("link", name="SRT").click()
    srt = Path(download.value.path()).read_text()
    assert "-->" in srt and word in srt
    page.get_by_role("link", name=re.compile("Back to the history")).click()
    assert parse_qs(urlparse(page.url).query) == {"kind": ["asr"]}

    # A speech job's audio, served to its owner: it plays in the page (the CSP lets it) and downloads.
    page.goto(f"/history/{fox}")
    seconds = page.locator("#job-audio").evaluate(
        """audio => new Promise((done, failed) => {
            audio.addEventListener("loadedmetadata", () => done(audio.duration));
            audio.addEventListener("error", () => failed(new Error("audio error " + audio.error.code)));
            audio.load();
        })"""
    )
    assert 1 < seconds < 6
    audio = page.request.get(page.locator("#audio-download").get_attribute("href") or "")
    body = audio.body()
    assert audio.status == 200 and len(body) > 2000
    assert body[:3] == b"ID3" or (body[0] == 0xFF and body[1] & 0xE0 == 0xE0)  # an MP3

    # Delete from its own page: gone from the list, its page and downloads are 404.
    page.goto(f"/history/{spoons}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r"/history\?done=deleted$"))
    assert page.get_by_role("status").inner_text() == "The job is deleted."
    assert len(rows(page)) == 4 and not any(SPOONS in row for row in rows(page))
    assert page.goto(f"/history/{spoons}").status == 404  # type: ignore[union-attr]
    assert page.get_by_role("alert").inner_text() == "There is no such page."
    assert page.request.get(f"/history/{spoons}/audio", max_redirects=0).status == 404


def test_another_users_jobs_are_not_found(browser: Browser, server: WebServer, page: Page) -> None:
    _, owner_id = server.account()
    theirs = speak(server, owner_id, "A private sentence.")
    finished(server, owner_id, theirs)
    email, _ = server.account()
    sign_in(page, email)
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/history")
    assert page.locator("#history-empty").inner_text().startswith("No jobs yet")
    for path in (f"/history/{theirs}", f"/history/{theirs}/audio", f"/history/{theirs}/transcript.txt"):
        assert page.goto(path).status == 404, path  # type: ignore[union-attr]
    page.goto("/history?q=private")
    assert page.locator("#h-results").inner_text() == "Found: 0"
    token = page.locator("meta[name='csrf-token']").get_attribute("content") or ""
    for action in ("cancel", "delete"):
        assert page.request.post(f"/history/{theirs}/{action}", form={"csrf": token}).status == 404
    # Without this browser's token nothing is even looked at.
    assert page.request.post(f"/history/{theirs}/delete", form={}).status == 403
    assert server.run(job_history.get_job(server.platform, owner_id, theirs)).status == "completed"


def test_search_and_filters_on_postgresql(tmp_path: Path) -> None:
    """The list's query on PostgreSQL: ILIKE, the Cyrillic spellings, status/kind/dates, pages."""
    with postgres_database() as url, serving(api_settings(tmp_path, url)) as server:
        _, user_id = server.account(minutes=5)
        jobs = [speak(server, user_id, text) for text in (FOX, RUSSIAN)]
        finished(server, user_id, *jobs)
        waiting = queued_speech(server, user_id, SPOONS)

        def found(limit: int = 20, offset: int = 0, **fields: Any) -> list[str]:
            listed = server.run(
                job_history.list_history(
                    server.platform, user_id, HistoryFilter(**fields), limit=limit, offset=offset
                )
            )
            return [entry.id for entry in listed.entries]

        assert found() == [waiting, jobs[1], jobs[0]]
        assert found(text="fOx") == [jobs[0]]
        assert found(text="ПРИВЕТ") == found(text="привет") == [jobs[1]]
        assert found(text="%") == found(text="_") == []  # LIKE's wildcards are searched as text
        now = datetime.now(UTC)
        assert len(found(since=now - timedelta(hours=1), until=now + timedelta(hours=1))) == 3
        assert found(since=now + timedelta(hours=1)) == found(until=now - timedelta(hours=1)) == []
        assert found(status="queued") == [waiting]
        assert found(kind="asr") == []
        assert found(limit=2, offset=2) == [jobs[0]]
        server.run(job_history.cancel_job(server.platform, user_id, waiting))
        server.run(job_history.delete_job(server.platform, user_id, waiting))
        assert found() == [jobs[1], jobs[0]]
