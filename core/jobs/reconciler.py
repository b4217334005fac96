"""The reconciler: the database says what should be happening; make the queues agree.

* a processing job whose worker stopped beating is given back to the queue (or failed and
  refunded once it has used all its attempts);
* a dispatched job still waiting long after its message was sent gets the message again
  (a lost message; a duplicate is harmless, claims are conditional);
* users with free slots get their waiting jobs dispatched;
* finished jobs with an undelivered result are delivered again.
Safe to run in every process at once: every change is a conditional update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update

from core.db.base import utcnow
from core.db.models import Job
from core.jobs import lifecycle
from core.jobs.admission import admit
from core.jobs.states import JobStatus
from core.platform import Platform

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)
    admitted: list[str] = field(default_factory=list)
    redelivered: list[str] = field(default_factory=list)


async def reconcile(platform: Platform, *, stale_after: timedelta | None = None) -> ReconcileReport:
    """One pass; returns what it did."""
    settings = platform.settings
    if stale_after is None:
        stale_after = timedelta(seconds=settings.job_stale_seconds)
    now = utcnow()
    cutoff = now - stale_after
    report = ReconcileReport()
    sends: list[tuple[str, str]] = []
    # Job rows only in this transaction; user locks are taken in their own (see lifecycle's lock order).
    async with platform.db.write() as session:
        silent = (
            await session.scalars(
                select(Job).where(Job.status == JobStatus.PROCESSING, Job.heartbeat_at < cutoff)
            )
        ).all()
        for job in silent:
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


async def run_reconciler(platform: Platform, stop: asyncio.Event) -> None:
    """Reconcile every ``RECONCILE_INTERVAL_SECONDS`` until ``stop`` is set."""
    interval = platform.settings.reconcile_interval_seconds
    while not stop.is_set():
        try:
            report = await reconcile(platform)
            if any(vars(report).values()):
                log.info("reconciled: %s", report)
        except Exception:
            log.exception("reconcile pass failed; will try again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
