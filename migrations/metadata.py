"""Every table the migrations manage: the core's (with the Telegram channel's) and the ledger's."""

from __future__ import annotations

from sqlalchemy import MetaData

# Imported for their side effect: each registers its tables on the core's metadata.
import core.db.bot_tables
import core.db.signin_link_tables
import core.db.storage_tables
import core.db.web_tables
import core.db.webhook_tables  # noqa: F401  (ruff sees one binding of `core` for them all)
from billing.tables import BillingBase
from core.db.models import Base

TARGET_METADATA: list[MetaData] = [Base.metadata, BillingBase.metadata]


def all_tables() -> list[str]:
    """Table names in dependency order (for tests that empty a database)."""
    return [t.name for metadata in TARGET_METADATA for t in metadata.sorted_tables]
