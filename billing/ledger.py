"""The minute ledger: grants, holds, extensions, captures and releases, in whole seconds.

Every function works inside the caller's transaction (an ``AsyncSession`` in ``begin()``), so a
hold commits or rolls back together with the job row it pays for. A hold is an estimate: while a
job runs it can be extended (the audio turned out longer than its header said), always by the
same conditional update, so the balance never goes below zero. Settling a job (capture + release)
and releasing it are idempotent per job, keyed by unique ``idempotency_key`` values, so a
redelivered message never charges twice.

Every change to a balance row is noted in the session (``balances_changed``), so that whoever
commits the session can announce it afterwards (the per-process balance caches,
``core.services.balance_cache``) without any caller having to remember to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from billing.errors import InsufficientMinutes, UnknownHold
from billing.tables import AccountBalance, LedgerEntry

BALANCES_CHANGED = "billing.balances_changed"
"""The key of ``session.info`` under which the accounts whose balance the session changed are kept."""


def _now() -> datetime:
    return datetime.now(UTC)


def balances_changed(info: Mapping[str, Any]) -> frozenset[str]:
    """The accounts whose balance a session (its ``info``) changed."""
    return frozenset(info.get(BALANCES_CHANGED, ()))


def _changed(session: AsyncSession, account_id: str) -> None:
    session.info.setdefault(BALANCES_CHANGED, set()).add(account_id)


@dataclass(frozen=True)
class Settlement:
    """What settling a job did: seconds charged and seconds handed back."""

    captured: int
    released: int
    already_settled: bool = False


async def balance(session: AsyncSession, account_id: str) -> int:
    """Seconds the account can spend now (held seconds are already subtracted)."""
    value = await session.scalar(
        select(AccountBalance.seconds).where(AccountBalance.account_id == account_id)
    )
    return int(value or 0)


async def grant(
    session: AsyncSession,
    account_id: str,
    seconds: int,
    *,
    source: str,
    reason: str | None = None,
    idempotency_key: str | None = None,
    channel: str | None = None,
) -> bool:
    """Add seconds to the account. Returns False when ``idempotency_key`` was granted already."""
    if seconds <= 0:
        raise ValueError("a grant adds a positive number of seconds")
    if idempotency_key is not None and await _entry_exists(session, idempotency_key):
        return False
    await _add_to_balance(session, account_id, seconds)
    session.add(
        LedgerEntry(
            account_id=account_id,
            kind="grant",
            delta_seconds=seconds,
            amount_seconds=seconds,
            source=source,
            reason=reason,
            idempotency_key=idempotency_key,
            channel=channel,
            created_at=_now(),
        )
    )
    await session.flush()
    return True


async def grant_by_key(session: AsyncSession, idempotency_key: str) -> LedgerEntry | None:
    """The grant recorded under ``idempotency_key``, if any (to tell a replay from a clash)."""
    entry: LedgerEntry | None = await session.scalar(
        select(LedgerEntry).where(LedgerEntry.idempotency_key == idempotency_key, LedgerEntry.kind == "grant")
    )
    return entry


async def hold(
    session: AsyncSession, account_id: str, seconds: int, *, job_id: str, channel: str, usage_kind: str
) -> None:
    """Reserve ``seconds`` for a job, or raise InsufficientMinutes; the balance never goes negative."""
    if seconds <= 0:
        raise ValueError("a hold reserves a positive number of seconds")
    result = await session.execute(
        update(AccountBalance)
        .where(AccountBalance.account_id == account_id, AccountBalance.seconds >= seconds)
        .values(seconds=AccountBalance.seconds - seconds)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InsufficientMinutes(
            required_seconds=seconds, available_seconds=await balance(session, account_id)
        )
    _changed(session, account_id)
    session.add(
        LedgerEntry(
            account_id=account_id,
            kind="hold",
            delta_seconds=-seconds,
            amount_seconds=seconds,
            job_id=job_id,
            channel=channel,
            usage_kind=usage_kind,
            idempotency_key=f"hold:{job_id}",
            created_at=_now(),
        )
    )
    await session.flush()


async def extend(session: AsyncSession, job_id: str, seconds: int, *, quantum: int = 1) -> int:
    """Move up to ``seconds`` more from the balance into a running job's hold; returns the seconds
    moved. When the balance holds less, it takes what there is in whole ``quantum`` steps (0 when
    not even one step is left), so the caller can stop exactly where the money ends. A settled
    job cannot be extended (0)."""
    if seconds <= 0:
        raise ValueError("an extension reserves a positive number of seconds")
    held = await _hold_entry(session, job_id)
    await _lock_account(session, held.account_id)
    if await _settlement_of(session, job_id) is not None:
        return 0
    available = await balance(session, held.account_id)
    amount = min(seconds, available - available % quantum)
    if amount <= 0:
        return 0
    result = await session.execute(
        update(AccountBalance)
        .where(AccountBalance.account_id == held.account_id, AccountBalance.seconds >= amount)
        .values(seconds=AccountBalance.seconds - amount)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return 0
    _changed(session, held.account_id)
    count = await session.scalar(
        select(func.count())
        .select_from(LedgerEntry)
        .where(LedgerEntry.job_id == job_id, LedgerEntry.kind == "extend")
    )
    session.add(
        LedgerEntry(
            account_id=held.account_id,
            kind="extend",
            delta_seconds=-amount,
            amount_seconds=amount,
            job_id=job_id,
            channel=held.channel,
            usage_kind=held.usage_kind,
            idempotency_key=f"extend:{job_id}:{int(count or 0) + 1}",
            created_at=_now(),
        )
    )
    await session.flush()
    return amount


async def settle(session: AsyncSession, job_id: str, charged_seconds: int) -> Settlement:
    """Charge ``charged_seconds`` for a job and release the rest of its hold. Idempotent.

    The charge is what was processed, not the estimate: when it exceeds the hold (a worker that
    measured more than it extended for), the difference is taken from the balance as far as it
    goes; only what the balance cannot cover is forgiven."""
    held = await _hold_entry(session, job_id)
    await _lock_account(session, held.account_id)
    done = await _settlement_of(session, job_id)
    if done is not None:
        return done
    total = await _held_total(session, job_id)
    if charged_seconds > total:
        total += await extend(session, job_id, charged_seconds - total)
    captured = max(0, min(charged_seconds, total))
    released = total - captured
    common = {
        "account_id": held.account_id,
        "job_id": job_id,
        "channel": held.channel,
        "usage_kind": held.usage_kind,
        "created_at": _now(),
    }
    session.add(
        LedgerEntry(
            kind="capture",
            delta_seconds=0,
            amount_seconds=captured,
            idempotency_key=f"capture:{job_id}",
            **common,
        )
    )
    session.add(
        LedgerEntry(
            kind="release",
            delta_seconds=released,
            amount_seconds=released,
            idempotency_key=f"release:{job_id}",
            **common,
        )
    )
    if released:
        await _add_to_balance(session, held.account_id, released)
    await session.flush()
    return Settlement(captured=captured, released=released)


async def release(session: AsyncSession, job_id: str) -> Settlement:
    """Give back a job's whole hold (failed or cancelled). Idempotent; a no-op after settle."""
    return await settle(session, job_id, 0)


