"""The reconciler: the database says what should be happening; make the queues agree.

* a processing job whose worker stopped beating is given back to the queue (or failed and
  refunded once it has used all its attempts); a live speech stream (``options.stream``) never is —
  its client went away with the process that served it — it is settled for the seconds of audio
  its last heartbeat recorded (completed, ``truncated``) and the rest of its hold released;
* a dispatched job still waiting long after its message was sent gets the message again
  (a lost message; a duplicate is harmless, claims are conditional);
* users with free slots get their waiting jobs dispatched;
* finished jobs with an undelivered result are delivered again;
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
from datetime import timedelta

from sqlalchemy import select, update

from core.db.base import utcnow
from core.db.models import Job, SpeechJob
from core.jobs import lifecycle, retention
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
    settled: list[str] = field(default_factory=list)  # live streams cut by a crash, billed what they sent


async def reconcile(platform: Platform, *, stale_after: timedelta | None = None) -> ReconcileReport:
    """One pass; returns what it did."""
    settings = platform.settings
    if stale_after is None:
        stale_after = timedelta(seconds=settings.job_stale_seconds)
    now = utcnow()
    cutoff = now - stale_after
    report = ReconcileReport()
    sends: list[tuple[str, str]] = []
    streams: list[tuple[Claim, dict[str, object]]] = []
    # Job rows only in this transaction; user locks are taken in their own (see lifecycle's lock order).
    async with platform.db.write() as session:
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
                    streams.append((Claim(job.id, job.user_id, job.attempts + 1), dict(job.options or {})))
                continue
            if job.attempts >= settings.job_max_attempts:
                report.failed.append(job.id)
                continue
            await session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == JobStatus.PROCESSING, Job.attempts == job.attempts)
                .values(status=JobStatus.QUEUED, heartbeat_at=None, dispatched_at=now)
                .execution_options(synchronize_session=False)
            )
            report.requeued.append(job.id)
            sends.append((job.kind, job.id))
        lost = (
            await session.execute(
                select(Job.id, Job.kind).where(Job.status == JobStatus.QUEUED, Job.dispatched_at < cutoff)
            )
        ).all()
        for job_id, kind in lost:
            await session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
                .values(dispatched_at=now)
                .execution_options(synchronize_session=False)
            )
            report.resent.append(job_id)
            sends.append((kind, job_id))
    for job_id in report.failed:
        more = await lifecycle.fail(
            platform.db,
            job_id,
            code="worker_lost",
            message="The job was interrupted too many times and could not finish; "
            "your minutes were returned.",
            max_active=settings.max_active_jobs,
        )
        sends.extend(more or [])
    for claim, options in streams:
        sends.extend(await _settle_stream(platform, claim, options, report))
    async with platform.db.read() as session:
        waiting_users = (
            await session.scalars(
                select(Job.user_id)
                .where(Job.status == JobStatus.QUEUED, Job.dispatched_at.is_(None))
                .distinct()
            )
        ).all()
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
    for user_id in waiting_users:
        async with platform.db.write() as session:
            admitted = await admit(session, user_id, max_active=settings.max_active_jobs)
        report.admitted.extend(job_id for _, job_id in admitted)
        sends.extend(admitted)
    report.redelivered.extend(undelivered)
    sends.extend(("deliver", job_id) for job_id in undelivered)
    await platform.queue.send_all(sends)
    return report


async def _settle_stream(
    platform: Platform, claim: Claim, options: dict[str, object], report: ReconcileReport
) -> list[tuple[str, str]]:
    """Complete a live stream whose process died, billed ceil(seconds it recorded as sent);
    one that recorded nothing sent is failed and refunded. Never re-synthesized."""
    settings = platform.settings
    async with platform.db.read() as session:
        seconds = await session.scalar(select(SpeechJob.audio_seconds).where(SpeechJob.id == claim.job_id))
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
        log.info("expired stored audio: %s", swept)


async def audit_ledger(platform: Platform) -> None:
    """The quick ledger audit; each broken invariant is one ERROR line naming the account or job."""
    try:
        report = await quick_check(platform.db)
    except Exception:
        log.exception("ledger audit failed; will try again")
        return
    for violation in report.violations:
        log.error("ledger invariant broken: %s", violation)
