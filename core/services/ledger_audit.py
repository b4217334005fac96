"""The ledger audit: proof that the minute ledger adds up (``nagovori ledger check``).

The invariants, checked by us rather than trusted to every caller (TigerBeetle's habit):

* accounts: the balance row equals the sum of the account's ``delta_seconds``, is never
  negative, and exists for every account that has entries;
* entries: each kind moves the balance the way its kind says (a capture moves nothing);
* holds: a finished job holds nothing (its hold was settled: captured and released); a queued or
  processing job is not settled; a settled job's capture + release equals what it held (its
  ``hold`` plus its ``extend``s); a job has at most one hold, one capture and one release;
* charges: a completed job's capture covers the seconds it processed, rounded up to the billing
  quantum, and equals its ``billed_seconds``; a failed or cancelled job is charged nothing
  unless its row says seconds were billed;
* storage: each user's running storage total equals the sum over their uploads and TTS results
  (``core.services.quota.total_mismatches``).

``check_ledger`` reads everything in one snapshot (so a busy server gives no false alarms);
``quick_check`` is the bounded part the reconciler runs: open holds among recently finished jobs
and the balances of their accounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.pricing import round_up
from billing.tables import AccountBalance, LedgerEntry
from core.db.base import utcnow
from core.db.database import Database
from core.db.models import Job
from core.jobs.states import TERMINAL, JobStatus
from core.services.quota import total_mismatches

FINISHED = tuple(sorted(TERMINAL))
MAX_MALFORMED = 1000  # entries listed at most; one broken writer would otherwise flood the report


@dataclass(frozen=True)
class Violation:
    """One broken invariant: what kind, whose (account or job), and what is wrong."""

    kind: str
    detail: str
    account_id: str | None = None
    job_id: str | None = None

    def __str__(self) -> str:
        who = " ".join(
            f"{name}={value}" for name, value in (("account", self.account_id), ("job", self.job_id)) if value
        )
        return f"{self.kind} {who}: {self.detail}"


@dataclass
class LedgerReport:
    checked_accounts: int = 0
    checked_jobs: int = 0
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


async def check_ledger(db: Database, *, quantum: int) -> LedgerReport:
    """Every invariant over every account, entry and job (a full scan: for operators and tests)."""
    report = LedgerReport()
    async with db.read() as session:
        if session.get_bind().dialect.name == "postgresql":  # SQLite's read transaction is one already
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        await _check_accounts(session, report)
        await _check_entries(session, report)
        await _check_jobs(session, report, quantum)
        for mismatch in await total_mismatches(session):
            report.violations.append(
                Violation(
                    "storage_total",
                    f"recorded (bytes, objects) {mismatch.recorded}, counted {mismatch.counted}",
                    account_id=mismatch.user_id,
                )
            )
    return report


async def quick_check(
    db: Database, *, window: timedelta = timedelta(days=1), limit: int = 200
) -> LedgerReport:
    """Open holds among the ``limit`` newest jobs finished in the last ``window``, and whether
    their accounts' balances equal their entries: a few indexed queries, for every few passes."""
    report = LedgerReport()
    async with db.read() as session:
        recent = (
            await session.execute(
                select(Job.id, Job.user_id)
                .where(Job.status.in_(FINISHED), Job.created_at >= utcnow() - window)
                .order_by(Job.created_at.desc())
                .limit(limit)
            )
        ).all()
        if not recent:
            return report
        entries = (
            await session.execute(
                select(LedgerEntry.job_id, LedgerEntry.kind).where(
                    LedgerEntry.job_id.in_([row.id for row in recent]),
                    LedgerEntry.kind.in_(("hold", "capture", "release")),
                )
            )
        ).all()
        held = {job_id for job_id, kind in entries if kind == "hold"}
        settled = {job_id for job_id, kind in entries if kind != "hold"}
        report.checked_jobs = len(recent)
        for row in recent:
            if row.id in held and row.id not in settled:
                report.violations.append(_open_hold(row.id, row.user_id))
        await _check_accounts(session, report, only=sorted({row.user_id for row in recent}))
    return report


