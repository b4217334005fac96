"""``users list`` and ``users show``: accounts as an operator looks them up.

nagovori users list --search ann --limit 20      # a table, newest first
nagovori users show @ann_telegram --json          # one JSON object: the account, balance, keys, jobs
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from cli.database import on_database
from cli.keys_cmd import KEY_COLUMNS, key_fields
from cli.output import minutes, print_fields, print_json, print_table
from core.db.database import Database
from core.db.models import ApiKey, User
from core.services import accounts, api_keys, job_listing, user_directory
from core.services.accounts import UsageReport
from core.settings import Settings

USER_REFERENCE = "an account id, an e-mail, @telegram_username or a numeric Telegram id"
LIST_COLUMNS = (
    ("id", "id"),
    ("created", "created_at"),
    ("email", "email"),
    ("telegram", "telegram"),
    ("name", "name"),
    ("admin", "is_admin"),
    ("minutes", "minutes"),
)
SHOW_FIELDS = (
    "id",
    "created_at",
    "name",
    "email",
    "telegram_id",
    "telegram_username",
    "is_admin",
    "minutes",
    "held_minutes",
    "used_minutes",
    "granted_minutes",
    "jobs",
)


def register(users_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = users_sub.add_parser("list", help="list accounts, newest first")
    listing.add_argument("--search", metavar="TEXT", help="id, name, e-mail or Telegram name containing TEXT")
    listing.add_argument(
        "--limit", type=int, default=50, metavar="N", help="at most N accounts (default: 50)"
    )
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(func=run_list, database=True, needs_schema=True)

    show = users_sub.add_parser("show", help="one account: balance, usage, keys and jobs")
    show.add_argument("user", metavar="USER", help=USER_REFERENCE)
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(func=run_show, database=True, needs_schema=True)


def user_fields(user: User, balance_seconds: int) -> dict[str, Any]:
    """An account as the JSON output names it."""
    return {
        "id": user.id,
        "created_at": user.created_at,
        "name": user.name,
        "email": user.email,
        "telegram_id": user.telegram_id,
        "telegram_username": user_directory.telegram_username(user),
        "is_admin": user.is_admin,
        "balance_seconds": balance_seconds,
    }


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    async def search(db: Database) -> list[user_directory.UserListing]:
        return await user_directory.search_users(db, args.search, limit=args.limit)

    rows = [user_fields(r.user, r.balance_seconds) for r in on_database(settings, search)]
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        row["telegram"] = _telegram(row)
        row["minutes"] = minutes(row["balance_seconds"])
    print_table(rows, LIST_COLUMNS, empty="no users" + (f" matching {args.search!r}" if args.search else ""))
    return 0


@dataclass(frozen=True)
class _Account:
    user: User
    usage: UsageReport
    keys: list[ApiKey]
    jobs: dict[str, int]


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    async def read(db: Database) -> _Account:
        user = await user_directory.find_user(db, args.user)
        return _Account(
            user,
            await accounts.usage(db, user.id),
            await api_keys.list_keys(db, user.id),
            await job_listing.job_counts(db, user.id),
        )

    account = on_database(settings, read)
    usage = account.usage
    document = user_fields(account.user, usage.remaining_seconds) | {
        "held_seconds": usage.held_seconds,
        "used_seconds": usage.used_seconds,
        "granted_seconds": usage.granted_seconds,
        "preferences": {
            "ui_language": account.user.ui_language,
            "asr_language": account.user.asr_language,
            "voice": account.user.voice,
            "reply_mode": account.user.reply_mode,
        },
        "profile": account.user.profile or {},
        "jobs": account.jobs,
        "api_keys": [key_fields(key) for key in account.keys],
    }
    if args.json:
        print_json(document)
        return 0
    shown = document | {
        "minutes": minutes(usage.remaining_seconds),
        "held_minutes": minutes(usage.held_seconds),
        "used_minutes": minutes(usage.used_seconds),
        "granted_minutes": minutes(usage.granted_seconds),
        "jobs": ", ".join(f"{count} {status}" for status, count in sorted(account.jobs.items())) or None,
    }
    print_fields(shown, SHOW_FIELDS)
    print()
    print_table([key_fields(key) for key in account.keys], KEY_COLUMNS, empty="no API keys")
    return 0


def _telegram(row: dict[str, Any]) -> str | None:
    if row["telegram_username"]:
        return "@" + row["telegram_username"]
    return None if row["telegram_id"] is None else str(row["telegram_id"])
