"""The ledger audit on real SQLite and PostgreSQL: a healthy ledger passes, and every broken
invariant, made on purpose with direct writes, is reported naming its account or job — by the
service, ``nagovori ledger check``, ``GET /v1/admin/ledger/check`` and the reconciler's log."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from billing import ledger
from billing.tables import AccountBalance, LedgerEntry
from cli.bootstrap import build_platform
from core.db.base import utcnow
from core.db.database import Database
from core.db.models import Job, SpeechJob, TranscriptionJob
from core.jobs import admission, lifecycle
from core.jobs.reconciler import audit_ledger
from core.services.ledger_audit import Violation, check_ledger, quick_check
from core.services.users import create_user
from core.settings import Settings
from tests.api_harness import api_settings, live_api
from tests.integration.ledger_invariant import assert_ledger_consistent

STALE = timedelta(minutes=5)


async def _user(db: Database, minutes: float = 10) -> str:
    return (await create_user(db, starting_minutes=minutes)).id


async def _submit(db: Database, user_id: str, hold: int = 10, *, kind: str = "asr") -> str:
    job: Job = (
        TranscriptionJob(user_id=user_id, object_key=f"uploads/{user_id}/a.wav", language="auto")
        if kind == "asr"
        else SpeechJob(user_id=user_id, text="Hello.", voice="alloy", audio_format="mp3")
    )
    async with db.write() as session:
        await admission.submit(session, job, hold_seconds=hold, max_queued=100, max_active=100)
    return job.id


async def _complete(db: Database, job_id: str, seconds: float, *, extend: int = 0) -> None:
    claim = await lifecycle.claim(db, job_id, stale_after=STALE)
    assert claim is not None
    if extend:
        assert await lifecycle.extend_hold(db, claim, extend, quantum=1) == extend
    fields = {"duration_seconds": seconds} if "asr" in await _kind(db, job_id) else {"audio_seconds": seconds}
    await lifecycle.complete(db, claim, billable_seconds=seconds, quantum=1, max_active=100, **fields)


async def _kind(db: Database, job_id: str) -> str:
    async with db.read() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job.kind


async def _cancel(db: Database, job_id: str) -> None:
    async with db.write() as session:
        job = await session.get(Job, job_id, with_for_update=True)
        assert job is not None
        await lifecycle.cancel(session, job, max_active=100)


def _found(violations: Iterable[Violation]) -> set[tuple[str, str | None]]:
    return {(v.kind, v.job_id or v.account_id) for v in violations}


async def test_a_healthy_ledger_passes(db: Database) -> None:
    user_id = await _user(db)
    await _complete(db, await _submit(db, user_id), 7.2)  # capture 8, release 2
    await _complete(db, await _submit(db, user_id, 5), 9, extend=4)  # the hold grew while it ran
    await _complete(db, await _submit(db, user_id, 3), 6.5)  # settle takes the rest from the balance
    await _complete(db, await _submit(db, user_id, kind="tts"), 3.5)
    failed = await _submit(db, user_id)
    await lifecycle.fail(db, failed, code="engine_failure", message="x", max_active=100)
    await _cancel(db, await _submit(db, user_id))
    await _submit(db, user_id)  # still queued, still held

    report = await assert_ledger_consistent(db)

    assert (report.checked_accounts, report.checked_jobs) == (1, 7)
    quick = await quick_check(db)
    assert quick.ok and (quick.checked_accounts, quick.checked_jobs) == (1, 6)


async def test_every_broken_invariant_is_reported_with_its_account_or_job(db: Database) -> None:
    # Accounts: a balance off by 5 s; a negative balance (its entries agree); entries without a
    # balance row; a grant whose delta differs from its amount (the balance agrees with the delta).
    off = await _user(db)
    negative = await _user(db, 0)
    odd = await _user(db)
    jobs_user = await _user(db)
    ghost = str(uuid.uuid4())
    cancelled = await _submit(db, off)
    await _cancel(db, cancelled)
    async with db.write() as session:
        await _add_to_balance(session, off, 5)
        await session.merge(AccountBalance(account_id=negative, seconds=-3))
        session.add(_entry(negative, "hold", -3, 3, job_id=str(uuid.uuid4())))
        session.add(_entry(ghost, "grant", 7, 7))
        session.add(_entry(odd, "grant", 5, 6))
        await _add_to_balance(session, odd, 5)

    # Jobs, each broken in one way.
    open_hold = await _submit(db, jobs_user)
    settled_early = await _submit(db, jobs_user)
    mismatched, duplicated, undercharged, misbilled = [await _submit(db, jobs_user) for _ in range(4)]
    for job_id in (mismatched, duplicated, undercharged, misbilled):
        await _complete(db, job_id, 6)
    speech = await _submit(db, jobs_user, kind="tts")
    await _complete(db, speech, 2)
    charged_failed = await _submit(db, jobs_user)
    async with db.write() as session:
        await session.execute(update(Job).where(Job.id == open_hold).values(status="completed"))
        await ledger.settle(session, settled_early, 4)  # still queued
        await session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.idempotency_key == f"release:{mismatched}")
            .values(amount_seconds=5, delta_seconds=5)
        )
        await _add_to_balance(session, jobs_user, 1)
        session.add(_entry(jobs_user, "capture", 0, 0, job_id=duplicated, key=f"capture:{duplicated}:2"))
        session.add(_entry(jobs_user, "release", 0, 0, job_id=duplicated, key=f"release:{duplicated}:2"))
        await session.execute(
            update(TranscriptionJob).where(Job.id == undercharged).values(duration_seconds=8.5)
        )
        await session.execute(update(SpeechJob).where(Job.id == speech).values(audio_seconds=4.2))
        await session.execute(update(Job).where(Job.id == misbilled).values(billed_seconds=9))
        await ledger.settle(session, charged_failed, 3)
        await session.execute(
            update(Job).where(Job.id == charged_failed).values(status="failed", billed_seconds=0)
        )
        unheld = TranscriptionJob(user_id=jobs_user, object_key="uploads/x.wav", hold_seconds=10)
        session.add(unheld)

    report = await check_ledger(db, quantum=1)

    assert _found(report.violations) == {
        ("balance_mismatch", off),
        ("negative_balance", negative),
        ("missing_balance", ghost),
        ("malformed_entry", odd),
        ("open_hold", open_hold),
        ("settled_while_running", settled_early),
        ("settlement_mismatch", mismatched),
        ("duplicate_entries", duplicated),
        ("capture_below_processed", undercharged),
        ("capture_below_processed", speech),
        ("billed_mismatch", misbilled),
        ("charged_for_failed", charged_failed),
        ("missing_hold", unheld.id),
    }, "\n".join(map(str, report.violations))
    assert all(v.detail for v in report.violations)
    by_job = {v.job_id: v for v in report.violations if v.job_id}
    assert by_job[open_hold].account_id == jobs_user
    assert "8.5 s processed (9 s due)" in by_job[undercharged].detail

    # The reconciler's cheap part sees what concerns recently finished jobs and their accounts.
    quick = await quick_check(db)
    assert _found(quick.violations) == {("open_hold", open_hold), ("balance_mismatch", off)}


async def test_nagovori_ledger_check_exits_1_listing_the_ids(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    try:
        user_id = await _user(db)
        await _complete(db, await _submit(db, user_id), 4)
        clean = await _ledger_check(database_url, tmp_path)
        assert clean.returncode == 0, clean.stderr
        assert clean.stdout.strip() == "ledger OK (1 accounts, 1 jobs)"

        held = await _submit(db, user_id)
        async with db.write() as session:
            await session.execute(update(Job).where(Job.id == held).values(status="failed"))
            await _add_to_balance(session, user_id, 60)
    finally:
        await db.dispose()

    broken = await _ledger_check(database_url, tmp_path)

    assert broken.returncode == 1, broken.stderr
    lines = broken.stdout.strip().splitlines()
    assert lines[-1] == "ledger check FAILED: 2 violations (1 accounts, 2 jobs)"
    assert any(line.startswith(f"open_hold account={user_id} job={held}:") for line in lines)
    assert any(line.startswith(f"balance_mismatch account={user_id}:") for line in lines)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_admin_route_reports_to_admins_only(database_url: str, tmp_path: Path) -> None:
    async with live_api(api_settings(tmp_path, database_url), workers=False, is_admin=True) as api:
        _, plain_key = await api.new_user()
        status, answer = await api.call("GET", "/v1/admin/ledger/check", key=plain_key)
        assert status == 403 and answer["error"]["code"] == "forbidden", answer

        status, answer = await api.call("GET", "/v1/admin/ledger/check")
        assert status == 200, answer
        assert answer == {"ok": True, "checked_accounts": 2, "checked_jobs": 0, "violations": []}

        async with api.platform.db.write() as session:
            await _add_to_balance(session, api.user_id, -1)
        status, answer = await api.call("GET", "/v1/admin/ledger/check")
        assert status == 200 and answer["ok"] is False
        assert answer["violations"] == [
            {
                "kind": "balance_mismatch",
                "account_id": api.user_id,
                "job_id": None,
                "detail": "the balance is 599 s but its entries add up to 600 s",
            }
        ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_reconciler_logs_violations_at_error(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    platform = build_platform(Settings.load(data_dir=tmp_path / "data", database_url=database_url))
    try:
        user_id = await _user(platform.db)
        job_id = await _submit(platform.db, user_id)
        await audit_ledger(platform)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

        async with platform.db.write() as session:
            await session.execute(
                update(Job).where(Job.id == job_id).values(status="cancelled", completed_at=utcnow())
            )
        with caplog.at_level(logging.ERROR, logger="core.jobs.reconciler"):
            await audit_ledger(platform)
    finally:
        await platform.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [
        f"ledger invariant broken: open_hold account={user_id} job={job_id}: "
        "the job finished but its hold was never settled"
    ]


def _entry(
    account_id: str, kind: str, delta: int, amount: int, *, job_id: str | None = None, key: str | None = None
) -> LedgerEntry:
    return LedgerEntry(
        account_id=account_id,
        kind=kind,
        delta_seconds=delta,
        amount_seconds=amount,
        job_id=job_id,
        source="admin" if kind == "grant" else None,
        idempotency_key=key,
        created_at=utcnow(),
    )


async def _add_to_balance(session: AsyncSession, account_id: str, seconds: int) -> None:
    await session.execute(
        update(AccountBalance)
        .where(AccountBalance.account_id == account_id)
        .values(seconds=AccountBalance.seconds + seconds)
    )


async def _ledger_check(database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NAGOVORI_")}
    environment |= {"NAGOVORI_DATA_DIR": str(tmp_path / "data"), "NAGOVORI_DATABASE_URL": database_url}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "cli", "ledger", "check"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
