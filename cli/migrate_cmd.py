"""``nagovori migrate``: bring the database schema up to date."""

from __future__ import annotations

import argparse

from core.db.migrate import upgrade
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("migrate", help="apply database migrations")
    parser.add_argument("--revision", default="head", help="target revision (default: head)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    upgrade(settings.effective_database_url, args.revision)
    print(f"database at {args.revision}: {_redact(settings.effective_database_url)}")
    return 0


def _redact(url: str) -> str:
    """The URL without its password, for printing."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest and ":" in rest.split("@", 1)[0]:
        creds, host = rest.split("@", 1)
        rest = f"{creds.split(':', 1)[0]}:***@{host}"
    return f"{scheme}{sep}{rest}"
