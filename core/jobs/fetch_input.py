"""A job's ``audio_url``, fetched by the worker that runs it — never by the API handler.

The download goes through ``core.net``'s guard (every name resolved and checked, the connection
pinned to the checked address, each redirect re-checked), within ``FETCH_CONNECT_TIMEOUT_SECONDS``,
``FETCH_READ_TIMEOUT_SECONDS`` and a total of ``FETCH_DEADLINE_SECONDS``, and streams into the
user's uploads (``uploads.store_stream``: the audio head check, at most ``MAX_UPLOAD_MB``, the
storage quota, SHA-256 de-duplication). The job then points at that object like an uploaded one,
so a retry decodes the stored bytes instead of fetching again, and retention applies.

While the bytes come in, the share received so far (bytes / Content-Length) goes to the job's
``transfer_progress`` about every ``TRANSFER_REPORT_SECONDS``, for ``GET .../status`` to read from
another process; a write names this attempt, like a heartbeat, so it never lands after the job
moved on. A server that sends no Content-Length gives no share: the column stays unknown (None);
the first write of an attempt also clears what an earlier attempt left.

Every way a fetch fails is the URL's (a forbidden address, a name that does not resolve, a server
that refuses, answers an error, stalls or sends too much, or sends no audio): the job fails at once
with a code and a message saying which, and its hold is released. Retrying would not help, and
the client can send the job again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator

import aiohttp
from sqlalchemy import update
from yarl import URL

from core.db.database import Database
from core.db.models import TranscriptionJob, Upload
from core.errors import InvalidInput, PayloadTooLarge, StorageQuotaExceeded
from core.jobs.background import running_beside
from core.jobs.lifecycle import Claim
from core.jobs.progress import JobAbandoned
from core.jobs.states import JobStatus
from core.net import NetworkPolicy, guarded_session, send_following_redirects
from core.platform import Platform
from core.services import uploads

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
TRANSFER_REPORT_SECONDS = 1.0
MAX_REDIRECTS = 5
HEADERS = {"Accept": "audio/*, video/*;q=0.9, */*;q=0.5", "Accept-Encoding": "identity"}


class FetchFailed(InvalidInput):
    """The ``audio_url`` could not be downloaded (its server, its name, or its answer)."""

    code = "fetch_failed"
    default_message = "The audio_url could not be downloaded."


class FetchTimedOut(FetchFailed):
    """The ``audio_url``'s server was too slow: to connect, between reads, or in all."""

    code = "fetch_timeout"
    default_message = "The audio_url did not deliver the file in time."


def url_of(job: TranscriptionJob) -> str | None:
    """The URL a job's audio is still to be fetched from (None once it is stored, or if it has none)."""
    url = (job.options or {}).get("audio_url")
    return str(url) if url and job.object_key is None else None


async def fetch_input(platform: Platform, claim: Claim, job: TranscriptionJob) -> TranscriptionJob:
    """Download the job's ``audio_url`` into the user's uploads and make it the job's input;
    returns the job as updated. Raises a ``DomainError`` (the job fails) when the fetch does."""
    url = url_of(job)
    assert url is not None, "fetch_input needs a job with an audio_url still to fetch"
    deadline = platform.settings.fetch_deadline_seconds
    try:
        async with asyncio.timeout(deadline):
            stored = await _download(platform, claim, url)
    except TimeoutError:
        raise FetchTimedOut(f"The audio_url did not deliver the file within {deadline:g} s.") from None
    try:
        return await _attach(platform, claim, stored.upload)
    except JobAbandoned:
        if stored.new:  # an earlier upload of the same bytes stays
            await asyncio.shield(uploads.discard(platform, claim.user_id, stored.upload.object_key))
        raise


