"""The reconciler: the database says what should be happening; make the queues agree.

* a processing job whose worker stopped beating is given back to the queue (or failed and
  refunded once it has used all its attempts); a live speech stream (``options.stream``) never is —
  its client went away with the process that served it — it is settled for the seconds of audio
  its last heartbeat recorded (completed, ``truncated``) and the rest of its hold released;
* a dispatched job still waiting long after its message was sent gets the message again
  (a lost message; a duplicate is harmless, claims are conditional);
* users with free slots get their waiting jobs dispatched;
* finished jobs with an undelivered result are delivered again;
* webhook deliveries due for longer than the stale period (their message was lost) are sent again;
* every ``LEDGER_CHECK_EVERY`` passes, the cheap part of the ledger audit (open holds on recently
  finished jobs, their accounts' balances against their entries) runs and logs what is broken at
  ERROR (it repairs nothing: money needs a person; ``nagovori ledger check`` has the full list);
* every ``retention.SWEEP_INTERVAL_SECONDS`` (and on the first pass), stored audio past its time
  is deleted (``retention.sweep``).
Safe to run in every process at once: every change is a conditional update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.db.models import Job
from core.jobs import lifecycle, retention, webhook_task
from core.jobs.admission import admit
from core.jobs.lifecycle import Claim
from core.jobs.states import JobStatus
from core.platform import Platform
from core.services.ledger_audit import quick_check

log = logging.getLogger(__name__)

LEDGER_CHECK_EVERY = 10  # reconcile passes between two quick ledger audits (the first pass runs one)


@dataclass
class ReconcileReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)
    admitted: list[str] = field(default_factory=list)
    redelivered: list[str] = field(default_factory=list)
    webhooks_resent: list[str] = field(default_factory=list)  # overdue webhook deliveries
    settled: list[str] = field(default_factory=list)  # live streams cut by a crash, billed what they sent


async def reconcile(platform: Platform, *, stale_after: timedelta | None = None) -> ReconcileReport:
    """One pass of every sweep, in this order; returns what it did. The queue messages the sweeps
    ask for are sent together at the end."""
    settings = platform.settings
    if stale_after is None:
        stale_after = timedelta(seconds=settings.job_stale_seconds)
    now = utcnow()
    cutoff = now - stale_after
    report = ReconcileReport()
    sends: list[tuple[str, str]] = []
    # Job rows only in this transaction; user locks are taken in their own (see lifecycle's lock order).
    async with platform.db.write() as session:
        silent = await _take_back_silent_jobs(session, settings.job_max_attempts, cutoff, now, report)
        sends += silent.sends
        sends += await _resend_lost_messages(session, cutoff, now, report)
    sends += await _fail_exhausted_jobs(platform, silent.exhausted)
    sends += await _settle_interrupted_streams(platform, silent.streams, report)
    sends += await _admit_waiting_jobs(platform, report)
    sends += await _redeliver_results(platform, cutoff, report)
    overdue_webhooks = await webhook_task.overdue(platform, cutoff)
    report.webhooks_resent.extend(delivery_id for _, delivery_id in overdue_webhooks)
    sends += overdue_webhooks
    await platform.queue.send_all(sends)
    return report


@dataclass
class _SilentJobs:
    """What the lost-worker sweep decided inside the transaction, for the steps after it."""

    sends: list[tuple[str, str]] = field(default_factory=list)  # the re-queued jobs' messages
    exhausted: list[str] = field(default_factory=list)  # out of attempts: to fail and refund
    streams: list[tuple[Claim, dict[str, object]]] = field(default_factory=list)  # taken-over streams


async def _take_back_silent_jobs(
    session: AsyncSession, max_attempts: int, cutoff: datetime, now: datetime, report: ReconcileReport
) -> _SilentJobs:
    """Lost workers: a processing job whose heartbeat stopped before ``cutoff`` goes back to the
    queue, or, out of attempts, is marked to fail; a live stream is taken over (a new attempt) to
    be settled, never re-queued."""
    found = _SilentJobs()
    silent = (
        await session.scalars(
            select(Job).where(Job.status == JobStatus.PROCESSING, Job.heartbeat_at < cutoff)
        )
    ).all()
    for job in silent:
        if (job.options or {}).get("stream"):
            # Take the stream over (a new attempt) so that, should it be alive after all, its
            # process learns at its next heartbeat that the job is no longer its own.
            took = await session.execute(
                update(Job)
                .where(
                    Job.id == job.id,
                    Job.status == JobStatus.PROCESSING,
                    Job.attempts == job.attempts,
                    Job.heartbeat_at < cutoff,
                )
                .values(attempts=Job.attempts + 1, heartbeat_at=now)
                .execution_options(synchronize_session=False)
            )
            if took.rowcount == 1:  # type: ignore[attr-defined]
                found.streams.append((Claim(job.id, job.user_id, job.attempts + 1), dict(job.options or {})))
            continue
        if job.attempts >= max_attempts:
            report.failed.append(job.id)
            found.exhausted.append(job.id)
            continue
        await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == JobStatus.PROCESSING, Job.attempts == job.attempts)
            .values(status=JobStatus.QUEUED, heartbeat_at=None, dispatched_at=now)
            .execution_options(synchronize_session=False)
        )
        report.requeued.append(job.id)
        found.sends.append((job.kind, job.id))
    return found


async def _resend_lost_messages(
    session: AsyncSession, cutoff: datetime, now: datetime, report: ReconcileReport
) -> list[tuple[str, str]]:
    """Lost messages: a job dispatched before ``cutoff`` and still queued gets its message again
    (a duplicate is harmless: claims are conditional)."""
    lost = (
        await session.execute(
            select(Job.id, Job.kind).where(Job.status == JobStatus.QUEUED, Job.dispatched_at < cutoff)
        )
    ).all()
    sends: list[tuple[str, str]] = []
    for job_id, kind in lost:
        await session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
            .values(dispatched_at=now)
            .execution_options(synchronize_session=False)
        )
        report.resent.append(job_id)
        sends.append((kind, job_id))
    return sends


async def _fail_exhausted_jobs(platform: Platform, job_ids: list[str]) -> list[tuple[str, str]]:
    """Jobs interrupted on every attempt fail (``worker_lost``) and their holds are released."""
    sends: list[tuple[str, str]] = []
    for job_id in job_ids:
        more = await lifecycle.fail(
            platform.db,
            job_id,
            code="worker_lost",
            message="The job was interrupted too many times and could not finish; "
            "your minutes were returned.",
            max_active=platform.settings.max_active_jobs,
        )
        sends.extend(more or [])
    return sends


async def _settle_interrupted_streams(
    platform: Platform, streams: list[tuple[Claim, dict[str, object]]], report: ReconcileReport
) -> list[tuple[str, str]]:
    """Stale live streams: each taken-over stream is settled for what it sent (``_settle_stream``)."""
    sends: list[tuple[str, str]] = []
    for claim, options in streams:
        sends.extend(await _settle_stream(platform, claim, options, report))
    return sends


async def _admit_waiting_jobs(platform: Platform, report: ReconcileReport) -> list[tuple[str, str]]:
    """Admission: users with jobs waiting undispatched get them dispatched as far as their free
    ``MAX_ACTIVE_JOBS`` slots allow (each user in a transaction of their own)."""
    async with platform.db.read() as session:
        waiting_users = (
            await session.scalars(
                select(Job.user_id)
                .where(Job.status == JobStatus.QUEUED, Job.dispatched_at.is_(None))
                .distinct()
            )
        ).all()
    sends: list[tuple[str, str]] = []
    for user_id in waiting_users:
        async with platform.db.write() as session:
            admitted = await admit(session, user_id, max_active=platform.settings.max_active_jobs)
        report.admitted.extend(job_id for _, job_id in admitted)
        sends.extend(admitted)
    return sends


async def _redeliver_results(
    platform: Platform, cutoff: datetime, report: ReconcileReport
) -> list[tuple[str, str]]:
    """Redelivery: a job finished before ``cutoff`` with somewhere to deliver to and not delivered
    yet gets its ``deliver`` step again."""
    async with platform.db.read() as session:
        undelivered = (
            await session.scalars(
                select(Job.id).where(
                    Job.status.in_([JobStatus.COMPLETED, JobStatus.FAILED]),
                    Job.delivery.is_not(None),
                    Job.delivered_at.is_(None),
                    Job.completed_at < cutoff,
                )
            )
        ).all()
    report.redelivered.extend(undelivered)
    return [("deliver", job_id) for job_id in undelivered]


async def _settle_stream(
    platform: Platform, claim: Claim, options: dict[str, object], report: ReconcileReport
) -> list[tuple[str, str]]:
    """Complete a live stream whose process died, billed ceil(seconds it recorded as sent);
    one that recorded nothing sent is failed and refunded. Never re-synthesized."""
    settings = platform.settings
    async with platform.db.read() as session:
        # The table's column, not SpeechJob's attribute: a realtime transcription (kind "asr") records
        # its received seconds there too, and the subclass attribute would filter on kind "tts".
        jobs = Job.__table__.c
        seconds = await session.scalar(select(jobs.audio_seconds).where(jobs.id == claim.job_id))
    if seconds:
        sends = await lifecycle.complete(
            platform.db,
            claim,
            billable_seconds=seconds,
            quantum=settings.billing_quantum_seconds,
            max_active=settings.max_active_jobs,
            truncated=True,
            options={**options, "cut": "interrupted"},
        )
        if sends is not None:
            report.settled.append(claim.job_id)
        return sends or []
    sends = await lifecycle.fail(
        platform.db,
        claim.job_id,
        code="stream_interrupted",
        message="The stream was interrupted before any audio was sent; nothing was charged.",
        max_active=settings.max_active_jobs,
        attempt=claim.attempt,
    )
    if sends is not None:
        report.failed.append(claim.job_id)
    return sends or []


async def run_reconciler(platform: Platform, stop: asyncio.Event) -> None:
    """Reconcile every ``RECONCILE_INTERVAL_SECONDS`` until ``stop`` is set."""
    interval = platform.settings.reconcile_interval_seconds
    passes = 0
    last_sweep: float | None = None
    while not stop.is_set():
        try:
            report = await reconcile(platform)
            if any(vars(report).values()):
                log.info("reconciled: %s", report)
        except Exception:
            log.exception("reconcile pass failed; will try again")
        if passes % LEDGER_CHECK_EVERY == 0:
            await audit_ledger(platform)
        passes += 1
        if last_sweep is None or time.monotonic() - last_sweep >= retention.SWEEP_INTERVAL_SECONDS:
            last_sweep = time.monotonic()
            await expire_storage(platform)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def expire_storage(platform: Platform) -> None:
    """One storage expiry pass (``retention.sweep``), logged; a failure waits for the next one."""
    try:
        swept = await retention.sweep(platform)
    except Exception:
        log.exception("storage expiry pass failed; will try again")
        return
    if any(vars(swept).values()):
        log.info("expired stored audio and old webhook deliveries: %s", swept)


async def audit_ledger(platform: Platform) -> None:
    """The quick ledger audit; each broken invariant is one ERROR line naming the account or job."""
    try:
        report = await quick_check(platform.db)
    except Exception:
        log.exception("ledger audit failed; will try again")
        return
    for violation in report.violations:
        log.error("ledger invariant broken: %s", violation)
