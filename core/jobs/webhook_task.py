"""Webhook deliveries: created with a job's outcome, sent from the ``deliver`` queue, retried on a
schedule until a receiver answers 2xx.

* ``record_outcome`` runs inside the transaction that finishes a job (``lifecycle``): one delivery
  row per subscribed endpoint, and one for the job's ``callback_url``, committed with the outcome
  itself — a crash cannot keep the result and lose its notification.
* ``send_webhook`` (the ``deliver_webhook`` actor) claims a due delivery (a conditional update that
  bumps ``attempts`` and leases it until the timeout has passed), POSTs the stored body signed for
  this attempt, records the attempt, and schedules the next one after the retry schedule's wait
  (a delayed message). A 2xx ends it; past the schedule it is given up.
* ``overdue`` gives the reconciler the deliveries whose message was lost (a crash, an in-process
  broker restarted): due for longer than the stale period, they get their message again.

The database is the truth; a message only says "look at delivery X", and a duplicate finds nothing
due. At least once: a receiver may see a delivery twice (after a crash mid-attempt, or a manual
re-send) and drops it by its ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.db.models import Job, SpeechJob, TranscriptionJob
from core.db.webhook_tables import (
    CallbackSecret,
    JobCallback,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from core.errors import InvalidInput
from core.jobs.states import JobStatus
from core.net import AddressNotAllowed, NetworkPolicy, guarded_session, send_following_redirects
from core.platform import Platform
from core.services.webhook_signing import SecretBox, SecretUnavailable, headers
from core.settings import Settings

log = logging.getLogger(__name__)

EVENT_TYPES = ("transcription.completed", "transcription.failed", "speech.completed", "speech.failed")
ROUTE = "webhook"  # the JobQueue route of the ``deliver_webhook`` actor
LEASE_MARGIN_SECONDS = 30  # a claimed attempt is someone else's to retry only this long after its timeout
EARLY_TOLERANCE_SECONDS = 1.0  # clocks of several hosts: a message this early still finds its delivery due
OVERDUE_BATCH = 500


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def retry_delays(settings: Settings) -> list[float]:
    """The waits after the 1st, 2nd, … failed attempt (``WEBHOOK_RETRY_SCHEDULE``)."""
    return [float(part) for part in settings.webhook_retry_schedule.split(",") if part.strip()]


def event_type(job: Job) -> str | None:
    """The event a finished job announces; None for a state that announces nothing (cancelled)."""
    if job.status not in (JobStatus.COMPLETED, JobStatus.FAILED):
        return None
    return f"{'transcription' if job.kind == 'asr' else 'speech'}.{job.status}"


async def record_outcome(session: AsyncSession, job: Job) -> list[tuple[str, str]]:
    """Inside the transaction that finished ``job``: a delivery for each endpoint of its user
    subscribed to its event and for its ``callback_url``; returns the messages to send after commit."""
    event = event_type(job)
    if event is None:
        return []
    endpoints = [
        endpoint
        for endpoint in (
            await session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.user_id == job.user_id))
        ).all()
        if event in endpoint.events
    ]
    targets: list[tuple[str | None, str]] = [(e.id, e.url) for e in endpoints]
    callback = await session.get(JobCallback, job.id)
    if callback is not None:
        targets.append((None, callback.url))
    return await _create_deliveries(session, job, event, targets)


async def record_callback(session: AsyncSession, job: Job, url: str) -> list[tuple[str, str]]:
    """The delivery to ``url`` alone of an outcome already recorded (a callback attached to a job
    that finished first); none while the job is not finished."""
    event = event_type(job)
    return await _create_deliveries(session, job, event, [(None, url)]) if event else []


async def _create_deliveries(
    session: AsyncSession, job: Job, event: str, targets: list[tuple[str | None, str]]
) -> list[tuple[str, str]]:
    """One delivery per (endpoint id or None for a callback, URL); the messages to send after commit."""
    if not targets:
        return []
    body = await _event_body(session, job, event)
    now = utcnow()
    deliveries = [
        WebhookDelivery(
            user_id=job.user_id,
            endpoint_id=endpoint_id,
            job_id=job.id,
            event_type=event,
            url=url,
            body=body,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
        )
        for endpoint_id, url in targets
    ]
    session.add_all(deliveries)
    await session.flush()
    return [(ROUTE, delivery.id) for delivery in deliveries]


async def _event_body(session: AsyncSession, job: Job, event: str) -> str:
    """The JSON body, stored once so every attempt signs the same bytes: ``{type, timestamp, data}``
    with the job as ``GET`` shows it, less its segments (``GET`` the job for those)."""
    kind = TranscriptionJob if job.kind == "asr" else SpeechJob
    # The finishing step loaded the job as the base class; read its kind's columns as just written.
    full = await session.scalar(
        select(kind).where(kind.id == job.id).execution_options(populate_existing=True)
    )
    if isinstance(full, TranscriptionJob):
        data = _transcription_data(full)
    else:
        assert isinstance(full, SpeechJob)
        data = _speech_data(full)
    when = full.completed_at or utcnow()
    return json.dumps(
        {"type": event, "timestamp": when.isoformat(), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _common(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status,
        "billed_seconds": job.billed_seconds,
        "truncated": bool(job.truncated),
        "error_code": job.error_code,
        "error_message": job.error_message,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "completed_at": _iso(job.completed_at),
    }


def _transcription_data(job: TranscriptionJob) -> dict[str, Any]:
    options = job.options or {}
    return {
        "object": "transcription",
        **_common(job),
        "filename": job.filename,
        "content_type": job.content_type,
        "size_bytes": job.size_bytes,
        "duration_seconds": job.duration_seconds,
        "language": job.language or "auto",
        "detected_language": job.detected_language,
        "model": job.model,
        "task": "translate" if options.get("task") == "translate" else "transcribe",
        "source_channel": job.source,
        "transcript_text": job.transcript_text,
    }


def _speech_data(job: SpeechJob) -> dict[str, Any]:
    return {
        "object": "tts_job",
        **_common(job),
        "text": job.text,
        "voice": job.voice,
        "format": job.audio_format,
        "speed": job.speed,
        "language": job.language,
        "streamed": bool((job.options or {}).get("stream")),
        "audio_seconds": job.audio_seconds,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class Attempt:
    """The right to make one attempt of a delivery (its number fences the result)."""

    delivery_id: str
    number: int
    url: str
    body: str
    secret_sealed: str | None


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int
    started_at: datetime

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def send_webhook(platform: Platform, delivery_id: str) -> None:
    """Make the delivery's next attempt if it is due (else nothing: a duplicate or early message)."""
    timeout = platform.settings.webhook_timeout_seconds
    attempt = await claim(platform, delivery_id, lease=timedelta(seconds=timeout + LEASE_MARGIN_SECONDS))
    if attempt is None:
        return
    outcome = await _attempt(platform, attempt)
    delay = await finish(platform, attempt, outcome)
    if outcome.ok:
        log.info(
            "webhook %s delivered (attempt %d, HTTP %s)", delivery_id, attempt.number, outcome.status_code
        )
    else:
        log.info(
            "webhook %s attempt %d failed: %s; %s",
            delivery_id,
            attempt.number,
            outcome.error,
            f"next in {delay:g} s" if delay is not None else "given up",
        )
    if delay is not None:
        await platform.queue.send(ROUTE, delivery_id, delay_seconds=delay)


