"""Spent seconds per UTC day, channel and kind of work: what the dashboard's usage chart draws.

``billing.usage`` answers totals for a period; a chart needs them day by day, so this reads the
period's captures once (a few columns, one row per finished job) and buckets them here, the same
way on SQLite and PostgreSQL (their date functions differ).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from billing.tables import LedgerEntry
from core.db.base import utcnow
from core.db.database import Database

KINDS = ("asr", "tts")  # the ledger's usage kinds: transcription, speech


@dataclass(frozen=True)
class DailyUsage:
    """``days`` consecutive UTC days ending today; ``seconds[(day, channel, kind)]`` spent."""

    days: tuple[date, ...]
    seconds: dict[tuple[date, str, str], int] = field(default_factory=dict)

    def total(self, *, channel: str | None = None, kind: str | None = None) -> int:
        return sum(
            s
            for (_, c, k), s in self.seconds.items()
            if (channel is None or c == channel) and (kind is None or k == kind)
        )

    def on(self, day: date, *, channel: str | None = None, kind: str | None = None) -> int:
        return sum(
            s
            for (d, c, k), s in self.seconds.items()
            if d == day and (channel is None or c == channel) and (kind is None or k == kind)
        )

    def channels(self) -> list[str]:
        return sorted({c for (_, c, _) in self.seconds})


async def daily_usage(db: Database, user_id: str, *, days: int = 30, today: date | None = None) -> DailyUsage:
    """Captured (billed) seconds of the last ``days`` UTC days, today included."""
    last = today or utcnow().date()
    first = last - timedelta(days=days - 1)
    since = datetime.combine(first, time.min, tzinfo=UTC)
    until = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
    async with db.read() as session:
        rows = (
            await session.execute(
                select(
                    LedgerEntry.created_at,
                    LedgerEntry.channel,
                    LedgerEntry.usage_kind,
                    LedgerEntry.amount_seconds,
                ).where(
                    LedgerEntry.account_id == user_id,
                    LedgerEntry.kind == "capture",
                    LedgerEntry.created_at >= since,
                    LedgerEntry.created_at < until,
                )
            )
        ).all()
    seconds: dict[tuple[date, str, str], int] = {}
    for created_at, channel, kind, amount in rows:
        moment = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        key = (moment.astimezone(UTC).date(), channel or "other", kind or "other")
        seconds[key] = seconds.get(key, 0) + int(amount or 0)
    return DailyUsage(tuple(first + timedelta(days=i) for i in range(days)), seconds)
