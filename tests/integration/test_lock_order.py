"""Finishing, cancelling and admitting jobs of one user at the same time never deadlocks and keeps
the ledger exact (PostgreSQL takes row locks; every path takes them user → job → balance)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from billing import ledger
from billing.usage import ledger_sum
from core.db.database import Database
from core.db.models import TranscriptionJob
from core.jobs import admission, lifecycle
from core.services.users import create_user
from tests.integration.ledger_invariant import assert_ledger_consistent


async def _submit(db: Database, user_id: str, max_active: int) -> TranscriptionJob:
    job = TranscriptionJob(
        user_id=user_id, object_key=f"uploads/{user_id}/{uuid.uuid4().hex}.wav", language="auto"
    )
    async with db.write() as session:
        await admission.submit(session, job, hold_seconds=10, max_queued=100, max_active=max_active)
    return job


async def test_concurrent_finishes_cancels_and_submissions(db: Database) -> None:
    user_id = (await create_user(db, starting_minutes=10)).id  # 600 s: 60 jobs of 10 s
    running = [await _submit(db, user_id, max_active=20) for _ in range(20)]
    claims = [await lifecycle.claim(db, job.id, stale_after=timedelta(minutes=5)) for job in running]
    assert all(claims)

    async def finish(index: int) -> None:
        claim = claims[index]
        assert claim is not None
        if index % 4 == 0:
            await lifecycle.fail(
                db, claim.job_id, code="engine_failure", message="x", max_active=20, attempt=claim.attempt
            )
        else:
            await lifecycle.complete(db, claim, billable_seconds=7, quantum=1, max_active=20)

    async def cancel(job: TranscriptionJob) -> None:
        async with db.write() as session:
            await admission.lock_user(session, user_id)
            row = await session.get(TranscriptionJob, job.id, with_for_update=True)
            assert row is not None
            await lifecycle.cancel(session, row, max_active=20)

    queued = [await _submit(db, user_id, max_active=0) for _ in range(10)]
    await asyncio.gather(
        *(finish(i) for i in range(20)),
        *(_submit(db, user_id, max_active=20) for _ in range(20)),
        *(cancel(job) for job in queued),
    )

    async with db.read() as session:
        balance = await ledger.balance(session, user_id)
        assert balance == await ledger_sum(session, user_id)
    # 15 completed at 7 s each; 5 failed, 10 cancelled: refunded; 20 new jobs hold 10 s each.
    assert balance == 600 - 15 * 7 - 20 * 10
    await assert_ledger_consistent(db)