async def claim(platform: Platform, delivery_id: str, *, lease: timedelta) -> Attempt | None:
    """Take a due pending delivery for one attempt: ``attempts`` + 1, and due again only after
    ``lease`` (should this worker die mid-attempt, the reconciler finds it overdue later)."""
    now = utcnow()
    async with platform.db.write() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        if (
            delivery is None
            or delivery.status != DeliveryStatus.PENDING
            or delivery.next_attempt_at is None
            or delivery.next_attempt_at > now + timedelta(seconds=EARLY_TOLERANCE_SECONDS)
        ):
            return None
        taken = await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.attempts == delivery.attempts,
            )
            .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=now + lease)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        if delivery.endpoint_id is not None:
            sealed = await session.scalar(
                select(WebhookEndpoint.secret_sealed).where(WebhookEndpoint.id == delivery.endpoint_id)
            )
        else:
            sealed = await session.scalar(
                select(CallbackSecret.secret_sealed).where(CallbackSecret.user_id == delivery.user_id)
            )
        return Attempt(delivery_id, delivery.attempts + 1, delivery.url, delivery.body, sealed)


async def _attempt(platform: Platform, attempt: Attempt) -> Outcome:
    """POST the body, signed for this attempt, within ``WEBHOOK_TIMEOUT`` seconds all told. Redirects are
    not followed (as Svix does): a 3xx is a failed attempt, the receiver should give its final URL."""
    timeout = platform.settings.webhook_timeout_seconds
    started_at = utcnow()
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    try:
        if attempt.secret_sealed is None:
            raise SecretUnavailable("the signing secret is gone")
        secret = SecretBox(platform.settings.secret_key.get_secret_value()).open(attempt.secret_sealed)
        sent_headers = headers(secret, attempt.delivery_id, int(time.time()), attempt.body)
        policy = NetworkPolicy.from_settings(platform.settings)
        # The whole exchange within the timeout: a receiver that trickles its answer is cut off too.
        async with (
            asyncio.timeout(timeout),
            guarded_session(policy, connect_timeout=timeout, read_timeout=timeout) as session,
            send_following_redirects(
                session,
                "POST",
                attempt.url,
                policy=policy,
                max_redirects=0,
                data=attempt.body.encode(),
                headers=sent_headers,
            ) as response,
        ):
            status = response.status
        if not 200 <= status < 300:
            error = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
    except TimeoutError:
        error = f"no answer within {timeout:g} s"
    except AddressNotAllowed as exc:
        error = f"{exc.code}: {exc.message}"
    except InvalidInput as exc:
        error = exc.message
    except SecretUnavailable as exc:
        error = f"cannot sign: {exc}"
    except (aiohttp.ClientError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    duration_ms = round((time.monotonic() - started) * 1000)
    return Outcome(status, error[:500] if error else None, duration_ms, started_at)


async def finish(platform: Platform, attempt: Attempt, outcome: Outcome) -> float | None:
    """Record the attempt; succeed, schedule the next one, or give up. Returns the wait before the
    next attempt, or None when there is none to make."""
    now = utcnow()
    delays = retry_delays(platform.settings)
    async with platform.db.write() as session:
        delivery = await session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.id == attempt.delivery_id).with_for_update()
        )
        if delivery is None:  # its endpoint was deleted meanwhile
            return None
        session.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                number=attempt.number,
                attempted_at=outcome.started_at,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        delivery.last_status_code = outcome.status_code
        if outcome.ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.next_attempt_at = None
            delivery.finished_at = now
            return None
        if delivery.attempts != attempt.number or delivery.status != DeliveryStatus.PENDING:
            return None  # a newer attempt (a manual re-send) owns the schedule now
        if attempt.number > len(delays):
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            delivery.finished_at = now
            return None
        delay = delays[attempt.number - 1]
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        return delay


def resend_now(delivery: WebhookDelivery) -> None:
    """Make ``delivery`` due at once (a manual re-send: the same id and body, a new attempt); the
    caller sends its message after commit. A delivery given up gets this one attempt."""
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = utcnow()
    delivery.finished_at = None


async def overdue(platform: Platform, cutoff: datetime) -> list[tuple[str, str]]:
    """For the reconciler: pending deliveries due before ``cutoff`` — their message was lost (or
    their worker died mid-attempt) — to be sent again."""
    async with platform.db.lookup() as session:
        ids = (
            await session.scalars(
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    WebhookDelivery.next_attempt_at < cutoff,
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(OVERDUE_BATCH)
            )
        ).all()
    return [(ROUTE, delivery_id) for delivery_id in ids]
