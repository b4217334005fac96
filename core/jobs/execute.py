"""Running one job attempt: claim, process, then complete, fail (refund) or retry.

Errors are sorted in one place. A domain error (``core.errors.DomainError``: bad audio, unsupported
language, missing model — ours, the ledger's or an engine's) fails the job at once with its message
and releases the hold. Anything else (``ServiceUnavailable`` too) is treated as transient: the job
goes back to the queue and Dramatiq retries the message with backoff, until ``JOB_MAX_ATTEMPTS``
attempts have been made; then the job fails and is refunded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeGuard

from core.errors import DomainError, RetryLater, ServiceUnavailable, public_message
from core.events import job_channel
from core.jobs import lifecycle
from core.jobs.lifecycle import Claim
from core.jobs.progress import JobAbandoned, ProgressReporter
from core.jobs.runtime import WorkerRuntime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a processor produced: the seconds to bill and the job columns to store."""

    billable_seconds: float
    fields: dict[str, Any] = field(default_factory=dict)


Processor = Callable[[WorkerRuntime, Claim, ProgressReporter], Awaitable[Outcome]]


def is_permanent(exc: BaseException) -> TypeGuard[DomainError]:
    """Domain errors (ours, the ledger's or the engines') are final; a dependency that is down is not."""
    return isinstance(exc, DomainError) and not isinstance(exc, ServiceUnavailable)


async def execute(rt: WorkerRuntime, job_id: str, process: Processor) -> None:
    """Run one attempt of ``job_id``; safe to call any number of times for the same job."""
    platform = rt.platform
    settings = platform.settings
    claim = await lifecycle.claim(
        platform.db, job_id, stale_after=timedelta(seconds=settings.job_stale_seconds)
    )
    if claim is None:
        return
    reporter = ProgressReporter(platform.db, platform.events, claim, asyncio.get_running_loop())
    await reporter.publish({"type": "status", "status": "processing"})
    try:
        async with reporter.heartbeats():
            outcome = await process(rt, claim, reporter)
    except JobAbandoned:
        log.info("job %s was cancelled or taken over; stopping", job_id)
        return
    except Exception as exc:
        await _handle_failure(rt, claim, exc)
        return
    sends = await lifecycle.complete(
        platform.db,
        claim,
        billable_seconds=outcome.billable_seconds,
        quantum=settings.billing_quantum_seconds,
        max_active=settings.max_active_jobs,
        **outcome.fields,
    )
    if sends is None:
        return  # cancelled at the last moment: the hold was released by the cancel
    await platform.queue.send_all(sends)
    await reporter.publish({"type": "done", "status": "completed"})


async def _handle_failure(rt: WorkerRuntime, claim: Claim, exc: Exception) -> None:
    platform = rt.platform
    settings = platform.settings
    if is_permanent(exc):
        code, message = exc.code, public_message(exc)
    elif claim.attempt >= settings.job_max_attempts:
        log.error("job %s failed on its last attempt", claim.job_id, exc_info=exc)
        code, message = (
            "processing_failed",
            (f"The job could not be processed after {claim.attempt} attempts; your minutes were returned."),
        )
    else:
        log.warning("job %s attempt %d failed; retrying", claim.job_id, claim.attempt, exc_info=exc)
        if await lifecycle.requeue(platform.db, claim):
            raise RetryLater(str(exc)) from exc
        return
    sends = await lifecycle.fail(
        platform.db,
        claim.job_id,
        code=code,
        message=message,
        max_active=settings.max_active_jobs,
        attempt=claim.attempt,
    )
    if sends is not None:
        await platform.queue.send_all(sends)
        await platform.events.publish(
            job_channel(claim.job_id),
            {"job_id": claim.job_id, "type": "error", "status": "failed", "code": code, "message": message},
        )
