"""Webhooks over a live server: endpoints and their secret, Standard Webhooks deliveries verified by
the ``standardwebhooks`` and ``svix`` libraries, retries with one ``webhook-id``, a receiver that
never answers, per-job callback URLs, address rules, manual re-sends and the reconciler's sweep.

The receiver is a real aiohttp server on loopback (allowed through ``FETCH_ALLOW``); the retry
schedule and the timeout are shrunk so the whole file runs in seconds.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks
import svix.webhooks
from aiohttp import web
from sqlalchemy import select

from core.db.base import utcnow
from core.db.webhook_tables import CallbackSecret, WebhookDelivery, WebhookEndpoint
from core.jobs.reconciler import reconcile
from core.services.webhook_signing import SecretBox, SecretUnavailable, new_secret, sign
from tests.api_harness import ApiEnv, api_settings, live_api, sqlite_copy

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
SHORT = "en/LJ001-0002.wav"  # "in being comparatively modern." — 1.9 s
SPEECH = {"text": "Open the door.", "format": "wav"}
FAST_RETRIES = "0.3,0.3,0.3"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """A webhook receiver on loopback: answers each request with the next scripted status (the
    last one repeats); ``"hang"`` never answers."""

    url: str = ""
    script: list[int | str] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(Received(dict(request.headers), await request.read(), time.monotonic()))
        self.arrived.set()
        answer = self.script[min(len(self.requests), len(self.script)) - 1]
        if answer == "hang":
            await asyncio.sleep(3600)
        return web.Response(status=int(answer), text="ok")

    async def wait_for(self, count: int, within: float = 30) -> list[Received]:
        deadline = time.monotonic() + within
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"{len(self.requests)} of {count} requests arrived"
            await asyncio.sleep(0.05)
        return self.requests


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    hook.url = f"http://127.0.0.1:{port}/hook"
    yield hook
    await runner.cleanup()


def hook_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Any:
    """Loopback allowed (the receiver), retries 0.3 s apart, a 2 s timeout, three endpoints at most."""
    values: dict[str, Any] = {
        "fetch_allow": "127.0.0.0/8",
        "webhook_retry_schedule": FAST_RETRIES,
        "webhook_timeout_seconds": 2,
        "webhook_max_endpoints": 3,
        **overrides,
    }
    return api_settings(tmp_path, database_url, **values)


@pytest.fixture
async def api(tmp_path: Path, database_url: str) -> AsyncIterator[ApiEnv]:
    """On SQLite and PostgreSQL."""
    async with live_api(hook_settings(tmp_path, database_url), minutes=10) as env:
        yield env


@pytest.fixture
async def lite(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    """On SQLite only (the retry and timeout tests: the database is not what they exercise)."""
    async with live_api(hook_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path)), minutes=10) as env:
        yield env


@pytest.fixture(params=["stub", "redis"])
async def brokered(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[ApiEnv]:
    """SQLite with the in-process broker, and with Redis (where the delayed retries wait)."""
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    settings = hook_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path), redis_url=redis_url)
    async with live_api(settings, minutes=10) as env:
        yield env


async def register(api: ApiEnv, url: str, events: list[str], **fields: Any) -> dict[str, Any]:
    status, body = await api.call("POST", "/v1/webhooks", json={"url": url, "events": events, **fields})
    assert status == 201, body
    return dict(body)


async def deliveries(api: ApiEnv, endpoint_id: str, **query: Any) -> dict[str, Any]:
    status, body = await api.call("GET", f"/v1/webhooks/{endpoint_id}/deliveries", params=query)
    assert status == 200, body
    return dict(body)


async def settled(api: ApiEnv, endpoint_id: str, attempts: int, within: float = 30) -> dict[str, Any]:
    """The endpoint's newest delivery once it has ``attempts`` recorded attempts."""
    deadline = time.monotonic() + within
    while True:
        items = (await deliveries(api, endpoint_id))["items"]
        if items and len(items[0]["attempts"]) >= attempts:
            return dict(items[0])
        assert time.monotonic() < deadline, items
        await asyncio.sleep(0.05)


