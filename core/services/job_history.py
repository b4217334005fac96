"""A user's own jobs of both kinds, for the dashboard's History page: one list, newest first, with
a text search and filters; one job by id; cancel and delete whatever its kind.

Transcriptions are cancelled and deleted through ``core.services.transcriptions`` (what
``POST /v1/transcriptions/{id}/cancel`` and ``DELETE /v1/transcriptions/{id}`` call); speech jobs,
which the API cannot cancel or delete yet, the same way here (the hold goes back; deleting hides
the job from lists and reads, the audio is removed with the retention sweep as for any job).
Operators list everybody's jobs with ``core.services.job_listing`` instead.

**Search** is a case-insensitive ``LIKE '%words%'`` over the transcript, the speech text and the
file name, the same on SQLite and PostgreSQL. No index serves a pattern with a leading ``%``: the
database reads every row of the account that the other filters leave (the user/status/created
index narrows to the account), so a search costs about one pass over the account's texts (a few
milliseconds per thousand jobs). The page's count reads them a second time.
SQLite lowers ASCII letters only: for a query with other letters (Cyrillic) the query is also
tried as typed, in lower case, upper case and capitalized, so "привет" finds "Привет".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from core.db.models import Job, SpeechJob, TranscriptionJob
from core.errors import InvalidInput, NotFound
from core.jobs.states import JobStatus
from core.platform import Platform
from core.services import speech, transcriptions
from core.services.job_listing import KINDS
from core.services.owned_jobs import archive_owned_job, cancel_owned_job

MAX_PAGE_SIZE = 100
MAX_OFFSET = 10_000  # deeper pages would read (and skip) ever more rows: narrow the filters instead
MAX_QUERY_CHARS = 200
PREVIEW_CHARS = 240  # what a list row shows of a text; the whole text is on the job's own page
AUDIO_LINK_SECONDS = 600

_JOBS = Job.__table__


@dataclass(frozen=True)
class HistoryFilter:
    """What the list is narrowed to; every field is optional (``None`` or empty: no filter)."""

    text: str = ""
    status: str | None = None
    kind: str | None = None
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before


@dataclass(frozen=True)
class HistoryEntry:
    """One job as a list row shows it (the start of its text only)."""

    id: str
    kind: str  # asr | tts
    status: str
    source: str
    created_at: datetime
    completed_at: datetime | None
    hold_seconds: int
    billed_seconds: int | None
    truncated: bool
    preview: str  # the transcript or the speech text, cut to PREVIEW_CHARS
    filename: str | None  # transcriptions
    voice: str | None  # speech


@dataclass(frozen=True)
class HistoryPage:
    entries: list[HistoryEntry]
    total: int  # jobs matching the filter, on every page
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.entries) < self.total and self.offset + self.limit <= MAX_OFFSET


async def list_history(
    platform: Platform, user_id: str, filters: HistoryFilter, *, limit: int = 20, offset: int = 0
) -> HistoryPage:
    """``limit`` of the user's jobs matching ``filters`` from ``offset`` on, newest first (deleted
    jobs left out); InvalidInput for a status, kind, limit or offset out of range."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"A page has 1 to {MAX_PAGE_SIZE} jobs.", field="limit")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"The offset is 0 to {MAX_OFFSET}; narrow the filters instead.", field="offset")
    conditions = _conditions(user_id, filters)
    transcript = _JOBS.c.transcript_text
    text = _JOBS.c.text
    query = (
        select(
            _JOBS.c.id,
            _JOBS.c.kind,
            _JOBS.c.status,
            _JOBS.c.source,
            _JOBS.c.created_at,
            _JOBS.c.completed_at,
            _JOBS.c.hold_seconds,
            _JOBS.c.billed_seconds,
            _JOBS.c.truncated,
            _JOBS.c.filename,
            _JOBS.c.voice,
            # The start of the text only: a long transcript is not read whole for one row.
            func.substr(func.coalesce(transcript, text, ""), 1, PREVIEW_CHARS + 1).label("preview"),
        )
        .where(*conditions)
        .order_by(_JOBS.c.created_at.desc(), _JOBS.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    async with platform.db.read() as session:
        total = await session.scalar(select(func.count()).select_from(_JOBS).where(*conditions))
        rows = (await session.execute(query)).all()
    entries = [
        HistoryEntry(
            id=row.id,
            kind=row.kind,
            status=row.status,
            source=row.source,
            created_at=row.created_at,
            completed_at=row.completed_at,
            hold_seconds=row.hold_seconds,
            billed_seconds=row.billed_seconds,
            truncated=bool(row.truncated),
            preview=_preview(row.preview),
            filename=row.filename,
            voice=row.voice,
        )
        for row in rows
    ]
    return HistoryPage(entries, int(total or 0), offset, limit)


async def get_job(platform: Platform, user_id: str, job_id: str) -> TranscriptionJob | SpeechJob:
    """The user's job of either kind (whole: text, segments, billing); NotFound for another
    user's, a deleted or a missing one alike."""
    kind = await _kind_of(platform, user_id, job_id)
    if kind == "asr":
        return await transcriptions.get_transcription(platform, user_id, job_id)
    return await speech.get_speech(platform, user_id, job_id)


async def cancel_job(platform: Platform, user_id: str, job_id: str) -> Job:
    """Stop a queued or running job of either kind and give its hold back; Conflict once finished."""
    if await _kind_of(platform, user_id, job_id) == "asr":
        return await transcriptions.cancel_job(platform, user_id, job_id)
    return await cancel_owned_job(platform, SpeechJob, user_id, job_id, what="Speech job")


async def delete_job(platform: Platform, user_id: str, job_id: str) -> None:
    """Hide a finished job of either kind from lists and reads; Conflict while it runs."""
    if await _kind_of(platform, user_id, job_id) == "asr":
        await transcriptions.archive_job(platform, user_id, job_id)
    else:
        await archive_owned_job(platform, SpeechJob, user_id, job_id, what="Speech job")


def speech_audio_path(platform: Platform, job: SpeechJob, *, now: float | None = None) -> str | None:
    """A signed path on this site (``/objects/…``) to the job's audio, valid AUDIO_LINK_SECONDS;
    None while there is no audio (not completed, or deleted after the retention period)."""
    if job.status != JobStatus.COMPLETED or not job.result_key or job.audio_expired_at is not None:
        return None
    expires = int(now if now is not None else time.time()) + AUDIO_LINK_SECONDS
    # No origin: the browser stays on the site it is on, whatever PUBLIC_URL says.
    return platform.signer.url("", "GET", job.result_key, expires_at=expires)


def _conditions(user_id: str, filters: HistoryFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [_JOBS.c.user_id == user_id, _JOBS.c.archived_at.is_(None)]
    if filters.status:
        try:
            conditions.append(_JOBS.c.status == JobStatus(filters.status))
        except ValueError:
            raise InvalidInput(f"Unknown job status {filters.status!r}.", field="status") from None
    if filters.kind:
        if filters.kind not in KINDS:
            raise InvalidInput(f"Unknown job kind {filters.kind!r}.", field="kind")
        conditions.append(_JOBS.c.kind == filters.kind)
    if filters.since is not None:
        conditions.append(_JOBS.c.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(_JOBS.c.created_at < filters.until)
    text = " ".join(filters.text.split())
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput(f"A search has at most {MAX_QUERY_CHARS} characters.", field="q")
    if text:
        conditions.append(or_(*(_matches(pattern) for pattern in _patterns(text))))
    return conditions


def _patterns(text: str) -> list[str]:
    """LIKE patterns for ``text``: one when it is ASCII (ILIKE folds its case everywhere), else
    the spellings SQLite's ASCII-only ``lower`` would miss."""
    variants = [text] if text.isascii() else [text, text.lower(), text.upper(), text.capitalize()]
    escaped = (v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for v in variants)
    return [f"%{v}%" for v in dict.fromkeys(escaped)]


def _matches(pattern: str) -> ColumnElement[bool]:
    return or_(
        _JOBS.c.transcript_text.ilike(pattern, escape="\\"),
        _JOBS.c.text.ilike(pattern, escape="\\"),
        _JOBS.c.filename.ilike(pattern, escape="\\"),
    )


def _preview(text: Any) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


async def _kind_of(platform: Platform, user_id: str, job_id: str) -> str:
    query = select(_JOBS.c.kind, _JOBS.c.user_id, _JOBS.c.archived_at).where(_JOBS.c.id == job_id)
    async with platform.db.lookup() as session:  # one query: no transaction needed
        row = (await session.execute(query)).one_or_none()
    if row is None or row.user_id != user_id or row.archived_at is not None:
        raise NotFound("Job not found.", id=job_id)
    return str(row.kind)
