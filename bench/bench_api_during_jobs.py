"""The API while a job transcribes: ``/healthz`` and ``GET /v1/me`` latency (p50/p99/max) during one
job on two minutes of continuous speech, per engine (PocketSphinx, Whisper base), with the engine in
the API's process (``NAGOVORI_ENGINE_PROCESSES=0``) and in an engine process.

``nagovori serve`` runs embedded (SQLite); one client thread in this process calls the two routes
in turn, one request at a time, from the moment the job is processing until it has finished.
Target (issue 10): p99 <= 100 ms for each engine.

    .venv/bin/python -m bench.bench_api_during_jobs [--seconds 120] [--engines pocketsphinx,whisper]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.stack import SHARED_AUDIO, Deployment, deployment, percentile, verdict, workdir  # noqa: E402

MODELS_DIR = ROOT / "tests" / ".cache" / "models"  # shared with the tests' cache (git-ignored)
TARGET_P99_MS = 100.0


@dataclass(frozen=True)
class Row:
    engine: str
    mode: str
    job_seconds: float
    samples: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_api_during_jobs")
    parser.add_argument("--seconds", type=float, default=120, help="length of the speech (default: 120)")
    parser.add_argument("--engines", default="pocketsphinx,whisper")
    args = parser.parse_args()
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    rows: list[Row] = []
    with workdir("during-jobs") as directory:
        audio = continuous_speech(directory / "speech.wav", args.seconds)
        for engine in engines:
            settings = {"asr_engine": engine, "isolated_engines": engine}
            if engine == "whisper":
                settings["whisper_model"] = str(whisper_base())
            for mode, processes in (("in-process", "0"), ("isolated", "1")):
                with deployment(
                    directory / f"{engine}-{mode}", engine_processes=processes, **settings
                ) as running:
                    rows.append(measure(running, audio, engine, mode))
    print(f"API latency while one job transcribes {args.seconds:.0f} s of continuous speech (embedded):")
    print(f"{'engine':<13} {'mode':<11} {'job s':>6} {'calls':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8}")
    for r in rows:
        print(
            f"{r.engine:<13} {r.mode:<11} {r.job_seconds:>6.1f} {r.samples:>6} {r.p50_ms:>7.1f} "
            f"{r.p99_ms:>7.1f} {r.max_ms:>8.1f}"
        )
    for engine in engines:
        isolated = [r for r in rows if r.engine == engine and r.mode == "isolated"]
        if isolated:
            ok = isolated[0].p99_ms <= TARGET_P99_MS
            print(f"target p99 <= {TARGET_P99_MS:.0f} ms with {engine} isolated: {verdict(ok)}")
    return 0


def continuous_speech(target: Path, seconds: float) -> Path:
    """English clips of the shared folder back to back (no pauses added), as 16 kHz mono WAV."""
    from tests.integration.fault_harness import continuous_speech as joined

    with (SHARED_AUDIO / "references.tsv").open(encoding="utf-8") as fh:
        files = [SHARED_AUDIO / r["file"] for r in csv.DictReader(fh, delimiter="\t") if r["lang"] == "en"]
    return joined(files, target, seconds, exact=True)


def whisper_base() -> Path:
    from bundled.assemble import ensure
    from bundled.catalog import WHISPER_BASE

    return ensure(WHISPER_BASE, MODELS_DIR)


def measure(running: Deployment, audio: Path, engine: str, mode: str) -> Row:
    http = requests.Session()
    http.headers.update(running.auth)
    presigned = http.post(
        f"{running.base}/v1/uploads/presign",
        json={"filename": audio.name, "size_bytes": audio.stat().st_size},
        timeout=30,
    ).json()
    requests.put(presigned["upload_url"], data=audio.read_bytes(), timeout=60).raise_for_status()
    created = http.post(
        f"{running.base}/v1/transcriptions",
        json={"object_key": presigned["object_key"], "language": "en"},
        timeout=30,
    )
    created.raise_for_status()
    job_id = created.json()["id"]
    started = time.monotonic()
    latencies: list[float] = []
    status = "queued"
    while status in ("queued", "processing"):
        for path in ("/healthz", "/v1/me"):
            before = time.monotonic()
            http.get(f"{running.base}{path}", timeout=120).raise_for_status()
            if status == "processing":
                latencies.append((time.monotonic() - before) * 1000)
        status = http.get(f"{running.base}/v1/transcriptions/{job_id}", timeout=120).json()["status"]
        time.sleep(0.02)
    if status != "completed":
        raise RuntimeError(f"{engine} {mode}: the job ended {status}")
    return Row(
        engine,
        mode,
        time.monotonic() - started,
        len(latencies),
        percentile(latencies, 50),
        percentile(latencies, 99),
        max(latencies),
    )


if __name__ == "__main__":
    raise SystemExit(main())