# Accounts and entries: SQL finds the offenders, so only they come back.


async def _check_accounts(
    session: AsyncSession, report: LedgerReport, *, only: list[str] | None = None
) -> None:
    total = (
        select(func.coalesce(func.sum(LedgerEntry.delta_seconds), 0))
        .where(LedgerEntry.account_id == AccountBalance.account_id)
        .scalar_subquery()
    )
    counted = select(func.count()).select_from(AccountBalance)
    offenders = select(AccountBalance.account_id, AccountBalance.seconds, total).where(
        or_(AccountBalance.seconds != total, AccountBalance.seconds < 0)
    )
    unbalanced = (
        select(LedgerEntry.account_id, func.sum(LedgerEntry.delta_seconds))
        .where(~exists().where(AccountBalance.account_id == LedgerEntry.account_id))
        .group_by(LedgerEntry.account_id)
    )
    if only is not None:
        counted = counted.where(AccountBalance.account_id.in_(only))
        offenders = offenders.where(AccountBalance.account_id.in_(only))
        unbalanced = unbalanced.where(LedgerEntry.account_id.in_(only))
    report.checked_accounts += int(await session.scalar(counted) or 0)
    for account_id, seconds, entries in (await session.execute(offenders)).all():
        if seconds != entries:
            detail = f"the balance is {seconds} s but its entries add up to {entries} s"
            report.violations.append(Violation("balance_mismatch", detail, account_id=account_id))
        if seconds < 0:
            detail = f"the balance is {seconds} s"
            report.violations.append(Violation("negative_balance", detail, account_id=account_id))
    for account_id, entries in (await session.execute(unbalanced)).all():
        report.checked_accounts += 1
        detail = f"no balance row, but its entries add up to {entries} s"
        report.violations.append(Violation("missing_balance", detail, account_id=account_id))


def _moves_as_its_kind_says() -> Any:
    e = LedgerEntry
    positive, on_job = e.amount_seconds > 0, e.job_id.is_not(None)
    return or_(
        and_(e.kind == "grant", e.delta_seconds == e.amount_seconds, positive),
        and_(e.kind.in_(("hold", "extend")), e.delta_seconds == -e.amount_seconds, positive, on_job),
        and_(e.kind == "capture", e.delta_seconds == 0, e.amount_seconds >= 0, on_job),
        and_(e.kind == "release", e.delta_seconds == e.amount_seconds, e.amount_seconds >= 0, on_job),
    )


async def _check_entries(session: AsyncSession, report: LedgerReport) -> None:
    e = LedgerEntry
    malformed = (
        await session.execute(
            select(e.id, e.account_id, e.job_id, e.kind, e.delta_seconds, e.amount_seconds)
            .where(not_(_moves_as_its_kind_says()))
            .order_by(e.id)
            .limit(MAX_MALFORMED)
        )
    ).all()
    for row in malformed:
        detail = (
            f"entry {row.id} ({row.kind}) has delta {row.delta_seconds} s for amount {row.amount_seconds} s"
        )
        if row.kind in ("hold", "extend", "capture", "release") and row.job_id is None:
            detail += " and names no job"
        report.violations.append(
            Violation("malformed_entry", detail, account_id=row.account_id, job_id=row.job_id)
        )


# Jobs: a few rules per job over its entries' totals, evaluated as the rows stream by.


@dataclass(frozen=True)
class _Entries:
    """What the ledger says about one job."""

    held: int = 0  # hold + extends
    holds: int = 0
    captures: int = 0
    captured: int = 0
    releases: int = 0
    released: int = 0

    @property
    def settled(self) -> bool:
        return bool(self.captures or self.releases)


TOTALS = ("held", "holds", "captures", "captured", "releases", "released")


def _entries(row: Any) -> _Entries:
    """The per-job totals of a result row (NULL where the job has no entries)."""
    return _Entries(**{name: int(row._mapping[name] or 0) for name in TOTALS})