async def held_seconds(session: AsyncSession, job_id: str) -> int:
    """Seconds still reserved for a job (0 once settled or released, or when it never held)."""
    entry = await session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == f"hold:{job_id}"))
    if entry is None or await _settlement_of(session, job_id) is not None:
        return 0
    return await _held_total(session, job_id)


async def _held_total(session: AsyncSession, job_id: str) -> int:
    """The job's hold plus its extensions."""
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_seconds), 0)).where(
            LedgerEntry.job_id == job_id, LedgerEntry.kind.in_(("hold", "extend"))
        )
    )
    return int(total or 0)


async def _hold_entry(session: AsyncSession, job_id: str) -> LedgerEntry:
    entry = await session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == f"hold:{job_id}"))
    if entry is None:
        raise UnknownHold(f"job {job_id} holds no minutes", job_id=job_id)
    return entry


async def _settlement_of(session: AsyncSession, job_id: str) -> Settlement | None:
    rows = (
        await session.execute(
            select(LedgerEntry.kind, LedgerEntry.amount_seconds).where(
                LedgerEntry.idempotency_key.in_([f"capture:{job_id}", f"release:{job_id}"])
            )
        )
    ).all()
    if not rows:
        return None
    amounts = dict(rows)
    return Settlement(amounts.get("capture", 0), amounts.get("release", 0), already_settled=True)


async def _entry_exists(session: AsyncSession, idempotency_key: str) -> bool:
    found = await session.scalar(select(LedgerEntry.id).where(LedgerEntry.idempotency_key == idempotency_key))
    return found is not None


async def _lock_account(session: AsyncSession, account_id: str) -> None:
    """Serialize ledger changes per account (a row lock on PostgreSQL; SQLite writers are serial)."""
    await session.execute(
        select(AccountBalance.seconds).where(AccountBalance.account_id == account_id).with_for_update()
    )


async def _add_to_balance(session: AsyncSession, account_id: str, seconds: int) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(AccountBalance).values(account_id=account_id, seconds=seconds)
    stmt = stmt.on_conflict_do_update(
        index_elements=[AccountBalance.account_id],
        set_={"seconds": AccountBalance.seconds + stmt.excluded.seconds},
    )
    await session.execute(stmt)
    _changed(session, account_id)
