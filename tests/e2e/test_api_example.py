"""The announcement's complete Python example and its SSE loop, run as written (only the base URL
changed) against real server processes: embedded (one process, SQLite) and distributed
(``nagovori serve`` + ``nagovori worker`` over Redis and PostgreSQL)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.audio.decode import read_pcm
from core.audio.encode import encode_to_file
from tests.api_harness import ServerProcess, scratch_postgres, scratch_redis, server_processes

CLIP = "en/LJ001-0002.wav"  # "in being comparatively modern."
SEED_BASE = 'BASE = "https://api.nagovori.ru/v1"'

# Verbatim from seeds/000 ("A Complete Example").
COMPLETE_EXAMPLE = """\
import requests
import time
import os

API_KEY = os.environ["NAGOVORI_API_KEY"]
BASE = "https://api.nagovori.ru/v1"
headers = {"Authorization": f"Bearer {API_KEY}"}

# 1. Get a presigned upload URL
presign = requests.post(f"{BASE}/uploads/presign", headers=headers, json={
    "filename": "call.mp3",
    "content_type": "audio/mpeg",
    "size_bytes": os.path.getsize("call.mp3"),
}).json()

# 2. Upload the file directly to object storage
with open("call.mp3", "rb") as f:
    requests.put(presign["upload_url"], data=f,
                 headers={"Content-Type": "audio/mpeg"})

# 3. Start transcription
job = requests.post(f"{BASE}/transcriptions", headers=headers, json={
    "object_key": presign["object_key"],
    "filename": "call.mp3",
    "content_type": "audio/mpeg",
    "size_bytes": os.path.getsize("call.mp3"),
    "language": "auto",
}).json()

# 4. Poll until complete
while job["status"] in ("queued", "processing"):
    time.sleep(3)
    job = requests.get(
        f"{BASE}/transcriptions/{job['id']}", headers=headers
    ).json()

if job["status"] == "completed":
    print(job["transcript_text"])
else:
    print(f"Failed: {job.get('error_message')}")
"""

# Verbatim from seeds/000 ("Real-Time Streaming").
SSE_LOOP = """\
import requests

url = f"{BASE}/transcriptions/{job_id}/stream"
response = requests.get(url, headers=headers, stream=True)

for line in response.iter_lines():
    if line.startswith(b"data: "):
        # Parse the JSON event and update your UI
        pass
"""

# Steps 1-3 of the example make the job the SSE loop follows; the loop ends when the server ends
# the stream after its `done` event, and the script then shows what the job became.
SSE_SCRIPT = (
    COMPLETE_EXAMPLE.split("# 4. Poll until complete")[0]
    + "job_id = job['id']\n"
    + SSE_LOOP
    + "print(requests.get(f\"{BASE}/transcriptions/{job_id}\", headers=headers).json()['status'])\n"
)


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, shared_audio: Path
) -> Iterator[ServerProcess]:
    tmp_path = tmp_path_factory.mktemp(request.param)
    encode_to_file(read_pcm(shared_audio / CLIP), 16000, "mp3", tmp_path / "call.mp3")
    if request.param == "embedded":
        with server_processes(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'nagovori.db'}") as server:
            yield server
        return
    redis_url = scratch_redis()
    with scratch_postgres() as database_url, server_processes(tmp_path, database_url, redis_url) as server:
        yield server


def run_script(server: ServerProcess, source: str) -> str:
    """Run ``source`` with only its base URL changed, beside the server's call.mp3."""
    assert SEED_BASE in source
    workdir = Path(server.env["NAGOVORI_DATA_DIR"]).parent
    script = workdir / "example.py"
    script.write_text(source.replace(SEED_BASE, f'BASE = "{server.base}/v1"'))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=workdir,
        env={**server.env, "NAGOVORI_API_KEY": server.key},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + server.output()
    return done.stdout


@pytest.mark.slow
def test_the_complete_example_prints_the_transcript(server: ServerProcess) -> None:
    printed = run_script(server, COMPLETE_EXAMPLE)
    assert not printed.startswith("Failed"), printed
    assert set(re.findall(r"[a-z]+", printed.lower())) & {"being", "comparatively", "modern"}, printed


@pytest.mark.slow
def test_the_sse_loop_runs_to_the_end_of_the_job(server: ServerProcess) -> None:
    printed = run_script(server, SSE_SCRIPT)
    assert printed.strip() == "completed", printed
