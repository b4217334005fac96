"""Speech is billed by the audio it produces, not by the text's length (issue 11 §3, §7).

Real espeak-ng through the live API, on SQLite and PostgreSQL: digits, a slow speed and a script
the voices spell out make audio far longer than the old estimate from characters, and each is
billed ceil(seconds produced). A queued job the balance cannot pay for fails ``insufficient_minutes``
and charges nothing; a live stream that runs out ends there, billed exactly what was sent and marked
``truncated``. A stream takes one of the user's ``MAX_ACTIVE_JOBS`` slots; a stream whose process
died is settled for the seconds it recorded, never re-synthesized. No hold is left open.
"""

from __future__ import annotations

import asyncio
import io
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import av
import pytest

from core.db.base import utcnow
from core.db.models import SpeechJob, TranscriptionJob
from core.jobs import lifecycle
from core.jobs.admission import start_live
from core.jobs.lifecycle import Claim
from core.jobs.reconciler import reconcile
from core.jobs.states import JobStatus
from tests.api_harness import ApiEnv, api_settings, live_api, usage

DIGITS = "1234567890 " * 23 + "123456"  # 259 characters: 77 s of speech, once estimated at 28 s
REPROS = {
    "digits": (DIGITS, 1.0, 28),
    "slow": ("1234567890 1234567890 123", 0.25, 12),  # 25 characters, once estimated at 12 s
    "arabic": ("مرحبا بالعالم", 1.0, 4),  # 13 characters the English voice reads letter by letter
}
W_TEXT = "WWWWWWWWWW " * 40  # about 79 s of "double-u", estimated at under 50 s


def duration_of(data: bytes) -> float:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.rate


async def synthesize(api: ApiEnv, key: str, **body: Any) -> dict[str, Any]:
    status, created = await api.call("POST", "/v1/tts", key=key, json=body)
    assert status == 201, created
    return await api.wait(created["job"]["id"], kind="tts", within=120, key=key)


@pytest.mark.parametrize("repro", sorted(REPROS))
async def test_speech_is_billed_by_the_audio_it_produced(api: ApiEnv, repro: str) -> None:
    text, speed, old_estimate = REPROS[repro]
    _, key = await api.new_user(minutes=5)
    job = await synthesize(api, key, text=text, speed=speed)
    assert job["status"] == "completed", job
    assert job["billed_seconds"] == math.ceil(job["audio_seconds"] - 1e-9) > old_estimate, job
    assert job["truncated"] is False and job["notice"] is None
    assert await usage(api, key) == (300 - job["billed_seconds"], 0)
    status, link = await api.call("GET", f"/v1/tts/{job['id']}/download", key=key)
    assert status == 200, link
    async with api.http.get(link["url"]) as response:
        assert abs(duration_of(await response.read()) - job["audio_seconds"]) < 0.2


async def test_a_stream_of_digits_is_billed_for_all_the_audio_sent(api: ApiEnv) -> None:
    _, key = await api.new_user(minutes=5)
    headers = {"Authorization": f"Bearer {key}"}
    async with api.http.post(
        f"{api.base}/v1/audio/speech",
        headers=headers,
        json={"model": "tts-1", "input": DIGITS, "voice": "alloy"},
    ) as response:
        assert response.status == 200
        job_id = response.headers["X-Nagovori-Job-Id"]
        audio = await response.read()
    seconds = duration_of(audio)
    assert seconds > 60
    _, body = await api.call("GET", f"/v1/tts/{job_id}", key=key)
    job = body["job"]
    assert job["status"] == "completed" and not job["truncated"], job
    assert (
        job["billed_seconds"] == math.ceil(job["audio_seconds"] - 1e-9)
        and abs(job["audio_seconds"] - seconds) < 0.2
    )
    assert await usage(api, key) == (300 - job["billed_seconds"], 0)


async def test_a_queued_job_the_balance_cannot_pay_for_fails_and_charges_nothing(api: ApiEnv) -> None:
    _, key = await api.new_user(minutes=1)  # 60 s: the estimate fits, the 79 s of audio do not
    job = await synthesize(api, key, text=W_TEXT)
    assert job["status"] == "failed" and job["error_code"] == "insufficient_minutes", job
    assert "ran out after 60 s" in job["error_message"] and "nothing was charged" in job["error_message"]
    assert job["billed_seconds"] == 0
    assert await usage(api, key) == (60, 0)


async def test_a_stream_that_runs_out_ends_there_billed_what_was_sent(api: ApiEnv) -> None:
    _, key = await api.new_user(minutes=1)
    headers = {"Authorization": f"Bearer {key}"}
    async with api.http.post(
        f"{api.base}/v1/tts/stream", headers=headers, json={"text": W_TEXT, "format": "wav"}
    ) as response:
        assert response.status == 200
        job_id = response.headers["X-Nagovori-Job-Id"]
        audio = await response.read()
    sent = duration_of(audio)
    assert abs(sent - 60) < 0.05  # the text would take 79 s
    _, body = await api.call("GET", f"/v1/tts/{job_id}", key=key)
    job = body["job"]
    assert job["status"] == "completed" and job["truncated"] is True, job
    assert job["billed_seconds"] == 60 == math.ceil(job["audio_seconds"] - 1e-9)
    assert "balance ran out after 60 s" in job["notice"] and job["error_message"] is None
    assert await usage(api, key) == (0, 0)
    # With nothing left, the next stream is refused before its first byte.
    status, answer = await api.call("POST", "/v1/tts/stream", key=key, json={"text": "Hello."})
    assert status == 402 and answer["error"]["code"] == "insufficient_minutes", answer