async def _download(platform: Platform, claim: Claim, url: str) -> uploads.StoredAudio:
    settings = platform.settings
    limit = settings.max_upload_bytes
    too_large = PayloadTooLarge(
        f"The file at audio_url is larger than the upload limit ({settings.max_upload_mb} MB).",
        limit_bytes=limit,
    )
    policy = NetworkPolicy.from_settings(settings)
    try:
        async with (
            guarded_session(
                policy,
                connect_timeout=settings.fetch_connect_timeout_seconds,
                read_timeout=settings.fetch_read_timeout_seconds,
            ) as session,
            send_following_redirects(
                session, "GET", url, policy=policy, max_redirects=MAX_REDIRECTS, headers=HEADERS
            ) as response,
        ):
            if response.status != 200:
                raise FetchFailed(f"The audio_url answered HTTP {response.status}.", status=response.status)
            if response.content_length is not None and response.content_length > limit:
                raise too_large
            transfer = _Transfer(response.content_length)
            async with _reported(platform.db, claim, transfer):
                return await uploads.store_stream(
                    platform,
                    claim.user_id,
                    transfer.count(response.content.iter_chunked(CHUNK)),
                    filename=URL(str(response.url)).name or "audio",
                    max_bytes=limit,
                )
    except StorageQuotaExceeded:
        raise
    except PayloadTooLarge:
        raise too_large from None
    except aiohttp.ClientError as exc:
        raise _failure(exc) from None


class _Transfer:
    """Bytes received of a download, and of how many when the server said."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.received = 0

    def fraction(self) -> float | None:
        return min(1.0, self.received / self.total) if self.total else None

    async def count(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            self.received += len(chunk)
            yield chunk


@contextlib.asynccontextmanager
async def _reported(db: Database, claim: Claim, transfer: _Transfer) -> AsyncIterator[None]:
    """Write ``transfer``'s share to the job about every ``TRANSFER_REPORT_SECONDS`` while the
    block runs (on a timer rather than per chunk, so a download that stalls still shows what came)."""

    async def report() -> None:
        # The first write comes at once: it also clears what an earlier attempt left (with no
        # Content-Length the share is unknown, None, and nothing more is written).
        written: float | None = -1.0
        while True:
            fraction = transfer.fraction()
            if fraction != written:
                try:
                    if not await _record_transfer(db, claim, fraction):
                        return  # cancelled or taken over: the heartbeat stops the worker
                    written = fraction
                except Exception:  # progress is best effort; the download goes on
                    log.warning("could not record the transfer of job %s", claim.job_id, exc_info=True)
            await asyncio.sleep(TRANSFER_REPORT_SECONDS)

    async with running_beside(report()):
        yield


async def _record_transfer(db: Database, claim: Claim, fraction: float | None) -> bool:
    """Set the job's ``transfer_progress`` if this attempt still owns it and its input is not
    stored yet; False when it does not."""
    async with db.write_one() as session:
        result = await session.execute(
            update(TranscriptionJob)
            .where(
                TranscriptionJob.id == claim.job_id,
                TranscriptionJob.status == JobStatus.PROCESSING,
                TranscriptionJob.attempts == claim.attempt,
                TranscriptionJob.object_key.is_(None),
            )
            .values(transfer_progress=fraction)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _failure(exc: aiohttp.ClientError) -> FetchFailed:
    """An aiohttp error as words for the job's error message (no internals)."""
    if isinstance(exc, aiohttp.ServerTimeoutError):  # connect or read timeout
        return FetchTimedOut("The audio_url's server did not answer in time.")
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return FetchFailed("The audio_url's host name could not be resolved.")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return FetchFailed("The audio_url's server could not be reached.")
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return FetchFailed("The audio_url's server broke off the download.")
    return FetchFailed(f"The audio_url could not be downloaded ({type(exc).__name__}).")


async def _attach(platform: Platform, claim: Claim, upload: Upload) -> TranscriptionJob:
    """Make ``upload`` the job's input, pinned like an uploaded one (size and SHA-256), if this
    attempt still owns the job; the upload row is locked first, as at job creation."""
    async with platform.db.write() as session:
        await uploads.pin_upload(session, claim.user_id, upload.object_key)
        job = await session.get(TranscriptionJob, claim.job_id, with_for_update=True)
        if job is None or job.status != JobStatus.PROCESSING or job.attempts != claim.attempt:
            raise JobAbandoned(claim.job_id)
        job.object_key = upload.object_key
        job.size_bytes = upload.size_bytes
        job.input_sha256 = upload.sha256
        job.filename = job.filename or upload.filename
        job.content_type = job.content_type or upload.content_type
        return job
