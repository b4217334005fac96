"""The operator's commands (``users list|show``, ``keys list|revoke``, ``jobs list``) on real
databases, and what every command does at the edges: ``--debug`` anywhere, a bad flag answered with
that command's usage, ``| head`` without a traceback, a folder where a file belongs, a database
that was never migrated, the data folder and database named at start (never a password)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cli.main import build_parser, main, parse
from core.db.database import Database
from core.db.migrate import upgrade
from core.db.models import SpeechJob, TranscriptionJob, User
from core.events import RedisEventBus
from core.services import api_keys, users
from core.services.auth_cache import CHANNEL

USER_FIELDS = {
    "id",
    "created_at",
    "name",
    "email",
    "telegram_id",
    "telegram_username",
    "is_admin",
    "balance_seconds",
}
KEY_FIELDS = {"id", "user_id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "active"}
JOB_FIELDS = {
    "id",
    "kind",
    "status",
    "user_id",
    "source",
    "created_at",
    "started_at",
    "completed_at",
    "attempts",
    "hold_seconds",
    "billed_seconds",
    "audio_seconds",
    "model",
    "voice",
    "error_code",
    "error_message",
    "archived",
}
LONG_ERROR = "The file is not audio that can be decoded: the container says MP4 but holds a text document."
STARTUP_LINE = " INFO nagovori: data folder "


@dataclass(frozen=True)
class Seeded:
    ann: str  # made by an admin: an e-mail, 5 minutes, an API key, a completed and a queued job
    bob: str  # made by the bot: Telegram id and username, 2 free minutes, a failed job
    key_id: str
    secret: str
    failed_job: str
    speech_job: str


async def _seed(url: str) -> Seeded:
    db = Database(url)
    try:
        ann = await users.create_user(db, starting_minutes=5, email="Ann@Example.org", name="Ann Smith")
        bob, _ = await users.telegram_user(
            db, 777000111, name="Bob", language="en", free_minutes=2, username="Bob_TG"
        )
        key = await api_keys.create_key(db, ann.id, name="laptop")
        start = datetime.now(UTC) - timedelta(hours=1)
        jobs = [
            TranscriptionJob(user_id=ann.id, status="completed", duration_seconds=12.5, billed_seconds=13,
                             model="whisper-base", created_at=start),
            TranscriptionJob(user_id=bob.id, status="failed", source="telegram", attempts=3,
                             error_code="unreadable_audio", error_message=LONG_ERROR,
                             created_at=start + timedelta(minutes=1)),
            SpeechJob(user_id=ann.id, status="queued", text="Hello.", voice="alloy",
                      created_at=start + timedelta(minutes=2)),
        ]  # fmt: skip
        async with db.write() as session:
            session.add_all(jobs)
        return Seeded(ann.id, bob.id, key.key.id, key.secret, jobs[1].id, jobs[2].id)
    finally:
        await db.dispose()


@pytest.fixture
def seeded(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Seeded:
    """Two accounts, a key and three jobs; the in-process CLI pointed at them."""
    _cli_environment(monkeypatch, tmp_path, database_url)
    return asyncio.run(_seed(database_url))


def _cli_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    for name in [n for n in os.environ if n.startswith("NAGOVORI_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NAGOVORI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NAGOVORI_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no stray .env


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def as_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    status, out, err = run(capsys, *args, "--json")
    assert status == 0, err
    return json.loads(out)  # one document, nothing else on stdout


def ids(rows: Any) -> list[str]:
    assert isinstance(rows, list)
    return [row["id"] for row in rows]


# --- users, keys, jobs -------------------------------------------------------------------------


def test_users_list_finds_accounts_by_any_part(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    everyone = as_json(capsys, "users", "list")
    assert ids(everyone) == [seeded.bob, seeded.ann]  # newest first
    assert isinstance(everyone, list) and all(set(row) == USER_FIELDS for row in everyone)
    bob, ann = everyone
    assert (bob["telegram_id"], bob["telegram_username"], bob["balance_seconds"]) == (
        777000111,
        "Bob_TG",
        120,
    )
    assert (ann["email"], ann["balance_seconds"], ann["telegram_id"]) == ("ann@example.org", 300, None)
    datetime.fromisoformat(ann["created_at"])

    for text, expected in [
        ("smith", [seeded.ann]),
        ("EXAMPLE.ORG", [seeded.ann]),
        ("@bob_t", [seeded.bob]),
        ("777000111", [seeded.bob]),
        (seeded.ann[:8], [seeded.ann]),
        ("100%", []),  # LIKE's wildcards are searched for as text
    ]:
        assert ids(as_json(capsys, "users", "list", "--search", text)) == expected, text
    assert ids(as_json(capsys, "users", "list", "--limit", "1")) == [seeded.bob]

    status, out, _ = run(capsys, "users", "list")
    header, *rows = out.splitlines()
    assert status == 0 and header.split() == [
        "ID",
        "CREATED",
        "EMAIL",
        "TELEGRAM",
        "NAME",
        "ADMIN",
        "MINUTES",
    ]
    assert rows[0].startswith(seeded.bob) and "@Bob_TG" in rows[0] and rows[0].endswith("2.00")
    assert rows[1].startswith(seeded.ann) and "ann@example.org" in rows[1] and "Ann Smith" in rows[1]


def test_users_show_by_id_email_username_or_telegram_id(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    for reference, expected in [
        (seeded.ann, seeded.ann),
        ("ANN@example.org", seeded.ann),
        ("@bob_tg", seeded.bob),
        ("777000111", seeded.bob),
    ]:
        shown = as_json(capsys, "users", "show", reference)
        assert isinstance(shown, dict) and shown["id"] == expected, reference

    ann = as_json(capsys, "users", "show", seeded.ann)
    assert isinstance(ann, dict) and set(ann) >= USER_FIELDS
    assert (ann["balance_seconds"], ann["held_seconds"], ann["granted_seconds"]) == (300, 0, 300)
    assert ann["jobs"] == {"completed": 1, "queued": 1}
    [key] = ann["api_keys"]
    assert set(key) == KEY_FIELDS
    assert (key["id"], key["prefix"], key["active"]) == (seeded.key_id, seeded.secret[:8], True)
    assert seeded.secret not in json.dumps(ann)  # only the prefix: the secret is not kept anywhere

    status, out, _ = run(capsys, "users", "show", "@Bob_TG")
    assert status == 0
    assert "telegram_username: Bob_TG" in out and "telegram_id:       777000111" in out
    assert "jobs:              1 failed" in out

    status, _, err = run(capsys, "users", "show", "@nobody")
    assert status == 2 and err.strip().splitlines()[-1] == "nagovori: error: User not found: @nobody"


def test_jobs_list_filters_by_status_account_and_kind(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    every = as_json(capsys, "jobs", "list")
    assert isinstance(every, list) and len(every) == 3 and all(set(job) == JOB_FIELDS for job in every)
    assert ids(every)[:2] == [seeded.speech_job, seeded.failed_job]  # newest first

    [failed] = as_json(capsys, "jobs", "list", "--status", "failed")
    assert (failed["id"], failed["user_id"], failed["source"]) == (seeded.failed_job, seeded.bob, "telegram")
    assert (failed["error_code"], failed["error_message"], failed["attempts"]) == (
        "unreadable_audio",
        LONG_ERROR,
        3,
    )

    anns = as_json(capsys, "jobs", "list", "--user", "ann@example.org")
    assert isinstance(anns, list) and {job["user_id"] for job in anns} == {seeded.ann} and len(anns) == 2
    [speech] = as_json(capsys, "jobs", "list", "--kind", "tts")
    assert (speech["id"], speech["voice"], speech["model"]) == (seeded.speech_job, "alloy", None)
    [done] = as_json(capsys, "jobs", "list", "--status", "completed")
    assert (done["audio_seconds"], done["billed_seconds"], done["model"]) == (12.5, 13, "whisper-base")
    assert ids(as_json(capsys, "jobs", "list", "--limit", "1")) == [seeded.speech_job]

    status, out, _ = run(capsys, "jobs", "list", "--status", "failed")
    header, row = out.splitlines()
    assert status == 0 and header.split()[:3] == ["ID", "KIND", "STATUS"]
    shown_error = row[row.index("unreadable_audio") :]
    assert shown_error.endswith("…") and len(shown_error) == 60 and LONG_ERROR not in row


def test_keys_revoke_reaches_every_api_process(
    tmp_path: Path, sqlite_template: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """``keys revoke`` goes through the service that announces it: with Redis, every API process
    hears that the key's hash is revoked and drops it from its authentication cache."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'n.db'}"
    (tmp_path / "n.db").write_bytes(sqlite_template.read_bytes())
    _cli_environment(monkeypatch, tmp_path, database_url)
    seeded = asyncio.run(_seed(database_url))
    [listed] = as_json(capsys, "keys", "list", "--user", "ann@example.org")
    assert set(listed) == KEY_FIELDS and (listed["id"], listed["active"]) == (seeded.key_id, True)

    async def revoke_while_listening() -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
        bus = RedisEventBus(redis_url)
        try:
            async with bus.subscribe(CHANNEL) as events:
                env = {**os.environ, "NAGOVORI_REDIS_URL": redis_url}
                done = await asyncio.to_thread(
                    subprocess.run,
                    [sys.executable, "-m", "cli", "keys", "revoke", seeded.key_id, "--json"],
                    env=env, capture_output=True, text=True, timeout=120, check=False,
                )  # fmt: skip
                async with asyncio.timeout(10):
                    async for event in events:
                        if "key" in event:
                            return done, event
        finally:
            await bus.close()
        raise AssertionError("no announcement")

    done, event = asyncio.run(revoke_while_listening())
    assert done.returncode == 0, done.stderr
    revoked = json.loads(done.stdout)
    assert (revoked["id"], revoked["active"]) == (seeded.key_id, False) and revoked["revoked_at"]
    assert event == {"key": api_keys.hash_key(seeded.secret)}
    [after] = as_json(capsys, "keys", "list", "--user", seeded.ann)
    assert after["revoked_at"] == revoked["revoked_at"] and not after["active"]

    status, _, err = run(capsys, "keys", "revoke", "no-such-key")
    assert status == 2 and "API key not found" in err