def test_secrets_are_sealed_under_the_platform_key_and_signed_as_the_library_signs() -> None:
    secret = new_secret()
    box = SecretBox("platform key one")
    sealed, again = box.seal(secret), box.seal(secret)
    assert sealed != again and secret[6:] not in sealed  # a fresh nonce each time; never in the clear
    assert box.open(sealed) == box.open(again) == secret
    with pytest.raises(SecretUnavailable):  # another SECRET_KEY cannot open it
        SecretBox("platform key two").open(sealed)
    with pytest.raises(SecretUnavailable):
        box.open(sealed[:-4] + "AAA=")
    stamp = int(time.time())
    expected = standardwebhooks.Webhook(secret).sign("msg_1", datetime.fromtimestamp(stamp, UTC), '{"a":1}')
    assert sign(secret, "msg_1", stamp, '{"a":1}') == expected


async def test_endpoints_are_created_listed_and_deleted_with_the_secret_shown_once(api: ApiEnv) -> None:
    created = await register(
        api, "https://hooks.example.com/a", ["transcription.completed", "speech.failed"], description="ci"
    )
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) >= 24
    assert created["events"] == ["transcription.completed", "speech.failed"]
    assert created["object"] == "webhook_endpoint" and created["description"] == "ci"
    status, listed = await api.call("GET", "/v1/webhooks")
    assert status == 200 and [e["id"] for e in listed["items"]] == [created["id"]]
    status, got = await api.call("GET", f"/v1/webhooks/{created['id']}")
    assert status == 200 and got["url"] == "https://hooks.example.com/a"
    assert "secret" not in listed["items"][0] and "secret" not in got
    async with api.platform.db.read() as session:  # kept sealed, not in the clear
        stored = await session.scalar(select(WebhookEndpoint.secret_sealed))
    assert stored and secret not in stored and secret[6:] not in stored
    # Someone else sees none of it.
    _, other_key = await api.new_user()
    for method, path in [
        ("GET", f"/v1/webhooks/{created['id']}"),
        ("DELETE", f"/v1/webhooks/{created['id']}"),
        ("GET", f"/v1/webhooks/{created['id']}/deliveries"),
        ("POST", f"/v1/webhooks/{created['id']}/deliveries/msg_x/retry"),
    ]:
        status, body = await api.call(method, path, key=other_key)
        assert status == 404 and body["error"]["code"] == "not_found", (method, path, body)
    status, other_list = await api.call("GET", "/v1/webhooks", key=other_key)
    assert other_list["items"] == []
    # The account's limit (3 in these settings).
    for n in range(2):
        await register(api, f"https://hooks.example.com/{n}", ["speech.completed"])
    status, body = await api.call(
        "POST", "/v1/webhooks", json={"url": "https://hooks.example.com/4", "events": ["speech.completed"]}
    )
    assert status == 409 and body["error"]["code"] == "too_many_webhooks"
    status, _ = await api.call("DELETE", f"/v1/webhooks/{created['id']}")
    assert status == 204
    status, _ = await api.call("GET", f"/v1/webhooks/{created['id']}")
    assert status == 404
    status, listed = await api.call("GET", "/v1/webhooks")
    assert len(listed["items"]) == 2


