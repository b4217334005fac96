"""Run the Alembic migrations programmatically (``nagovori migrate``, ``make run``, the tests)."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config

from core.db.database import private_sqlite_file


def _migrations_dir() -> Path:
    """The ``migrations`` package's folder, found without importing it: Alembic loads its scripts
    itself, and the core never imports the migrations (which import the core's tables)."""
    spec = importlib.util.find_spec("migrations")
    if spec is None or spec.origin is None:
        raise RuntimeError("the migrations package is not installed next to the core")
    return Path(spec.origin).resolve().parent


MIGRATIONS_DIR = _migrations_dir()


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at the packaged migrations, without an alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to ``revision``; safe to call on every start."""
    if database_url.startswith("sqlite"):
        private_sqlite_file(database_url)  # before Alembic's engine creates it world-readable
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """``upgrade`` from inside a running event loop (Alembic's env starts its own loop)."""
    await asyncio.to_thread(upgrade, database_url, revision)
