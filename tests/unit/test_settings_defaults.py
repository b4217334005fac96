"""Settings that explain themselves: a data folder that does not depend on the current folder,
database URLs without a driver, and misspelled ``NAGOVORI_`` variables named at start."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from cli.startup import warn_misspelled
from core.settings import (
    Settings,
    data_dir_origin,
    default_data_dir,
    misspelled_variables,
    with_async_driver,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in os.environ if n.startswith("NAGOVORI_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # never the real home folder
    monkeypatch.chdir(tmp_path)


# --- the data folder -------------------------------------------------------------------------------


def test_a_user_gets_the_xdg_data_folder(tmp_path: Path) -> None:
    absent = tmp_path / "no-system-install"
    assert default_data_dir({"HOME": "/home/ann"}, absent) == Path("/home/ann/.local/share/nagovori")
    assert default_data_dir({"HOME": "/home/ann", "XDG_DATA_HOME": "/data/ann"}, absent) == Path(
        "/data/ann/nagovori"
    )
    # The XDG spec: a relative XDG_DATA_HOME is invalid and ignored (it would depend on the folder).
    assert default_data_dir({"HOME": "/home/ann", "XDG_DATA_HOME": "rel"}, absent) == Path(
        "/home/ann/.local/share/nagovori"
    )


def test_a_system_install_is_used_by_every_command_on_the_machine(tmp_path: Path) -> None:
    system = tmp_path / "var-lib-nagovori"
    system.mkdir()
    assert default_data_dir({"HOME": "/home/ann", "XDG_DATA_HOME": "/data/ann"}, system) == system
    assert default_data_dir({}, system) == system  # a service user without a home


def test_the_default_does_not_depend_on_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = set()
    for folder in (tmp_path / "a", tmp_path / "b" / "c"):
        folder.mkdir(parents=True)
        monkeypatch.chdir(folder)
        seen.add(Settings().data_dir)
    assert seen == {tmp_path / "home" / ".local" / "share" / "nagovori"}


def test_load_makes_the_default_folder_private(tmp_path: Path) -> None:
    settings = Settings.load()
    expected = tmp_path / "home" / ".local" / "share" / "nagovori"
    assert settings.data_dir == expected and (expected / "secret_key").is_file()
    assert expected.stat().st_mode & 0o077 == 0
    assert data_dir_origin(settings) == "the default for this user"


def test_nagovori_data_dir_wins_and_empty_means_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NAGOVORI_DATA_DIR", str(tmp_path / "chosen"))
    settings = Settings()
    assert settings.data_dir == tmp_path / "chosen" and data_dir_origin(settings) == "NAGOVORI_DATA_DIR"
    monkeypatch.setenv("NAGOVORI_DATA_DIR", "")  # as copied from .env.example: not the current folder
    assert Settings().data_dir == tmp_path / "home" / ".local" / "share" / "nagovori"


# --- database URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db:5432/n", "postgresql+asyncpg://u:p@db:5432/n"),
        ("postgres://u:p@db/n?sslmode=require", "postgresql+asyncpg://u:p@db/n?sslmode=require"),
        ("postgresql+asyncpg://u@db/n", "postgresql+asyncpg://u@db/n"),
        ("sqlite:////srv/n.db", "sqlite+aiosqlite:////srv/n.db"),
        ("sqlite+aiosqlite:///n.db", "sqlite+aiosqlite:///n.db"),
        ("", ""),
    ],
)
def test_database_urls_get_the_async_driver(given: str, used: str) -> None:
    assert with_async_driver(given) == used
    assert Settings(database_url=given).database_url == used


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("postgresql+psycopg2://u@db/n", "write postgresql+asyncpg://… (or postgresql://…)"),
        ("sqlite+pysqlite:///n.db", "write sqlite+aiosqlite://… (or sqlite://…)"),
        ("mysql://u@db/n", "use postgresql://… (PostgreSQL) or sqlite:///… (a SQLite file)"),
    ],
)
def test_other_drivers_are_refused_saying_what_to_write(given: str, said: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(database_url=given)
    [error] = refused.value.errors()
    assert error["loc"] == ("database_url",) and said in error["msg"]


# --- misspelled variables --------------------------------------------------------------------------


def test_misspelled_variables_are_named_with_the_closest_setting() -> None:
    names = [
        "NAGOVORI_DATABSE_URL",
        "NAGOVORI_REDIS",
        "NAGOVORI_WORKERS_THREADS",
        "NAGOVORI_NOTHING_LIKE_IT",
        "NAGOVORI_PORT",  # a setting
        "nagovori_port",  # settings are read in any case
        "NAGOVORI_DEBUG",  # the CLI's, no setting
        "NAGOVORI_TEST_REDIS_URL",  # the tests'
        "PATH",
    ]
    assert misspelled_variables(names) == [
        ("NAGOVORI_DATABSE_URL", "NAGOVORI_DATABASE_URL"),
        ("NAGOVORI_NOTHING_LIKE_IT", None),
        ("NAGOVORI_REDIS", "NAGOVORI_REDIS_URL"),
        ("NAGOVORI_WORKERS_THREADS", "NAGOVORI_WORKER_THREADS"),
    ]


def test_every_setting_is_a_valid_name() -> None:
    assert misspelled_variables(f"NAGOVORI_{name.upper()}" for name in Settings.model_fields) == []


def test_the_warning_is_one_line_per_name_from_the_environment_or_dotenv(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("NAGOVORI_MAX_UPLOAD_MEGABYTES=5\nNAGOVORI_PORT=9000\n")
    with caplog.at_level(logging.WARNING, logger="nagovori"):
        warn_misspelled(["NAGOVORI_DATABSE_URL", "HOME"], dotenv)
    assert [r.getMessage() for r in caplog.records] == [
        "NAGOVORI_DATABSE_URL is not a Nagovori setting and is ignored; did you mean NAGOVORI_DATABASE_URL?",
        "NAGOVORI_MAX_UPLOAD_MEGABYTES is not a Nagovori setting and is ignored; did you mean"
        " NAGOVORI_MAX_UPLOAD_MB?",
    ]


@pytest.mark.parametrize("example", [".env.example", "deploy/nagovori.env.example"])
def test_the_example_settings_files_name_only_settings(example: str) -> None:
    from dotenv import dotenv_values

    values = dotenv_values(Path(__file__).resolve().parents[2] / example)
    assert misspelled_variables(values) == []
    given = {name.removeprefix("NAGOVORI_").lower(): value for name, value in values.items() if value}
    Settings(**given)  # type: ignore[arg-type]  # every value given there is valid
