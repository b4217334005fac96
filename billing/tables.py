"""The ledger's tables: an append-only list of entries and a per-account running balance.

``ledger_entries`` is the truth (balance = sum of ``delta_seconds``). ``account_balances`` is the
same sum kept up to date in the same transaction; its conditional ``UPDATE … WHERE seconds >= n``
is what makes a hold atomic on SQLite and PostgreSQL alike, without reading before writing.
``account_id`` is the core's user id; billing keeps no foreign key so it stays independent.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
}


class _UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class BillingBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class LedgerEntry(BillingBase):
    """One movement of seconds.

    kind      delta_seconds      amount_seconds
    grant     +granted           granted
    hold      -held              held
    capture   0 (hold → spent)   charged
    release   +returned          returned
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_account_created", "account_id", "created_at"),
        Index("ix_ledger_job", "job_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(8))
    delta_seconds: Mapped[int] = mapped_column(BigInteger)
    amount_seconds: Mapped[int] = mapped_column(BigInteger)
    job_id: Mapped[str | None] = mapped_column(String(36))
    channel: Mapped[str | None] = mapped_column(String(16))  # telegram | api | web | cli | admin
    usage_kind: Mapped[str | None] = mapped_column(String(8))  # asr | tts
    source: Mapped[str | None] = mapped_column(String(16))  # grants: free | purchase | admin | refund
    reason: Mapped[str | None] = mapped_column(String(255))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(_UtcDateTime)


class AccountBalance(BillingBase):
    """The running sum of an account's entries."""

    __tablename__ = "account_balances"

    account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seconds: Mapped[int] = mapped_column(BigInteger, default=0)
