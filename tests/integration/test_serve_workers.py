"""``nagovori serve --workers N``: in distributed mode N API processes share one port and stop
together; in embedded mode more than one is refused."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.api_harness import scratch_postgres, server_env, server_processes


def children_of(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux: read from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_two_api_processes_answer_on_one_port_and_sigterm_stops_both(tmp_path: Path, redis_url: str) -> None:
    with (
        scratch_postgres() as database_url,
        server_processes(tmp_path, database_url, redis_url, serve_args=("--workers", "2")) as server,
    ):
        supervisor = server.processes[0]
        api_pids = children_of(supervisor.pid)
        assert len(api_pids) == 2, server.output()

        # When fresh connections keep coming, the kernel hands them to both processes.
        answered: set[int] = set()
        deadline = time.monotonic() + 60
        while answered != api_pids and time.monotonic() < deadline:
            with requests.Session() as fresh:  # a new connection, a new source port
                response = fresh.get(f"{server.base}/healthz", timeout=10)
            if response.status_code == 200:
                answered.add(response.json()["pid"])
        assert answered == api_pids, server.output()
        auth = {"Authorization": f"Bearer {server.key}"}
        for _ in range(10):
            with requests.Session() as fresh:
                me = fresh.get(f"{server.base}/v1/me", headers=auth, timeout=10)
            assert me.status_code == 200 and me.json()["id"] == server.user_id

        # SIGTERM to `serve` stops every API process, cleanly.
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(30) == 0, server.output()
        assert not any(Path(f"/proc/{pid}").exists() for pid in api_pids), server.output()


def serve_two(directory: Path, redis_url: str, port: int) -> subprocess.CompletedProcess[str]:
    """``nagovori serve --workers 2`` on a SQLite file in ``directory``, run to its end."""
    env = server_env(directory, f"sqlite+aiosqlite:///{directory / 'n.db'}", redis_url, port, "x" * 32, {})
    if redis_url:  # migrated, so that what stops `serve` is the port
        migrate = [sys.executable, "-m", "cli", "migrate"]
        subprocess.run(migrate, env=env, cwd=directory, capture_output=True, timeout=60, check=True)
    return subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--workers", "2"],
        env=env,
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_embedded_mode_refuses_more_than_one_api_process(tmp_path: Path) -> None:
    done = serve_two(tmp_path, "", 8)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "NAGOVORI_REDIS_URL" in done.stderr, done.stderr
    assert not (tmp_path / "n.db").exists()  # refused before anything was set up


def test_when_one_api_process_exits_serve_stops_the_others(tmp_path: Path, redis_url: str) -> None:
    with socket.socket() as taken:  # a listener without SO_REUSEPORT: no API process can bind
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = serve_two(tmp_path, redis_url, taken.getsockname()[1])
    assert done.returncode == 2
    assert "address already in use" in done.stderr, done.stderr[-2000:]
