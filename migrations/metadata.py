"""Every table the migrations manage: the core's (with the Telegram channel's) and the ledger's."""

from __future__ import annotations

from sqlalchemy import MetaData

import core.db.bot_tables  # noqa: F401  (registers the bot tables on the core's metadata)
from billing.tables import BillingBase
from core.db.models import Base

TARGET_METADATA: list[MetaData] = [Base.metadata, BillingBase.metadata]


def all_tables() -> list[str]:
    """Table names in dependency order (for tests that empty a database)."""
    return [t.name for metadata in TARGET_METADATA for t in metadata.sorted_tables]
