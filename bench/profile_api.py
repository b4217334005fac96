"""Where a request's time goes: ``nagovori serve`` under pyinstrument while ``GET /v1/me`` or
``POST /v1/uploads/presign`` is under load (the aiohttp client of ``bench_api_load``), on SQLite
(embedded) and PostgreSQL. One server per endpoint and database, so each profile holds one kind of
request; the text profiles are written to ``--out`` and their top lines printed.

    .venv/bin/python -m bench.profile_api [--seconds S] [--connections N] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api_load import PRESIGN_BODY, load  # noqa: E402
from bench.stack import deployment, scratch_postgres, workdir  # noqa: E402

ENDPOINTS = {"me": ("GET", "/v1/me", None), "presign": ("POST", "/v1/uploads/presign", PRESIGN_BODY)}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_api")
    parser.add_argument("--seconds", type=float, default=8, help="measured seconds per profile (default: 8)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(tempfile.gettempdir()) / "nagovori-profiles",
        help="folder for the text profiles (default: $TMPDIR/nagovori-profiles)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with workdir("profile-api") as directory, scratch_postgres() as postgres_url:
        databases = {"sqlite": "", **({"postgres": postgres_url} if postgres_url else {})}
        for database, url in databases.items():
            for name, (method, path, body) in ENDPOINTS.items():
                report = (args.out / f"{name}-{database}.txt").resolve()
                profiler = (
                    "-m",
                    "pyinstrument",
                    "-r",
                    "text",
                    "-o",
                    str(report),
                    "--no-color",
                    "-i",
                    "0.0005",
                )
                with deployment(
                    directory / f"{name}-{database}", database_url=url, python_args=profiler
                ) as api:
                    result = asyncio.run(
                        load(
                            method,
                            f"{api.base}{path}",
                            connections=args.connections,
                            seconds=args.seconds,
                            headers=api.auth,
                            body=body,
                        )
                    )
                print(f"{name} on {database}: {result.rps:.0f} req/s under the profiler -> {report}")
                print("\n".join(report.read_text().splitlines()[:60]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
