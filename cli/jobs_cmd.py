"""``jobs list``: jobs across every account, newest first, for finding trouble.

nagovori jobs list --status failed --limit 20
nagovori jobs list --user @ann_telegram --json
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from cli.database import on_database
from cli.output import print_json, print_table, shorten
from core.db.database import Database
from core.jobs.states import JobStatus
from core.services import job_listing, user_directory
from core.services.job_listing import JobListing
from core.settings import Settings

COLUMNS = (
    ("id", "id"),
    ("kind", "kind"),
    ("status", "status"),
    ("user", "user_id"),
    ("created", "created_at"),
    ("audio s", "audio_seconds"),
    ("billed s", "billed_seconds"),
    ("tries", "attempts"),
    ("error", "error"),
)
ERROR_WIDTH = 60


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs_parser = subparsers.add_parser("jobs", help="inspect jobs")
    jobs_sub = jobs_parser.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    listing = jobs_sub.add_parser("list", help="list jobs of every account, newest first")
    listing.add_argument("--status", choices=[s.value for s in JobStatus], help="only jobs in this state")
    listing.add_argument(
        "--kind", choices=job_listing.KINDS, help="only transcriptions (asr) or speech (tts)"
    )
    listing.add_argument(
        "--user", help="only this account's: an id, an e-mail, @telegram_username or a Telegram id"
    )
    listing.add_argument("--limit", type=int, default=50, metavar="N", help="at most N jobs (default: 50)")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(func=run_list, database=True, needs_schema=True)


def job_fields(job: JobListing) -> dict[str, Any]:
    """A job as the JSON output names it (the ``JobListing`` fields)."""
    return asdict(job)


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    async def read(db: Database) -> list[JobListing]:
        user_id = (await user_directory.find_user(db, args.user)).id if args.user else None
        return await job_listing.list_jobs(
            db, status=args.status, user_id=user_id, kind=args.kind, limit=args.limit
        )

    rows = [job_fields(job) for job in on_database(settings, read)]
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        message = f"{row['error_code']}: {row['error_message']}" if row["error_code"] else None
        row["error"] = shorten(message, ERROR_WIDTH)
    print_table(rows, COLUMNS, empty="no jobs")
    return 0
