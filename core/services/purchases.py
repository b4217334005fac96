"""Minute packages sold for Telegram Stars, and crediting a payment once per Telegram charge id."""

from __future__ import annotations

from dataclasses import dataclass

from billing import ledger
from billing.pricing import PACKAGES, Package, find_package
from core.db.database import Database
from core.db.models import User

STARS = "XTR"  # Telegram Stars, the currency of every package

__all__ = ["PACKAGES", "STARS", "Credit", "Package", "credit_stars_payment", "find_package"]


@dataclass(frozen=True)
class Credit:
    """What crediting a payment did."""

    account_id: str  # the account the minutes went to
    balance_seconds: int  # its balance afterwards
    credited: bool  # False: this charge was credited before (Telegram repeated the update)


async def credit_stars_payment(
    db: Database, charge_id: str, package: Package, *, stars: int, account_id: str | None, payer_id: str
) -> Credit:
    """Credit ``package`` to ``account_id`` (the account the invoice named; the payer's when that one
    no longer exists), keyed by Telegram's ``charge_id`` so that a repeat credits nothing."""
    async with db.write() as session:
        target = await session.get(User, account_id) if account_id else None
        credited_to = target.id if target is not None else payer_id
        credited = await ledger.grant(
            session,
            credited_to,
            package.seconds,
            source="purchase",
            reason=f"{package.minutes} min for {stars} {STARS}",
            idempotency_key=f"payment:{charge_id}",
            channel="telegram",
        )
        balance = await ledger.balance(session, credited_to)
    return Credit(credited_to, balance, credited)
