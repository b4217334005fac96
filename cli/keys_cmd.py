"""``keys list`` and ``keys revoke``: an account's API keys (never their secrets, which are not kept).

nagovori keys list --user ann@example.org
nagovori keys revoke <KEY_ID>        # refused at once by every API process that hears of it
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from cli.database import on_database
from cli.output import print_json, print_table
from core.db.database import Database
from core.db.models import ApiKey
from core.services import api_keys, user_directory
from core.settings import Settings

KEY_COLUMNS = (
    ("key", "id"),
    ("name", "name"),
    ("prefix", "prefix"),
    ("created", "created_at"),
    ("last used", "last_used_at"),
    ("revoked", "revoked_at"),
)


def register(keys_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = keys_sub.add_parser("list", help="list an account's API keys, newest first")
    listing.add_argument(
        "--user", required=True, help="an account id, an e-mail, @telegram_username or a Telegram id"
    )
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(func=run_list, database=True, needs_schema=True)

    revoke = keys_sub.add_parser("revoke", help="revoke an API key (any account's) at once")
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key's id (from `keys list`)")
    revoke.add_argument("--json", action="store_true", help="print the revoked key as one JSON object")
    revoke.set_defaults(func=run_revoke, database=True, needs_schema=True)


def key_fields(key: ApiKey) -> dict[str, Any]:
    """A key as the JSON output names it: ``prefix`` is the secret's first characters, enough to
    tell keys apart, never enough to use one."""
    return {
        "id": key.id,
        "user_id": key.user_id,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
        "active": key.revoked_at is None,
    }


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    async def read(db: Database) -> list[ApiKey]:
        user = await user_directory.find_user(db, args.user)
        return await api_keys.list_keys(db, user.id)

    rows = [key_fields(key) for key in on_database(settings, read)]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, KEY_COLUMNS, empty=f"{args.user} has no API keys")
    return 0


def run_revoke(args: argparse.Namespace, settings: Settings) -> int:
    key = asyncio.run(_revoke(settings, args.key_id))
    if args.json:
        print_json(key_fields(key))
    else:
        print(f"API key '{key.name}' ({key.id}, {key.prefix}…) of user {key.user_id} is revoked")
    return 0


async def _revoke(settings: Settings, key_id: str) -> ApiKey:
    """Through the platform: the revocation is announced on its event bus (Redis in distributed
    mode), so every API process drops the key from its authentication cache at once."""
    from cli.bootstrap import build_platform

    platform = build_platform(settings)
    try:
        return await api_keys.revoke_any_key(platform, key_id)
    finally:
        await platform.close()
