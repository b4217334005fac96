"""``GET /metrics`` (issue 17 §1): refused to strangers, served to the token or an allowed network,
and its families move when a real job runs (PocketSphinx on a real clip, as the API tests do)."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from tests.api_harness import (
    ApiEnv,
    api_settings,
    free_port,
    live_api,
    scratch_postgres,
    scratch_redis,
    server_processes,
    sqlite_copy,
)

CLIP = "en/LJ001-0002.wav"  # "in being comparatively modern." — 1.9 s
TOKEN = "scrape-" + "x" * 24

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(env: ApiEnv, **headers: str) -> tuple[int, str]:
    async with env.http.get(f"{env.base}/metrics", headers=headers) as response:
        return response.status, await response.text()


def parse(text: str) -> tuple[set[str], Samples]:
    """(family names, {(sample name, labels): value})."""
    families = list(text_string_to_metric_families(text))
    samples = {(s.name, frozenset(s.labels.items())): s.value for family in families for s in family.samples}
    return {family.name for family in families}, samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(value for (sample, got), value in samples.items() if sample == name and wanted <= got)


@pytest.fixture
async def idle_api(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    """The API without workers: jobs wait in the queue."""
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path))
    async with live_api(settings, minutes=5, workers=False) as env:
        yield env


async def test_metrics_need_the_token_or_an_allowed_network(idle_api: ApiEnv) -> None:
    settings = idle_api.platform.settings

    # Default: this machine may scrape without a token; nobody else, and not through a proxy.
    status, _ = await scrape(idle_api)
    assert status == 200
    status, body = await scrape(idle_api, **{"X-Forwarded-For": "203.0.113.7"})
    assert status == 403 and '"code": "forbidden"' in body

    # Outside the allow list, without a token: 403; with one configured, 401 until it is sent.
    settings.metrics_allow = "10.0.0.0/8"
    status, body = await scrape(idle_api)
    assert status == 403 and '"code": "forbidden"' in body
    settings.metrics_token = SecretStr(TOKEN)
    status, body = await scrape(idle_api)
    assert status == 401 and '"code": "unauthorized"' in body
    status, _ = await scrape(idle_api, Authorization="Bearer wrong-token")
    assert status == 401
    status, _ = await scrape(idle_api, Authorization=f"Bearer {idle_api.key}")  # an API key is not it
    assert status == 401
    status, text = await scrape(idle_api, Authorization=f"Bearer {TOKEN}")
    assert status == 200 and "nagovori_http_requests_total" in text

    # A wrong token is refused even from an allowed address.
    settings.metrics_allow = "127.0.0.1/32,::1/128"
    status, _ = await scrape(idle_api, Authorization="Bearer wrong-token")
    assert status == 401


async def test_queue_depth_is_measured_at_scrape_time(idle_api: ApiEnv, shared_audio: Path) -> None:
    _, before = parse((await scrape(idle_api))[1])
    assert total(before, "nagovori_queue_depth", queue="asr") == 0

    await idle_api.transcribe(shared_audio / CLIP)

    names, after = parse((await scrape(idle_api))[1])
    assert total(after, "nagovori_queue_stats_up") == 1
    assert total(after, "nagovori_queue_depth", queue="asr") == 1
    assert total(after, "nagovori_queue_oldest_wait_seconds", queue="asr") >= 0
    assert {"nagovori_queue_depth", "nagovori_jobs_processing", "nagovori_queue_oldest_wait_seconds"} <= names


async def test_the_families_exist_and_move_when_a_job_runs(api: ApiEnv, shared_audio: Path) -> None:
    names, before = parse((await scrape(api))[1])
    for family in (
        "nagovori_http_requests",
        "nagovori_http_request_duration_seconds",
        "nagovori_jobs_created",
        "nagovori_jobs_finished",
        "nagovori_audio_processed_seconds",
        "nagovori_job_real_time_factor",
        "nagovori_ledger_seconds",
        "nagovori_bot_updates",
        "nagovori_bot_deliveries",
        "nagovori_job_heartbeats",
        "nagovori_worker_last_heartbeat_timestamp_seconds",
        "nagovori_queue_depth",
        "nagovori_queue_oldest_wait_seconds",
        "nagovori_jobs_oldest_heartbeat_age_seconds",
    ):
        assert family in names, family

    job = await api.wait((await api.transcribe(shared_audio / CLIP))["id"])
    assert job["status"] == "completed", job
    await api.new_user(minutes=2)  # a starting balance is a grant

    _, after = parse((await scrape(api))[1])

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    created = "/v1/transcriptions"
    assert moved("nagovori_http_requests_total", method="POST", route=created, status="201") == 1
    assert moved("nagovori_http_request_duration_seconds_count", route=created) == 1
    # Polls count under the route's pattern, never under the job's own path.
    assert moved("nagovori_http_requests_total", route="/v1/transcriptions/{id}") >= 1
    assert not [key for key in after if job["id"] in str(key)]

    assert moved("nagovori_jobs_created_total", kind="asr", source="api") == 1
    assert moved("nagovori_jobs_finished_total", kind="asr", engine="pocketsphinx", outcome="completed") == 1
    seconds = moved("nagovori_audio_processed_seconds_total", kind="asr", engine="pocketsphinx")
    assert seconds == pytest.approx(job["duration_seconds"], abs=0.01)
    assert moved("nagovori_job_real_time_factor_count", kind="asr", engine="pocketsphinx") == 1

    billed = job["billed_seconds"]
    assert billed == math.ceil(job["duration_seconds"])
    held = moved("nagovori_ledger_seconds_total", movement="hold", channel="api") + moved(
        "nagovori_ledger_seconds_total", movement="extend", channel="api"
    )
    assert held >= billed
    assert moved("nagovori_ledger_seconds_total", movement="capture", channel="api") == billed
    assert moved("nagovori_ledger_seconds_total", movement="release", channel="api") == held - billed
    assert moved("nagovori_ledger_seconds_total", movement="grant") == 120


@pytest.mark.slow
def test_several_processes_api_aggregated_on_its_port_and_a_worker_on_its_own(
    tmp_path: Path, shared_audio: Path
) -> None:
    """``serve --workers 2`` answers for both of its processes whichever one is scraped; a
    ``worker`` serves its own counts on ``METRICS_PORT``."""
    worker_port = free_port()
    with (
        scratch_postgres() as database_url,
        server_processes(
            tmp_path,
            database_url,
            scratch_redis(),
            serve_args=("--workers", "2"),
            metrics_port=str(worker_port),
        ) as server,
    ):
        pids = {requests.get(f"{server.base}/healthz", timeout=10).json()["pid"] for _ in range(30)}
        assert len(pids) == 2  # new connections were spread over both API processes
        auth = {"Authorization": f"Bearer {server.key}"}
        clip = shared_audio / CLIP
        presigned = requests.post(
            f"{server.base}/v1/uploads/presign",
            json={"filename": clip.name, "size_bytes": clip.stat().st_size},
            headers=auth,
            timeout=10,
        ).json()
        requests.put(presigned["upload_url"], data=clip.read_bytes(), timeout=10).raise_for_status()
        job_id = requests.post(
            f"{server.base}/v1/transcriptions",
            json={"object_key": presigned["object_key"]},
            headers=auth,
            timeout=10,
        ).json()["id"]
        deadline = time.monotonic() + 90
        while requests.get(f"{server.base}/v1/transcriptions/{job_id}", headers=auth, timeout=10).json()[
            "status"
        ] not in ("completed", "failed"):
            assert time.monotonic() < deadline, "the job did not finish"
            time.sleep(0.3)

        # Every scrape, whichever process answers, counts the health checks of both.
        for _ in range(6):
            _, api = parse(requests.get(f"{server.base}/metrics", timeout=10).text)
            assert total(api, "nagovori_http_requests_total", route="/healthz", status="200") >= 30
            assert total(api, "nagovori_jobs_created_total", kind="asr", source="api") == 1
        # The worker's own endpoint: what it ran (and, as anywhere, the deployment's queues).
        status = requests.get(f"http://127.0.0.1:{worker_port}/metrics", timeout=10)
        assert status.status_code == 200
        _, worker = parse(status.text)
        assert total(worker, "nagovori_jobs_finished_total", kind="asr", outcome="completed") == 1
        assert total(worker, "nagovori_audio_processed_seconds_total", kind="asr") > 1
        assert total(worker, "nagovori_queue_stats_up") == 1
        assert total(worker, "nagovori_http_requests_total") == 0  # it serves no API
        refused = requests.get(
            f"http://127.0.0.1:{worker_port}/metrics", headers={"X-Forwarded-For": "198.51.100.1"}, timeout=10
        )
        assert refused.status_code == 403
