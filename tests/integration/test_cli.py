"""The ``nagovori`` command line as a user runs it: a real process, a real SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def nagovori(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NAGOVORI_")}
    environment |= {"NAGOVORI_DATA_DIR": str(data_dir)} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def said(result: subprocess.CompletedProcess[str]) -> list[str]:
    """stderr without the INFO line a database command starts with (its data folder and database)."""
    return [line for line in result.stderr.strip().splitlines() if " INFO nagovori: data folder " not in line]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    result = nagovori(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    return tmp_path


def test_users_keys_and_minutes(data_dir: Path) -> None:
    created = nagovori(
        data_dir, "users", "create", "--minutes", "2.5", "--name", "Ann", "--email", "ann@example.org"
    )
    assert created.returncode == 0, created.stderr
    user_id = created.stdout.strip().splitlines()[-1]
    assert len(user_id) == 36

    key = nagovori(data_dir, "keys", "create", "--user", user_id, "--name", "ci")
    assert key.returncode == 0, key.stderr
    assert key.stdout.strip().splitlines()[-1].startswith("nag_")

    granted = nagovori(data_dir, "minutes", "grant", "--user", user_id, "--minutes", "1")
    assert granted.returncode == 0, granted.stderr
    assert "3.50 minutes (210 s)" in granted.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("keys", "create", "--user", "no-such-user"), "User not found"),
        (("minutes", "grant", "--user", "no-such-user", "--minutes", "1"), "User not found"),
        (("users", "create", "--minutes", "-1"), "cannot be negative"),
        (("worker",), "NAGOVORI_REDIS_URL"),
    ],
)
def test_bad_input_is_one_line_on_stderr(data_dir: Path, args: tuple[str, ...], message: str) -> None:
    result = nagovori(data_dir, *args)
    assert result.returncode != 0
    lines = said(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nagovori: error:") and message in lines[0]


def test_duplicate_email_is_a_clear_error(data_dir: Path) -> None:
    assert nagovori(data_dir, "users", "create", "--email", "a@b.c").returncode == 0
    again = nagovori(data_dir, "users", "create", "--email", "a@b.c")
    assert again.returncode == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr


def test_invalid_setting_names_the_variable(tmp_path: Path) -> None:
    result = nagovori(tmp_path, "migrate", env={"NAGOVORI_PORT": "not-a-port"})
    assert result.returncode == 2
    assert "NAGOVORI_PORT" in result.stderr and len(said(result)) == 1


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = nagovori(
        tmp_path,
        "users",
        "create",
        env={"NAGOVORI_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
    )
    assert result.returncode == 2
    assert len(said(result)) == 1 and "database is unavailable" in result.stderr