def _per_job() -> Any:
    e = LedgerEntry

    def count(kind: str) -> Any:
        return func.sum(case((e.kind == kind, 1), else_=0))

    def amount(*kinds: str) -> Any:
        return func.sum(case((e.kind.in_(kinds), e.amount_seconds), else_=0))

    return (
        select(
            e.job_id.label("job_id"),
            amount("hold", "extend").label("held"),
            count("hold").label("holds"),
            count("capture").label("captures"),
            amount("capture").label("captured"),
            count("release").label("releases"),
            amount("release").label("released"),
        )
        .where(e.job_id.is_not(None))
        .group_by(e.job_id)
        .subquery()
    )


async def _check_jobs(session: AsyncSession, report: LedgerReport, quantum: int) -> None:
    per_job = _per_job()
    jobs = Job.__table__
    totals = [per_job.c[name] for name in TOTALS]
    with_rows: Select[Any] = select(
        jobs.c.id,
        jobs.c.user_id,
        jobs.c.kind,
        jobs.c.status,
        jobs.c.hold_seconds,
        jobs.c.billed_seconds,
        jobs.c.duration_seconds,
        jobs.c.audio_seconds,
        *totals,
    ).select_from(jobs.outerjoin(per_job, per_job.c.job_id == jobs.c.id))
    async for row in await session.stream(with_rows.execution_options(yield_per=500)):
        report.checked_jobs += 1
        report.violations.extend(_job_violations(row, _entries(row), quantum))
    # Entries naming a job the jobs table does not have (a direct ledger user, or a deleted job).
    rowless = select(per_job.c.job_id, *totals).where(~exists().where(jobs.c.id == per_job.c.job_id))
    for row in (await session.execute(rowless)).all():
        report.checked_jobs += 1
        report.violations.extend(_entry_violations(row.job_id, None, _entries(row)))


def _job_violations(job: Any, entries: _Entries, quantum: int) -> Iterator[Violation]:
    yield from _entry_violations(job.id, job.user_id, entries)
    if job.hold_seconds > 0 and not entries.holds:
        yield Violation(
            "missing_hold",
            f"the job holds {job.hold_seconds} s but the ledger has no hold for it",
            job.user_id,
            job.id,
        )
    if job.status not in FINISHED:
        if entries.settled:
            detail = f"the job is {job.status} but its hold was settled"
            yield Violation("settled_while_running", detail, job.user_id, job.id)
        return
    if entries.holds and not entries.settled:
        yield _open_hold(job.id, job.user_id)  # what it charged is unknown until it settles
        return
    captured, billed = entries.captured, job.billed_seconds or 0
    if job.status == JobStatus.COMPLETED:
        processed = (job.duration_seconds if job.kind == "asr" else job.audio_seconds) or 0.0
        due = round_up(processed, quantum)
        if captured < due:
            detail = f"captured {captured} s for {processed:g} s processed ({due} s due)"
            yield Violation("capture_below_processed", detail, job.user_id, job.id)
    elif captured and not billed:
        detail = f"a {job.status} job captured {captured} s (its billed_seconds is {billed})"
        yield Violation("charged_for_failed", detail, job.user_id, job.id)
        return
    if captured != billed:
        detail = f"billed_seconds is {billed} but the capture is {captured} s"
        yield Violation("billed_mismatch", detail, job.user_id, job.id)


def _entry_violations(job_id: str, account_id: str | None, entries: _Entries) -> Iterator[Violation]:
    if max(entries.holds, entries.captures, entries.releases) > 1:
        detail = f"{entries.holds} holds, {entries.captures} captures, {entries.releases} releases (one each at most)"
        yield Violation("duplicate_entries", detail, account_id, job_id)
    if entries.settled and not entries.holds:
        yield Violation("missing_hold", "the job was settled but never held", account_id, job_id)
    if entries.settled and (
        entries.captures != entries.releases or entries.captured + entries.released != entries.held
    ):
        detail = (
            f"captured {entries.captured} s + released {entries.released} s "
            f"but it held {entries.held} s (hold and extensions)"
        )
        yield Violation("settlement_mismatch", detail, account_id, job_id)


def _open_hold(job_id: str, account_id: str) -> Violation:
    return Violation("open_hold", "the job finished but its hold was never settled", account_id, job_id)
