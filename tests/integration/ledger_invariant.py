"""The ledger's invariants as a test's last word: after faults and races, the full audit
(``nagovori ledger check``) finds nothing wrong."""

from __future__ import annotations

from core.db.database import Database
from core.services.ledger_audit import LedgerReport, check_ledger


async def assert_ledger_consistent(target: Database | str, *, quantum: int = 1) -> LedgerReport:
    """Run the full ledger check on ``target`` (a Database or a database URL); fail listing the
    violations, if any. Returns the report (what was checked)."""
    db = Database(target) if isinstance(target, str) else target
    try:
        report = await check_ledger(db, quantum=quantum)
    finally:
        if isinstance(target, str):
            await db.dispose()
    assert report.ok, "the ledger does not add up:\n" + "\n".join(map(str, report.violations))
    return report
