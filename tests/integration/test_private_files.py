"""What the server leaves for other local users and for clients to read (issue 11, §6): the data
dir 0700, the database and the secret 0600, a ``Server`` header without versions."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from core.db.database import Database
from core.db.migrate import upgrade_async
from core.settings import Settings
from tests.api_harness import api_settings, live_api, sqlite_copy


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The common 022, under which files are created world-readable unless we say otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_data_dir_database_and_secret_are_the_owners_only(tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path / "data")
    await upgrade_async(settings.effective_database_url)  # `nagovori migrate` creates the file
    db = Database(settings.effective_database_url)
    try:
        async with db.write() as session:  # WAL mode: -wal and -shm appear
            await session.execute(text("UPDATE users SET name = name"))
        files = sorted(settings.data_dir.iterdir())
        assert {f.name for f in files} >= {"nagovori.db", "nagovori.db-wal", "nagovori.db-shm", "secret_key"}
        assert mode(settings.data_dir) == 0o700
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        await db.dispose()


async def test_files_an_earlier_version_left_readable_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "secret_key").write_text("old-secret")
    (data / "nagovori.db").touch(mode=0o644)
    settings = Settings.load(data_dir=data)
    Database(settings.effective_database_url)

    assert settings.secret_key.get_secret_value() == "old-secret"
    assert (mode(data), mode(data / "secret_key"), mode(data / "nagovori.db")) == (0o700, 0o600, 0o600)


async def test_the_server_header_names_no_versions(tmp_path: Path, sqlite_template: Path) -> None:
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path))
    async with live_api(settings, workers=False) as api:
        for path, key in (("/healthz", None), ("/v1/me", None), ("/v1/me", "nag_wrong"), ("/nope", None)):
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            async with api.http.get(f"{api.base}{path}", headers=headers) as response:
                assert response.headers["Server"] == "Nagovori", (path, response.status)
