"""``users create``, ``keys create``, ``minutes grant``: account administration from the shell
(``users list|show`` and ``keys list|revoke`` live in ``users_cmd`` and ``keys_cmd``)."""

from __future__ import annotations

import argparse
import asyncio

from cli import keys_cmd, users_cmd
from core.db.database import Database
from core.services import api_keys, user_directory, users
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users_parser = subparsers.add_parser("users", help="manage users")
    users_sub = users_parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    create = users_sub.add_parser("create", help="create a user (prints its id last)")
    create.add_argument("--minutes", type=float, default=0, help="starting balance in minutes (exact)")
    create.add_argument("--admin", action="store_true", help="make the user an administrator")
    create.add_argument("--telegram-id", type=int, help="link a Telegram account")
    create.add_argument("--email")
    create.add_argument("--name")
    create.set_defaults(func=run_users_create, database=True, needs_schema=True)
    users_cmd.register(users_sub)

    keys_parser = subparsers.add_parser("keys", help="manage API keys")
    keys_sub = keys_parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    key_create = keys_sub.add_parser("create", help="create an API key (prints the key alone, last)")
    key_create.add_argument("--user", required=True, help=users_cmd.USER_REFERENCE)
    key_create.add_argument("--name", default="default")
    key_create.set_defaults(func=run_keys_create, database=True, needs_schema=True)
    keys_cmd.register(keys_sub)

    minutes_parser = subparsers.add_parser("minutes", help="manage minute balances")
    minutes_sub = minutes_parser.add_subparsers(dest="minutes_command", required=True, metavar="ACTION")
    grant = minutes_sub.add_parser("grant", help="add minutes to a user's balance")
    grant.add_argument("--user", required=True, help=users_cmd.USER_REFERENCE)
    grant.add_argument("--minutes", type=float, required=True)
    grant.add_argument("--reason", default="admin grant")
    grant.set_defaults(func=run_minutes_grant, database=True, needs_schema=True)


def run_users_create(args: argparse.Namespace, settings: Settings) -> int:
    async def create() -> str:
        db = Database(settings.effective_database_url)
        try:
            user = await users.create_user(
                db,
                starting_minutes=args.minutes,
                is_admin=args.admin,
                telegram_id=args.telegram_id,
                email=args.email,
                name=args.name,
            )
            return user.id
        finally:
            await db.dispose()

    user_id = asyncio.run(create())
    print(f"created user with {args.minutes:g} minutes{' (admin)' if args.admin else ''}")
    print(user_id)
    return 0


def run_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    async def create() -> api_keys.NewKey:
        db = Database(settings.effective_database_url)
        try:
            user = await user_directory.find_user(db, args.user)
            return await api_keys.create_key(db, user.id, name=args.name)
        finally:
            await db.dispose()

    new = asyncio.run(create())
    print(f"API key '{new.key.name}' ({new.key.id}) created; it is shown only once:")
    print(new.secret)
    return 0


def run_minutes_grant(args: argparse.Namespace, settings: Settings) -> int:
    async def grant() -> int:
        # Through the platform: its database announces the new balance on the event bus (Redis in
        # distributed mode), so running API processes show it at once, not after their cache's TTL.
        from cli.bootstrap import build_platform

        platform = build_platform(settings)
        try:
            user = await user_directory.find_user(platform.db, args.user)
            return await users.grant_minutes(platform.db, user.id, args.minutes, reason=args.reason)
        finally:
            await platform.close()

    seconds = asyncio.run(grant())
    print(f"granted {args.minutes:g} minutes; balance: {seconds / 60:.2f} minutes ({seconds} s)")
    return 0
