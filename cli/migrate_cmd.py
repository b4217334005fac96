"""``nagovori migrate``: bring the database schema up to date."""

from __future__ import annotations

import argparse

from cli.database import masked_url
from core.db.migrate import upgrade
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("migrate", help="apply database migrations")
    parser.add_argument("--revision", default="head", help="target revision (default: head)")
    parser.set_defaults(func=run, database=True)


def run(args: argparse.Namespace, settings: Settings) -> int:
    upgrade(settings.effective_database_url, args.revision)
    print(f"database at {args.revision}: {masked_url(settings.effective_database_url)}")
    return 0
