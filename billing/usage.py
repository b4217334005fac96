"""Usage reports: what an account spent in a period, by channel and by kind of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.ledger import balance
from billing.tables import LedgerEntry


@dataclass(frozen=True)
class EntryView:
    """One ledger entry as a report shows it."""

    kind: str
    seconds: int
    channel: str | None
    usage_kind: str | None
    job_id: str | None
    reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class UsageReport:
    """Spent seconds in ``[since, until)`` and the balance now."""

    since: datetime
    until: datetime
    remaining_seconds: int
    held_seconds: int
    used_seconds: int
    granted_seconds: int
    by_channel: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    recent: list[EntryView] = field(default_factory=list)


async def usage_report(
    session: AsyncSession, account_id: str, *, since: datetime, until: datetime, recent: int = 20
) -> UsageReport:
    """Captured seconds grouped by channel and by kind, grants, holds open now, recent entries."""
    in_period = (
        LedgerEntry.account_id == account_id,
        LedgerEntry.created_at >= since,
        LedgerEntry.created_at < until,
    )
    captured = (
        await session.execute(
            select(LedgerEntry.channel, LedgerEntry.usage_kind, func.sum(LedgerEntry.amount_seconds))
            .where(*in_period, LedgerEntry.kind == "capture")
            .group_by(LedgerEntry.channel, LedgerEntry.usage_kind)
        )
    ).all()
    by_channel: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    for channel, kind, seconds in captured:
        by_channel[channel or "unknown"] = by_channel.get(channel or "unknown", 0) + int(seconds)
        by_kind[kind or "unknown"] = by_kind.get(kind or "unknown", 0) + int(seconds)
    granted = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_seconds), 0)).where(
            *in_period, LedgerEntry.kind == "grant"
        )
    )
    open_holds = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.delta_seconds), 0)).where(
            LedgerEntry.account_id == account_id, LedgerEntry.kind.in_(("hold", "extend", "release"))
        )
    )
    # Holds are negative and releases give back the uncaptured part, so the open remainder is
    # -(holds + releases) minus what captures consumed.
    consumed = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_seconds), 0)).where(
            LedgerEntry.account_id == account_id, LedgerEntry.kind == "capture"
        )
    )
    rows = (
        await session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.account_id == account_id)
            .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
            .limit(recent)
        )
    ).all()
    return UsageReport(
        since=since,
        until=until,
        remaining_seconds=await balance(session, account_id),
        held_seconds=max(0, -int(open_holds or 0) - int(consumed or 0)),
        used_seconds=sum(by_kind.values()),
        granted_seconds=int(granted or 0),
        by_channel=by_channel,
        by_kind=by_kind,
        recent=[
            EntryView(e.kind, e.amount_seconds, e.channel, e.usage_kind, e.job_id, e.reason, e.created_at)
            for e in rows
        ],
    )


async def ledger_sum(session: AsyncSession, account_id: str) -> int:
    """The balance recomputed from the entries alone (the cache in account_balances must equal it)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.delta_seconds), 0)).where(
            LedgerEntry.account_id == account_id
        )
    )
    return int(total or 0)
