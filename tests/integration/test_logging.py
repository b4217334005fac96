"""Logs an operator can follow (issue 17 §2): a request id accepted or made and echoed, one access
line per request without credentials, the id carried into the job; and, across real processes
(``serve`` + ``worker`` on PostgreSQL and Redis, a bot on the Telegram emulator), JSON lines that
parse and let ``grep <request id>`` find a job's whole story — never a key or the bot token."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
import requests

from core.db.models import Job
from core.observability.logging_setup import JsonFormatter, TextFormatter, configure_logging
from core.observability.request_context import job_context
from tests.api_harness import (
    ApiEnv,
    api_settings,
    live_api,
    scratch_postgres,
    scratch_redis,
    server_processes,
    sqlite_copy,
)
from tests.e2e.bot_harness import tg_user, voice_note
from tests.e2e.telegram_emulator import TelegramEmulator

CLIP = "en/LJ001-0002.wav"  # "in being comparatively modern." — 1.9 s
# Shaped like a real token (digits, colon, 35 characters), so the redaction has to recognise it.
BOT_TOKEN = "7000001:AAHx9Qk2Lm4Np6Rs8Tu0Vw2Xy4Za6Bc8De"
TEXT_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


@pytest.fixture
async def idle_api(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path))
    async with live_api(settings, minutes=5, workers=False) as env:
        yield env


async def request_id_of(env: ApiEnv, path: str, **headers: str) -> str:
    async with env.http.get(f"{env.base}{path}", headers=headers) as response:
        return response.headers["X-Request-ID"]


async def test_a_sane_request_id_is_kept_and_any_other_replaced(idle_api: ApiEnv) -> None:
    assert await request_id_of(idle_api, "/healthz", **{"X-Request-ID": "lb-42.a:b_c"}) == "lb-42.a:b_c"
    assert await request_id_of(idle_api, "/no/such/route", **{"X-Request-ID": "from-the-client"}) == (
        "from-the-client"
    )  # error answers too
    made = [
        await request_id_of(idle_api, "/healthz"),
        await request_id_of(idle_api, "/healthz", **{"X-Request-ID": "two words"}),
        await request_id_of(idle_api, "/healthz", **{"X-Request-ID": "x" * 65}),
        await request_id_of(idle_api, "/healthz", **{"X-Request-ID": "a\tb"}),
    ]
    assert all(re.fullmatch(r"[0-9a-f]{16}", made_id) for made_id in made), made
    assert len(set(made)) == 4


async def test_one_access_line_per_request_and_the_id_goes_into_the_job(
    idle_api: ApiEnv, shared_audio: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nagovori.access")
    status, _ = await idle_api.call(
        "GET", "/v1/me?signature=v1.SECRETSIG&x=1", headers={"X-Request-ID": "req-me-1"}
    )
    assert status == 200

    lines = [
        r
        for r in caplog.records
        if r.name == "nagovori.access" and getattr(r, "request_id", None) == "req-me-1"
    ]
    assert len(lines) == 1
    record = lines[0]
    entry = json.loads(JsonFormatter().format(record))
    assert entry["method"] == "GET" and entry["route"] == "/v1/me" and entry["path"] == "/v1/me"
    assert entry["status"] == 200 and entry["user_id"] == idle_api.user_id
    assert entry["remote"] == "127.0.0.1" and entry["duration_ms"] >= 0
    written = JsonFormatter().format(record) + TextFormatter().format(record)
    assert idle_api.key not in written and "SECRETSIG" not in written and "Bearer" not in written

    object_key = await idle_api.upload(shared_audio / CLIP)
    async with idle_api.http.post(
        f"{idle_api.base}/v1/transcriptions",
        json={"object_key": object_key},
        headers={**idle_api.auth, "X-Request-ID": "req-job-1"},
    ) as response:
        assert response.status == 201
        job_id = (await response.json())["id"]
    async with idle_api.platform.db.read() as session:
        job = await session.get(Job, job_id)
    assert job is not None and job.options["request_id"] == "req-job-1"


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_each_line_carries_its_context_and_never_a_credential(
    log_format: Literal["json", "text"], monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = io.StringIO()
    monkeypatch.setattr(sys, "stderr", sink)
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    configure_logging("INFO", log_format)  # what every nagovori command does first
    try:
        logger = logging.getLogger("tests.logging")
        with job_context("job-1", "req-1"):
            try:
                raise RuntimeError("refused Bearer nag_Abc123")
            except RuntimeError:
                logger.exception("key %s failed\non two lines", "nag_Abc123")
        logger.debug("below the level")
        logger.warning("outside any job")
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)

    written = sink.getvalue()
    assert "Abc123" not in written and "below the level" not in written
    if log_format == "json":
        first, second = [json.loads(line) for line in written.splitlines()]
        assert first["request_id"] == "req-1" and first["job_id"] == "job-1" and first["level"] == "ERROR"
        assert "RuntimeError" in first["exception"] and "two lines" in first["message"]
        assert "request_id" not in second and second["message"] == "outside any job"
    else:
        assert "failed\non two lines [request_id=req-1 job_id=job-1]" in written
        assert written.rstrip().endswith("WARNING tests.logging: outside any job")


@contextlib.contextmanager
def telegram_emulator(token: str) -> Iterator[tuple[TelegramEmulator, Callable[[Any], Any]]]:
    """The emulator on an event loop of its own thread (the server harness is synchronous);
    yields it and a function that runs one of its coroutines there."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(30)

    emulator = TelegramEmulator(token)
    run(emulator.start())
    try:
        yield emulator, run
    finally:
        run(emulator.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The process's log lines, each parsed; its stdout banners are the only other lines."""
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
        else:
            assert not TEXT_LOG_LINE.match(line) and not line.startswith("Traceback"), line
    return entries


def story(entries: list[dict[str, Any]], request_id: str, job_id: str) -> list[str]:
    """What the lines of one request say about one job, in order (the verb after the job id);
    every line of that request names that job."""
    lines = [e for e in entries if e.get("request_id") == request_id and e["logger"] != "nagovori.access"]
    assert all(e.get("job_id") == job_id for e in lines), lines
    return [e["message"].removeprefix(f"job {job_id} ").split()[0] for e in lines]


def wait_until(condition: Callable[[], Any], *, within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_one_request_id_follows_a_job_across_api_worker_and_bot(
    tmp_path: Path, shared_audio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with (
        telegram_emulator(BOT_TOKEN) as (emulator, run),
        scratch_postgres() as database_url,
        server_processes(
            tmp_path,
            database_url,
            scratch_redis(),
            log_format="json",
            telegram_token=BOT_TOKEN,
            telegram_api_url=emulator.url,
            telegram_webhook_secret="",
        ) as server,
    ):
        serve_log, worker_log = server.logs
        auth = {"Authorization": f"Bearer {server.key}"}
        # Given a job created over the API with the client's request id,
        clip = shared_audio / CLIP
        presigned = requests.post(
            f"{server.base}/v1/uploads/presign",
            json={"filename": clip.name, "size_bytes": clip.stat().st_size},
            headers=auth,
            timeout=10,
        ).json()
        assert requests.put(presigned["upload_url"], data=clip.read_bytes(), timeout=10).status_code == 200
        created = requests.post(
            f"{server.base}/v1/transcriptions",
            json={"object_key": presigned["object_key"]},
            headers={**auth, "X-Request-ID": "it-api-7f3a"},
            timeout=10,
        )
        assert created.status_code == 201 and created.headers["X-Request-ID"] == "it-api-7f3a"
        api_job = created.json()["id"]
        # and a voice note to the bot (its update id names its request),
        data, duration = voice_note(clip)
        update = emulator.message_update(tg_user(901, "Ivo"), media=emulator.voice(data, duration))
        run(emulator.push(update))
        bot_request = f"tg-{update['update_id']}"

        # when both are done (the voice note's answer delivered by the worker),
        def finished() -> bool:
            job = requests.get(f"{server.base}/v1/transcriptions/{api_job}", headers=auth, timeout=10).json()
            return job["status"] in ("completed", "failed")

        wait_until(finished, within=90, what="the API job")
        wait_until(
            lambda: any("delivered" in e["message"] for e in json_lines(worker_log)),
            within=90,
            what="the voice note's delivery",
        )

        # then every line parses, and the request id finds each job's story in both processes.
        serve, worker = json_lines(serve_log), json_lines(worker_log)
        access = [
            e for e in serve if e["logger"] == "nagovori.access" and e.get("request_id") == "it-api-7f3a"
        ]
        assert [(e["method"], e["route"], e["status"]) for e in access] == [
            ("POST", "/v1/transcriptions", 201)
        ]
        assert story(serve, "it-api-7f3a", api_job) == ["created"]
        assert story(worker, "it-api-7f3a", api_job) == ["started", "completed"]

        bot_jobs = {
            e["job_id"] for e in serve + worker if e.get("request_id") == bot_request and "job_id" in e
        }
        assert len(bot_jobs) == 1 and api_job not in bot_jobs
        bot_job = bot_jobs.pop()
        assert story(serve, bot_request, bot_job) == ["created"]
        assert story(worker, bot_request, bot_job) == ["started", "completed", "delivered"]

        everything = serve_log.read_text() + worker_log.read_text()
        assert server.key not in everything and server.key[4:] not in everything
        assert BOT_TOKEN.split(":")[1] not in everything
