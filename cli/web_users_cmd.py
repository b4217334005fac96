"""Passwords for the web dashboard from the shell.

* ``users create --email E --password-stdin`` — the account can sign in at once (the flag joins
  the ``users create`` that ``accounts_cmd`` defines; without it that command runs unchanged);
* ``users set-password --email E --password-stdin`` — set or replace a password; every browser
  signed in to the account is signed out.

The password is read from standard input (never an argument: those show in ``ps`` and in shell
history); one trailing newline is dropped, so ``echo 'secret' | nagovori …`` works.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from cli.database import on_database
from core.errors import InvalidInput
from core.services import web_accounts
from core.settings import Settings

Command = Callable[[argparse.Namespace, Settings], int]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Extend ``users`` (registered by ``accounts_cmd`` before this)."""
    users_sub = _actions_of(subparsers.choices["users"])
    create = users_sub.choices["create"]
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read a web sign-in password from standard input (needs --email)",
    )
    create.set_defaults(func=_with_password(create.get_default("func")))

    set_password = users_sub.add_parser(
        "set-password", help="set a user's web sign-in password (signs out their browsers)"
    )
    set_password.add_argument("--email", required=True)
    set_password.add_argument(
        "--password-stdin", action="store_true", required=True, help="read the password from standard input"
    )
    set_password.set_defaults(func=run_set_password, database=True, needs_schema=True)


def read_password() -> str:
    """The password on standard input, without the newline a shell's ``echo`` adds."""
    password = sys.stdin.readline()
    if password.endswith("\n"):
        password = password[:-1]
    if password.endswith("\r"):
        password = password[:-1]
    if not password:
        raise InvalidInput("No password on standard input (pipe it in: `… --password-stdin < file`).")
    return password


def _with_password(plain_create: Command) -> Command:
    def run(args: argparse.Namespace, settings: Settings) -> int:
        if not args.password_stdin:
            return plain_create(args, settings)
        if not args.email:
            raise InvalidInput("--password-stdin needs --email: the e-mail is what signs in.")
        password = read_password()
        user = on_database(
            settings,
            lambda db: web_accounts.create_account(
                db,
                email=args.email,
                password=password,
                starting_minutes=args.minutes,
                is_admin=args.admin,
                name=args.name,
                telegram_id=args.telegram_id,
            ),
        )
        print(
            f"created user {user.email} with {args.minutes:g} minutes{' (admin)' if args.admin else ''};"
            " they can sign in on the web dashboard"
        )
        print(user.id)
        return 0

    return run


def run_set_password(args: argparse.Namespace, settings: Settings) -> int:
    password = read_password()
    user = on_database(settings, lambda db: web_accounts.set_password(db, args.email, password))
    print(f"password set for {user.email}; their browsers were signed out")
    return 0


def _actions_of(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise LookupError(f"{parser.prog} has no sub-commands")