async def test_addresses_the_platform_does_not_call_are_refused(lite: ApiEnv, receiver: Receiver) -> None:
    api = lite
    for url in ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/hook", "http://[::1]/hook"]:
        status, body = await api.call(
            "POST", "/v1/webhooks", json={"url": url, "events": ["speech.completed"]}
        )
        assert status == 400 and body["error"]["code"] == "address_not_allowed", (url, body)
    api.platform.settings.fetch_allow = ""  # without the allow-list, loopback is refused too
    for url in ["http://127.0.0.1:9/hook", "http://2130706433/hook"]:
        status, body = await api.call(
            "POST", "/v1/webhooks", json={"url": url, "events": ["speech.completed"]}
        )
        assert status == 400 and body["error"]["code"] == "address_not_allowed", (url, body)
    for payload, field_name in [
        ({"url": "ftp://example.com/x", "events": ["speech.completed"]}, "url"),
        ({"url": "https://u:p@example.com/x", "events": ["speech.completed"]}, "url"),
        ({"url": "https://example.com/x", "events": ["speech.started"]}, "events"),
        ({"url": "https://example.com/x", "events": []}, "events"),
        ({"url": "https://example.com/" + "й" * 1000, "events": ["speech.completed"]}, "url"),  # 6 KB encoded
    ]:
        status, body = await api.call("POST", "/v1/webhooks", json=payload)
        assert status == 400 and body["error"].get("field", "").startswith(field_name), (payload, body)
    status, listed = await api.call("GET", "/v1/webhooks")
    assert listed["items"] == []
    # A name is checked against what it resolves to, at every attempt: localhost is refused then.
    named = await register(api, receiver.url.replace("127.0.0.1", "localhost"), ["speech.completed"])
    status, _ = await api.call("POST", "/v1/tts", json=SPEECH)
    assert status == 201
    delivery = await settled(api, named["id"], 1)
    assert delivery["attempts"][-1]["error"].startswith("address_not_allowed"), delivery
    assert delivery["attempts"][-1]["status_code"] is None and receiver.requests == []


