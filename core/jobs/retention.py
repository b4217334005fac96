"""Storage expiry: what the platform deletes so that stored audio does not grow forever.

* uploads no job uses (never PUT, or PUT and never transcribed) go ``UPLOAD_TTL_HOURS`` after they
  were presigned — the object and the row;
* the input of finished transcriptions goes ``RETENTION_DAYS`` after the last job that uses it
  finished (de-duplicated uploads are shared by jobs: never while one of them is queued, running,
  or finished more recently); the upload row goes, the jobs keep their text and get
  ``audio_expired_at``;
* TTS results go ``RETENTION_DAYS`` after their job finished; the job is marked the same way;
* webhook deliveries that finished (a 2xx, or given up) go with their attempts (a cascade)
  ``WEBHOOK_DELIVERY_RETENTION_DAYS`` after they finished; one pending or being retried never does.

``sweep`` is one pass; the reconciler runs it every ``SWEEP_INTERVAL_SECONDS``. Safe in every
process at once: an upload row is locked before anything of it is deleted (request_transcription
locks it too before a job may use it), marks are conditional, deleting a missing object is no error.
An object is deleted before its row is committed away, so a failed pass leaves a row to retry, never
an object nobody knows about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.db.base import utcnow
from core.db.models import Job, SpeechJob, TranscriptionJob, Upload
from core.db.webhook_tables import WebhookDelivery
from core.jobs.states import TERMINAL
from core.jobs.webhook_task import DeliveryStatus
from core.platform import Platform

SWEEP_INTERVAL_SECONDS = 600
BATCH = 500  # per kind and pass; the next pass takes the rest


@dataclass
class SweepReport:
    """What one pass deleted: upload keys, the jobs whose input or result audio expired, and how
    many finished webhook deliveries went."""

    uploads_deleted: list[str] = field(default_factory=list)
    inputs_expired: list[str] = field(default_factory=list)
    results_expired: list[str] = field(default_factory=list)
    deliveries_deleted: int = 0


async def sweep(platform: Platform, *, now: datetime | None = None) -> SweepReport:
    """One expiry pass over uploads, inputs, TTS results and webhook deliveries; returns what it
    deleted."""
    settings = platform.settings
    now = now or utcnow()
    report = SweepReport()
    if settings.upload_ttl_hours > 0:
        # A URL that still works keeps its upload, however short the TTL.
        ttl = max(
            timedelta(hours=settings.upload_ttl_hours), timedelta(seconds=settings.upload_url_ttl_seconds)
        )
        await _expire_unused_uploads(platform, now - ttl, report)
    if settings.retention_days > 0:
        cutoff = now - timedelta(days=settings.retention_days)
        await _expire_inputs(platform, cutoff, now, report)
        await _expire_results(platform, cutoff, now, report)
    if settings.webhook_delivery_retention_days > 0:
        await _expire_deliveries(
            platform, now - timedelta(days=settings.webhook_delivery_retention_days), report
        )
    return report


def _finished_before(job: Any, cutoff: datetime) -> ColumnElement[bool]:
    """A job (class or alias) that ended before ``cutoff``."""
    return job.status.in_(TERMINAL) & (func.coalesce(job.completed_at, job.created_at) < cutoff)


async def _expire_unused_uploads(platform: Platform, cutoff: datetime, report: SweepReport) -> None:
    used = exists().where(TranscriptionJob.object_key == Upload.object_key)
    async with platform.db.read() as session:
        keys = (
            await session.scalars(
                select(Upload.object_key).where(Upload.created_at < cutoff, ~used).limit(BATCH)
            )
        ).all()
    for key in keys:
        async with platform.db.write() as session:
            row = await session.scalar(select(Upload).where(Upload.object_key == key).with_for_update())
            if row is None or row.created_at >= cutoff or await _job_uses(session, key):
                continue  # taken by a job (or gone) since the listing
            await platform.store.delete(key)
            await session.delete(row)
        report.uploads_deleted.append(key)


async def _expire_inputs(platform: Platform, cutoff: datetime, now: datetime, report: SweepReport) -> None:
    other = aliased(TranscriptionJob)
    keeps = exists().where(other.object_key == TranscriptionJob.object_key, ~_finished_before(other, cutoff))
    async with platform.db.read() as session:
        keys = (
            await session.scalars(
                select(TranscriptionJob.object_key)
                .where(
                    TranscriptionJob.object_key.is_not(None),
                    TranscriptionJob.audio_expired_at.is_(None),
                    ~keeps,
                )
                .distinct()
                .limit(BATCH)
            )
        ).all()
    for key in keys:
        assert key is not None
        async with platform.db.write() as session:
            row = await session.scalar(select(Upload).where(Upload.object_key == key).with_for_update())
            still_needed = await session.scalar(
                select(func.count())
                .select_from(TranscriptionJob)
                .where(TranscriptionJob.object_key == key, ~_finished_before(TranscriptionJob, cutoff))
            )
            if still_needed:
                continue  # a new job uses it since the listing
            await platform.store.delete(key)
            if row is not None:
                await session.delete(row)
            marked = await session.scalars(
                update(TranscriptionJob)
                .where(TranscriptionJob.object_key == key, TranscriptionJob.audio_expired_at.is_(None))
                .values(audio_expired_at=now)
                .returning(TranscriptionJob.id)
                .execution_options(synchronize_session=False)
            )
            report.inputs_expired.extend(marked.all())


async def _expire_results(platform: Platform, cutoff: datetime, now: datetime, report: SweepReport) -> None:
    async with platform.db.read() as session:
        rows = (
            await session.execute(
                select(SpeechJob.id, SpeechJob.result_key)
                .where(
                    SpeechJob.result_key.is_not(None),
                    SpeechJob.audio_expired_at.is_(None),
                    _finished_before(SpeechJob, cutoff),
                )
                .limit(BATCH)
            )
        ).all()
    for job_id, key in rows:
        assert key is not None
        await platform.store.delete(key)  # first: a pass that stops here marks it next time
        async with platform.db.write() as session:
            marked = await session.execute(
                update(Job)
                .where(Job.id == job_id, Job.audio_expired_at.is_(None))
                .values(audio_expired_at=now)
                .execution_options(synchronize_session=False)
            )
        if marked.rowcount:  # type: ignore[attr-defined]
            report.results_expired.append(job_id)


def _delivery_finished_before(cutoff: datetime) -> ColumnElement[bool]:
    """A delivery that succeeded or was given up before ``cutoff``: a manual re-send makes it
    pending again (``finished_at`` None) until it ends anew."""
    return WebhookDelivery.status.in_((DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED)) & (
        WebhookDelivery.finished_at < cutoff
    )


async def _expire_deliveries(platform: Platform, cutoff: datetime, report: SweepReport) -> None:
    async with platform.db.read() as session:
        ids = (
            await session.scalars(
                select(WebhookDelivery.id).where(_delivery_finished_before(cutoff)).limit(BATCH)
            )
        ).all()
    if not ids:
        return
    async with platform.db.write() as session:
        # Checked again in the statement: one re-sent since the listing stays. Attempts go by the
        # foreign key's ON DELETE CASCADE (SQLite connections turn foreign_keys on).
        deleted = await session.execute(
            delete(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids), _delivery_finished_before(cutoff))
            .execution_options(synchronize_session=False)
        )
    report.deliveries_deleted += deleted.rowcount  # type: ignore[attr-defined]


async def _job_uses(session: AsyncSession, key: str) -> bool:
    return bool(await session.scalar(select(exists().where(TranscriptionJob.object_key == key))))