# --- the edges every command shares -------------------------------------------------------------


def nagovori(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NAGOVORI_")}
    environment |= {"NAGOVORI_DATA_DIR": str(tmp_path / "data")} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip


def said(result: subprocess.CompletedProcess[str]) -> list[str]:
    """stderr without the startup line."""
    return [line for line in result.stderr.strip().splitlines() if STARTUP_LINE not in line]


@pytest.mark.parametrize(
    "argv",
    [
        ["--debug", "users", "list"],
        ["users", "--debug", "list"],
        ["users", "list", "--debug"],
        ["jobs", "list", "--status", "failed", "--debug", "--json"],
        ["keys", "revoke", "--debug", "KEY"],
    ],
)
def test_debug_is_accepted_anywhere(argv: list[str]) -> None:
    assert parse(build_parser(), argv).debug is True


def test_debug_after_the_command_shows_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'nagovori.db'}")
    quiet = nagovori(tmp_path, "users", "show", "nobody")
    loud = nagovori(tmp_path, "users", "show", "nobody", "--debug")
    assert quiet.returncode == 2 and said(quiet) == ["nagovori: error: User not found: nobody"]
    assert loud.returncode != 0 and "Traceback" in loud.stderr and "NotFound: User not found" in loud.stderr


@pytest.mark.parametrize(
    ("argv", "usage", "complaint"),
    [
        (["users", "list", "--bogus"], "usage: nagovori users list", "unrecognized arguments: --bogus"),
        (["--bogus", "jobs", "list"], "usage: nagovori jobs list", "unrecognized arguments: --bogus"),
        (["jobs", "list", "--status", "lost"], "usage: nagovori jobs list", "invalid choice: 'lost'"),
        (["keys", "revoke"], "usage: nagovori keys revoke", "required: KEY_ID"),
        (["users", "list", "--limit", "many"], "usage: nagovori users list", "invalid int value"),
    ],
)
def test_a_bad_flag_prints_that_commands_usage(
    argv: list[str], usage: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith(usage) and complaint in err.splitlines()[-1]
    assert err.splitlines()[-1].startswith(usage.removeprefix("usage: ") + ": error:")


def test_piping_into_head_exits_quietly(tmp_path: Path, sqlite_template: Path) -> None:
    """More rows than a pipe holds: the reader leaves while the command still writes."""
    database = tmp_path / "n.db"
    database.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite+aiosqlite:///{database}"

    async def many_users() -> None:
        db = Database(url)
        async with db.write() as session:
            session.add_all(User(name=f"user {i}", email=f"user{i}@example.org") for i in range(1500))
        await db.dispose()

    asyncio.run(many_users())
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NAGOVORI_")}
    environment |= {"NAGOVORI_DATA_DIR": str(tmp_path / "data"), "NAGOVORI_DATABASE_URL": url}
    for output in ("", "--json"):
        pipeline = (
            f"{sys.executable} -m cli users list --limit 5000 {output} 2> {tmp_path / 'err'} | head -n 2;"
            " echo status=${PIPESTATUS[0]}"
        )
        done = subprocess.run(
            ["bash", "-c", pipeline],
            capture_output=True,
            text=True,
            env=environment,
            cwd=tmp_path,
            timeout=120,
        )
        *rows, status = done.stdout.splitlines()
        errors = (tmp_path / "err").read_text()
        assert len(rows) == 2 and status == "status=141", done.stdout
        assert [line for line in errors.splitlines() if STARTUP_LINE not in line] == [], errors


def test_a_folder_where_a_file_belongs_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (tmp_path / "plain").write_text("")
    _cli_environment(monkeypatch, tmp_path, "")
    for args, message in [
        (("transcribe", str(folder)), f"{folder} is a folder; give a file."),
        (("speak", "Hello.", "-o", str(folder)), f"{folder} is a folder; give the name of a file to write."),
    ]:
        status, _, err = run(capsys, *args)
        assert status == 2 and err.splitlines() == [f"nagovori: error: {message}"]

    for env, message in [
        (
            {"NAGOVORI_DATABASE_URL": f"sqlite:///{folder}"},
            f"NAGOVORI_DATABASE_URL names a folder, {folder}, where a database file is expected.",
        ),
        (
            {"NAGOVORI_DATA_DIR": str(tmp_path / "plain" / "data")},
            f"cannot use the data folder: {tmp_path / 'plain'} is a file, not a folder"
            " (NAGOVORI_DATA_DIR chooses another)",
        ),
    ]:
        done = nagovori(tmp_path, "users", "list", env=env)
        assert done.returncode == 2 and said(done) == [f"nagovori: error: {message}"], done.stderr


def test_a_database_that_was_never_migrated_says_to_migrate(tmp_path: Path) -> None:
    for command in (("jobs", "list", "--status", "failed"), ("ledger", "check")):
        done = nagovori(tmp_path, *command)
        assert done.returncode == 2 and done.stdout == ""
        [line] = said(done)
        assert line.endswith("has no tables yet: run `nagovori migrate`."), line
        assert "Traceback" not in done.stderr and "no such table" not in done.stderr

    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'nagovori.db'}", "0001")  # an older release's
    behind = nagovori(tmp_path, "users", "list")
    assert behind.returncode == 2 and "is at revision 0001" in behind.stderr
    assert said(behind)[0].endswith(": run `nagovori migrate`.")

    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'nagovori.db'}")
    assert nagovori(tmp_path, "users", "list", "--json").stdout.strip() == "[]"


def test_the_startup_line_names_folder_and_database_without_the_password(tmp_path: Path) -> None:
    done = nagovori(
        tmp_path,
        "users",
        "list",
        env={
            "NAGOVORI_DATABASE_URL": "postgresql://ops:s3cret-pw@127.0.0.1:1/nagovori",  # no driver
            "NAGOVORI_DATABSE_URL": "sqlite:///typo.db",
        },
    )
    startup = [line for line in done.stderr.splitlines() if STARTUP_LINE in line]
    assert startup and startup[0].endswith(
        f"data folder {tmp_path / 'data'} (NAGOVORI_DATA_DIR);"
        " database postgresql+asyncpg://ops:***@127.0.0.1:1/nagovori"
    )
    assert "s3cret-pw" not in done.stderr
    assert (
        "NAGOVORI_DATABSE_URL is not a Nagovori setting and is ignored; did you mean NAGOVORI_DATABASE_URL?"
        in done.stderr
    )
    assert done.returncode == 2 and said(done)[-1].endswith("The database is unavailable; try again shortly.")