async def test_a_completed_transcription_delivers_an_event_both_libraries_verify(
    api: ApiEnv, receiver: Receiver, shared_audio: Path
) -> None:
    endpoint = await register(api, receiver.url, ["transcription.completed", "transcription.failed"])
    ignored = await register(api, receiver.url + "?speech", ["speech.completed"])
    job = await api.wait((await api.transcribe(shared_audio / SHORT, filename="call.wav"))["id"])
    assert job["status"] == "completed", job
    [request] = await receiver.wait_for(1)
    payload = standardwebhooks.Webhook(endpoint["secret"]).verify(request.body, request.headers)
    svix.webhooks.Webhook(endpoint["secret"]).verify(request.body, request.headers)  # raises if not
    assert payload["type"] == "transcription.completed"
    data = payload["data"]
    assert data["id"] == job["id"] and data["object"] == "transcription" and data["status"] == "completed"
    assert data["transcript_text"] == job["transcript_text"] and data["filename"] == "call.wav"
    assert data["billed_seconds"] == job["billed_seconds"] > 0 and "segments" not in data
    # A wrong secret or a changed body does not verify.
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(ignored["secret"]).verify(request.body, request.headers)
    with pytest.raises(svix.webhooks.WebhookVerificationError):
        svix.webhooks.Webhook(ignored["secret"]).verify(request.body, request.headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(endpoint["secret"]).verify(request.body + b" ", request.headers)
    delivery = await settled(api, endpoint["id"], 1)
    assert delivery["id"] == request.headers["webhook-id"] and delivery["status"] == "succeeded"
    assert delivery["job_id"] == job["id"] and delivery["attempts"][0]["status_code"] == 200
    assert (await deliveries(api, ignored["id"]))["count"] == 0  # not subscribed to this event
    await asyncio.sleep(0.3)
    assert len(receiver.requests) == 1


async def test_a_receiver_failing_twice_gets_three_attempts_with_one_id_then_a_manual_resend(
    brokered: ApiEnv, receiver: Receiver
) -> None:
    api = brokered
    receiver.script = [500, 503, 204]
    endpoint = await register(api, receiver.url, ["speech.completed"])
    status, created = await api.call("POST", "/v1/tts", json=SPEECH)
    assert status == 201, created
    requests = await receiver.wait_for(3)
    ids = {r.headers["webhook-id"] for r in requests}
    assert len(ids) == 1 and ids == {requests[0].headers["webhook-id"]}
    assert requests[0].body == requests[1].body == requests[2].body  # the same bytes every time
    for r in requests:  # each attempt signed for its own timestamp
        standardwebhooks.Webhook(endpoint["secret"]).verify(r.body, r.headers)
    assert requests[1].at - requests[0].at >= 0.25 and requests[2].at - requests[1].at >= 0.25
    delivery = await settled(api, endpoint["id"], 3)
    assert delivery["status"] == "succeeded" and delivery["attempt_count"] == 3
    assert [a["status_code"] for a in delivery["attempts"]] == [204, 503, 500]  # newest first
    assert [a["number"] for a in delivery["attempts"]] == [3, 2, 1]
    assert delivery["attempts"][2]["error"] == "HTTP 500" and delivery["attempts"][0]["error"] is None
    assert json.loads(requests[0].body)["data"]["id"] == created["job"]["id"]
    # Re-sent by hand: the same id, a fourth attempt.
    status, again = await api.call("POST", f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/retry")
    assert status == 202 and again["status"] == "pending", again
    fourth = (await receiver.wait_for(4))[3]
    assert fourth.headers["webhook-id"] == delivery["id"] and fourth.body == requests[0].body
    assert (await settled(api, endpoint["id"], 4))["status"] == "succeeded"
    status, body = await api.call("POST", f"/v1/webhooks/{endpoint['id']}/deliveries/msg_nope/retry")
    assert status == 404, body


async def test_a_receiver_that_never_answers_times_out_and_holds_no_worker_meanwhile(
    tmp_path: Path, sqlite_template: Path, receiver: Receiver
) -> None:
    receiver.script = ["hang"]
    settings = hook_settings(
        tmp_path,
        sqlite_copy(sqlite_template, tmp_path),
        webhook_timeout_seconds=3,
        webhook_retry_schedule="60",
    )
    async with live_api(settings, minutes=10) as api:
        endpoint = await register(api, receiver.url, ["speech.completed"])
        status, first = await api.call("POST", "/v1/tts", json=SPEECH)
        assert status == 201, first
        await asyncio.wait_for(receiver.arrived.wait(), 30)
        hung_at = time.monotonic()
        # While that delivery waits on the receiver, another job runs and finishes.
        status, second = await api.call("POST", "/v1/tts", json=SPEECH)
        done = await api.wait(second["job"]["id"], kind="tts", within=10)
        assert done["status"] == "completed" and time.monotonic() - hung_at < 3, done
        delivery = (await deliveries(api, endpoint["id"]))["items"][-1]  # the first job's
        deadline = time.monotonic() + 10
        while not delivery["attempts"]:
            assert time.monotonic() < deadline, delivery
            await asyncio.sleep(0.1)
            delivery = (await deliveries(api, endpoint["id"]))["items"][-1]
        [attempt] = delivery["attempts"]
        assert attempt["status_code"] is None and attempt["error"] == "no answer within 3 s"
        assert 2900 <= attempt["duration_ms"] < 5000, attempt
        assert delivery["status"] == "pending" and delivery["next_attempt_at"] is not None  # in 60 s


async def test_a_job_callback_url_gets_its_outcome_signed_with_the_callback_secret(
    api: ApiEnv, receiver: Receiver
) -> None:
    callback = receiver.url + "?job=1"
    before = (await api.call("GET", "/v1/me"))[1]["balance"]["seconds"]
    status, body = await api.call("POST", "/v1/tts", json={**SPEECH, "callback_url": callback})
    assert status == 400 and body["error"]["code"] == "callback_secret_required", body
    status, made = await api.call("POST", "/v1/webhooks/callback-secret")
    assert status == 201 and made["secret"].startswith("whsec_")
    status, body = await api.call(
        "POST", "/v1/tts", json={**SPEECH, "callback_url": "http://169.254.169.254/latest"}
    )
    assert status == 400 and body["error"]["code"] == "address_not_allowed", body
    assert body["error"]["field"] == "callback_url"
    assert (await api.call("GET", "/v1/me"))[1]["balance"]["seconds"] == before  # nothing held
    status, replaced = await api.call("POST", "/v1/webhooks/callback-secret")  # the old one stops signing
    assert status == 201 and replaced["secret"] != made["secret"]
    status, created = await api.call("POST", "/v1/tts", json={**SPEECH, "callback_url": callback})
    assert status == 201, created
    [request] = await receiver.wait_for(1)
    payload = standardwebhooks.Webhook(replaced["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "speech.completed" and payload["data"]["id"] == created["job"]["id"]
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(made["secret"]).verify(request.body, request.headers)
    listed = await deliveries(api, "callback")
    assert listed["count"] == 1 and listed["items"][0]["endpoint_id"] is None
    assert listed["items"][0]["url"] == callback
    async with api.platform.db.read() as session:
        stored = await session.scalar(select(CallbackSecret.secret_sealed))
    assert stored and replaced["secret"][6:] not in stored


async def test_a_delivery_out_of_attempts_is_given_up_and_a_lost_message_is_resent_by_the_reconciler(
    lite: ApiEnv, receiver: Receiver
) -> None:
    api = lite
    receiver.script = [500]
    endpoint = await register(api, receiver.url, ["speech.completed"])
    status, _ = await api.call("POST", "/v1/tts", json=SPEECH)
    assert status == 201
    await receiver.wait_for(4)  # the first attempt and the schedule's three retries
    delivery = await settled(api, endpoint["id"], 4)
    deadline = time.monotonic() + 5
    while delivery["status"] != "failed":
        assert time.monotonic() < deadline, delivery
        await asyncio.sleep(0.05)
        delivery = await settled(api, endpoint["id"], 4)
    assert delivery["next_attempt_at"] is None and delivery["finished_at"] is not None
    await asyncio.sleep(0.8)
    assert len(receiver.requests) == 4  # nothing after the schedule ends
    # A pending delivery whose message was lost (a crash of an in-process broker) is found by the
    # reconciler once overdue, and sent.
    receiver.script = [500, 500, 500, 500, 200]
    async with api.platform.db.write() as session:
        row = await session.get(WebhookDelivery, delivery["id"])
        assert row is not None
        row.status, row.next_attempt_at = "pending", utcnow() - timedelta(minutes=10)
    report = await reconcile(api.platform)
    assert report.webhooks_resent == [delivery["id"]]
    fifth = (await receiver.wait_for(5))[4]
    assert fifth.headers["webhook-id"] == delivery["id"]
    assert (await settled(api, endpoint["id"], 5))["status"] == "succeeded"
    assert (await reconcile(api.platform)).webhooks_resent == []


def docs_receiver() -> str:
    """The Python receiver of docs/api.md ("Verifying a delivery in Python"), as written there."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    [receiver] = [b for b in blocks if b.startswith('"""A webhook receiver')]
    return receiver


async def test_the_documented_python_receiver_verifies_and_handles_a_delivery_once(
    lite: ApiEnv, tmp_path: Path
) -> None:
    api = lite
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = tmp_path / "receiver.py"
    script.write_text(docs_receiver())
    endpoint = await register(api, f"http://127.0.0.1:{port}/", ["speech.completed"])
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        env={**os.environ, "NAGOVORI_WEBHOOK_SECRET": endpoint["secret"], "PORT": str(port)},
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:  # until it listens
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the receiver did not start"
                await asyncio.sleep(0.05)
        status, created = await api.call("POST", "/v1/tts", json=SPEECH)
        assert status == 201, created
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().split()
        assert line == ["speech.completed", created["job"]["id"], "completed"], line
        delivery = await settled(api, endpoint["id"], 1)
        assert delivery["status"] == "succeeded" and delivery["attempts"][0]["status_code"] == 204
        # A forged body is a 400 (and a failed attempt); a re-send of the real one is 204, not handled twice.
        async with api.http.post(
            f"http://127.0.0.1:{port}/",
            data=b'{"type": "speech.completed"}',
            headers={
                "webhook-id": delivery["id"],
                "webhook-timestamp": str(int(time.time())),
                "webhook-signature": "v1,bm90IGEgc2lnbmF0dXJl",
            },
        ) as response:
            assert response.status == 400
        status, _ = await api.call("POST", f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/retry")
        assert status == 202
        assert (await settled(api, endpoint["id"], 2))["attempts"][0]["status_code"] == 204
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(process.stdout.readline(), 0.5)
    finally:
        process.kill()
        await process.wait()
