"""Counting jobs and ledger movements when — and only when — their transaction commits (and
logging each job's outcome then, in the context — request and job id — of whoever finished it).

Every job is created by one insert and every ledger movement is one ``LedgerEntry`` insert
(``billing.ledger``: grant, hold, extend, capture, release), so the ORM's insert events are the
single places to count them, and billing stays free of any import of ours. A job's end is noted by
``core.jobs.lifecycle`` (``note_finished``), the one door every outcome goes through. Each note
waits in ``session.info`` and becomes a metric in the session's ``after_commit`` event; a rollback
drops it, so a refused hold or a lost race is never counted.

The insert event also stamps a new job with the id of the request being served
(``options["request_id"]``): the worker picks it up from there for its log lines.
``watch_database()`` installs the events once per process (``cli.bootstrap.build_platform``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, object_session

from billing.tables import LedgerEntry
from core.db.models import Job
from core.jobs.states import JobStatus
from core.observability import metrics, request_context

log = logging.getLogger(__name__)

_PENDING = "nagovori_metrics_on_commit"
_installed = False


def watch_database() -> None:
    """Install the ORM events behind the job and ledger metrics (idempotent)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_commit", _run_pending)
    event.listen(Session, "after_rollback", _drop_pending)
    event.listen(Job, "before_insert", _remember_request, propagate=True)
    event.listen(Job, "after_insert", _job_created, propagate=True)
    event.listen(LedgerEntry, "after_insert", _ledger_moved)
    _installed = True


def on_commit(session: Session | AsyncSession, action: Callable[[], None]) -> None:
    """Run ``action`` once ``session``'s transaction commits (never if it rolls back)."""
    session.info.setdefault(_PENDING, []).append(action)


def note_finished(session: Session | AsyncSession, job: Job) -> None:
    """Count ``job``'s outcome (and, completed, its audio seconds and real-time factor) at commit."""
    kind, engine, model = job.kind, engine_of(job), model_of(job)
    outcome = metrics.label(str(job.status))
    audio = _audio_seconds(job) if job.status == JobStatus.COMPLETED else None
    elapsed = (
        (job.completed_at - job.started_at).total_seconds() if job.completed_at and job.started_at else None
    )

    job_id, code = job.id, job.error_code

    def count() -> None:
        metrics.JOBS_FINISHED.labels(kind, engine, outcome).inc()
        if audio:
            metrics.AUDIO_SECONDS.labels(kind, engine, model).inc(audio)
            if elapsed is not None and elapsed >= 0:
                metrics.REAL_TIME_FACTOR.labels(kind, engine, model).observe(elapsed / audio)
        # The job's last line in the worker (or the API, for a cancel): what became of it.
        log.info(
            "job %s %s%s (%s, %s)%s",
            job_id,
            outcome,
            f" ({code})" if code else "",
            kind,
            model,
            f": {audio:.1f} s of audio in {elapsed:.1f} s" if audio and elapsed is not None else "",
            extra={"job_id": job_id, "outcome": outcome},
        )

    on_commit(session, count)


def _loaded(job: Job, name: str) -> Any:
    """An attribute's value if it is loaded, else None. A job read as the base ``Job`` has not
    loaded its kind's own columns; touching them would load them lazily — an implicit query that
    async sessions refuse (``MissingGreenlet``) — and a metric label is not worth a query."""
    return job.__dict__.get(name)


def engine_of(job: Job) -> str:
    """The engine label: a transcription's model id starts with its engine ("whisper-base");
    speech names its engine in ``options`` (``auto``: chosen by language)."""
    if job.kind == "asr":
        model = _loaded(job, "model")
        return metrics.label(model.split("-", 1)[0] if model else None, "default")
    return metrics.label((job.options or {}).get("engine"), "auto")


def model_of(job: Job) -> str:
    if job.kind == "asr":
        return metrics.label(_loaded(job, "model"), "default")
    return metrics.label(_loaded(job, "voice"), "default")


def _audio_seconds(job: Job) -> float | None:
    seconds = _loaded(job, "duration_seconds") if job.kind == "asr" else _loaded(job, "audio_seconds")
    return float(seconds) if seconds else None


def _run_pending(session: Session) -> None:
    for action in session.info.pop(_PENDING, ()):
        try:
            action()
        except Exception:  # a metric must never turn a committed change into an error
            log.warning("a metric could not be recorded", exc_info=True)


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _remember_request(_mapper: Any, _connection: Any, job: Job) -> None:
    request_id = request_context.request_id.get()
    if request_id and request_context.OPTION_KEY not in (job.options or {}):
        job.options = {**(job.options or {}), request_context.OPTION_KEY: request_id}


def _job_created(_mapper: Any, _connection: Any, job: Job) -> None:
    session = object_session(job)
    if session is None:
        return
    child = metrics.JOBS_CREATED.labels(job.kind, engine_of(job), metrics.label(job.source))
    job_id, kind, source = job.id, job.kind, job.source

    def count() -> None:
        child.inc()
        log.info("job %s created (%s, from %s)", job_id, kind, source, extra={"job_id": job_id})

    on_commit(session, count)


def _ledger_moved(_mapper: Any, _connection: Any, entry: LedgerEntry) -> None:
    session = object_session(entry)
    if session is not None and entry.amount_seconds:
        child = metrics.LEDGER_SECONDS.labels(metrics.label(entry.kind), metrics.label(entry.channel))
        amount = entry.amount_seconds
        on_commit(session, lambda: child.inc(amount))
