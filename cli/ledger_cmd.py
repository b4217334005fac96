"""``ledger check``: prove that the minute ledger adds up; exit 1 listing what does not."""

from __future__ import annotations

import argparse
import asyncio

from core.db.database import Database
from core.services.ledger_audit import LedgerReport, check_ledger
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ledger_parser = subparsers.add_parser("ledger", help="inspect the minute ledger")
    ledger_sub = ledger_parser.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    check = ledger_sub.add_parser(
        "check",
        help="check every balance, hold and charge (exit 1 listing the offending accounts and jobs)",
    )
    check.set_defaults(func=run_ledger_check, database=True, needs_schema=True)


def run_ledger_check(args: argparse.Namespace, settings: Settings) -> int:
    async def check() -> LedgerReport:
        db = Database(settings.effective_database_url)
        try:
            return await check_ledger(db, quantum=settings.billing_quantum_seconds)
        finally:
            await db.dispose()

    report = asyncio.run(check())
    checked = f"{report.checked_accounts} accounts, {report.checked_jobs} jobs"
    if report.ok:
        print(f"ledger OK ({checked})")
        return 0
    for violation in report.violations:
        print(violation)
    print(f"ledger check FAILED: {len(report.violations)} violations ({checked})")
    return 1