async def test_a_live_stream_takes_one_of_the_active_job_slots(tmp_path: Path, database_url: str) -> None:
    settings = api_settings(tmp_path, database_url, max_active_jobs=1)
    async with live_api(settings, minutes=30) as api:
        body = {"text": "Open the door and turn on the light. " * 130, "format": "wav"}  # 5 min: 14 MB

        async def start() -> Any:
            return await api.http.post(f"{api.base}/v1/tts/stream", headers=api.auth, json=body)

        # Ten at once; the streams that started stay open (unread) so that none ends early.
        responses = await asyncio.gather(*(start() for _ in range(10)))
        try:
            streaming = [r for r in responses if r.status == 200]
            refused = [await r.json() for r in responses if r.status == 429]
            assert len(streaming) == 1 and len(refused) == 9, [r.status for r in responses]
            assert {a["error"]["code"] for a in refused} == {"too_many_active_jobs"}
            assert all(r.headers["Retry-After"] for r in responses if r.status == 429)
            # A queued job waits for the stream's slot.
            status, created = await api.call("POST", "/v1/tts", json={"text": "Hello there."})
            assert status == 201
            await asyncio.sleep(1)
            _, queued = await api.call("GET", f"/v1/tts/{created['job']['id']}")
            assert queued["job"]["status"] == "queued"
            job_id = streaming[0].headers["X-Nagovori-Job-Id"]
            await streaming[0].read()
        finally:
            for response in responses:
                response.release()
        streamed = (await api.call("GET", f"/v1/tts/{job_id}"))[1]["job"]
        assert streamed["status"] == "completed" and not streamed["truncated"]
        done = await api.wait(created["job"]["id"], kind="tts")
        assert done["status"] == "completed"
        # Only the stream and the queued job were charged: the nine refusals held nothing.
        spent = streamed["billed_seconds"] + done["billed_seconds"]
        assert await usage(api, api.key) == (1800 - spent, 0)


async def start_stream_job(api: ApiEnv, user_id: str) -> Claim:
    """The row, hold and state ``start_stream`` leaves while it streams."""
    now = utcnow()
    job = SpeechJob(
        user_id=user_id,
        source="api",
        text="A long text.",
        voice="alloy",
        audio_format="mp3",
        speed=1.0,
        language="en",
        options={"stream": True},
        status=JobStatus.PROCESSING,
        attempts=1,
        dispatched_at=now,
        started_at=now,
        heartbeat_at=now,
    )
    async with api.platform.db.write() as session:
        await start_live(session, job, hold_seconds=10, max_active=1)
    return Claim(job.id, user_id, 1)


async def test_a_stream_cut_by_a_crash_is_settled_for_what_it_sent(api: ApiEnv) -> None:
    user_id, key = await api.new_user(minutes=5)
    claim = await start_stream_job(api, user_id)
    # It streamed on past its estimate (the hold was extended), its heartbeat recorded 41.2 s sent,
    # then the process died without settling.
    assert await lifecycle.extend_hold(api.platform.db, claim, 40, quantum=1) == 40
    assert await lifecycle.heartbeat(api.platform.db, claim, audio_seconds=41.2)
    assert await usage(api, key) == (250, 50)
    quiet = await reconcile(api.platform, stale_after=timedelta(minutes=1))
    assert claim.job_id not in quiet.settled  # still beating recently: left alone
    report = await reconcile(api.platform, stale_after=timedelta(0))
    assert report.settled == [claim.job_id] and claim.job_id not in report.requeued
    _, body = await api.call("GET", f"/v1/tts/{claim.job_id}", key=key)
    job = body["job"]
    assert job["status"] == "completed" and job["truncated"] is True, job
    assert job["billed_seconds"] == 42 and job["audio_seconds"] == 41.2
    assert "interrupted after 42 s" in job["notice"]
    assert await usage(api, key) == (258, 0)
    # A second pass finds nothing to do; the old process, were it alive, is told to stop.
    again = await reconcile(api.platform, stale_after=timedelta(0))
    assert not again.settled and not again.requeued and not again.failed
    assert not await lifecycle.heartbeat(api.platform.db, claim, audio_seconds=50)


async def test_a_stream_that_crashed_before_sending_anything_is_refunded(api: ApiEnv) -> None:
    user_id, key = await api.new_user(minutes=5)
    claim = await start_stream_job(api, user_id)
    report = await reconcile(api.platform, stale_after=timedelta(0))
    assert report.failed == [claim.job_id] and not report.requeued
    _, body = await api.call("GET", f"/v1/tts/{claim.job_id}", key=key)
    assert body["job"]["status"] == "failed" and body["job"]["error_code"] == "stream_interrupted"
    assert await usage(api, key) == (300, 0)


async def test_a_realtime_transcription_cut_by_a_crash_is_billed_what_it_received(api: ApiEnv) -> None:
    # A realtime session (core/services/realtime.py) is a live *transcription* job: the reconciler
    # must read the seconds its heartbeat recorded although it is not a speech job.
    user_id, key = await api.new_user(minutes=5)
    now = utcnow()
    job = TranscriptionJob(
        user_id=user_id,
        source="api",
        language="en",
        options={"stream": True, "realtime": True, "save": True},
        status=JobStatus.PROCESSING,
        attempts=1,
        dispatched_at=now,
        started_at=now,
        heartbeat_at=now,
    )
    async with api.platform.db.write() as session:
        await start_live(session, job, hold_seconds=60, max_active=1)
    claim = Claim(job.id, user_id, 1)
    assert await lifecycle.heartbeat(api.platform.db, claim, audio_seconds=12.3)
    report = await reconcile(api.platform, stale_after=timedelta(0))
    assert report.settled == [job.id] and not report.failed
    assert await usage(api, key) == (300 - 13, 0)
