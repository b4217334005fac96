"""Run every ``bench/bench_*.py`` (or the ones named) and write their output to docs/BENCHMARKS.md.

Figures come only from a run, each section stamped with its date; naming benchmarks replaces only
their sections and keeps the others (with their own dates). A benchmark that fails is reported as
failed, never silently left out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "BENCHMARKS.md"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (e.g. asr tts); default: all")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()
    available = sorted(p.stem.removeprefix("bench_") for p in (ROOT / "bench").glob("bench_*.py"))
    chosen = args.names or available
    unknown = set(chosen) - set(available)
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(sorted(unknown))}; available: {', '.join(available)}",
            file=sys.stderr,
        )
        return 2
    sections = _existing_sections() if args.names else {}
    failed = 0
    for name in chosen:
        print(f"== {name}", flush=True)
        result = subprocess.run(
            [sys.executable, "-m", f"bench.bench_{name}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        print(result.stdout, end="")
        if result.returncode != 0:
            failed += 1
            print(result.stderr, file=sys.stderr)
        status = "" if result.returncode == 0 else f" — FAILED (exit {result.returncode})"
        sections[name] = (
            f"## {name}{status}\n\nCommand: `make bench` (or `.venv/bin/python -m bench {name}`), "
            f"run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n\n```\n{result.stdout.strip()}\n```\n"
        )
    if not args.no_write:
        ordered = [sections[name] for name in available if name in sections]
        REPORT.write_text("\n".join([_header(), *ordered]))
        print(f"written to {REPORT.relative_to(ROOT)}")
    return 1 if failed else 0


def _existing_sections() -> dict[str, str]:
    """The report's sections by benchmark name (``## name`` up to the next ``## ``)."""
    if not REPORT.is_file():
        return {}
    found: dict[str, str] = {}
    for chunk in REPORT.read_text().split("\n## ")[1:]:
        name = chunk.split(None, 1)[0] if chunk.strip() else ""
        if name:
            found[name] = "## " + chunk.rstrip("\n") + "\n"
    return found


def _header() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"# Benchmarks\n\nProduced by `make bench`; machine: {os.cpu_count()} CPU cores ({cpu}), "
        f"{_memory()}, Python {platform.python_version()}, {platform.system()} {platform.release()}.\n"
        "Each section's figures are from the run it is dated with; rerun to compare.\n"
    )


def _memory() -> str:
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        return f"{pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        return "unknown RAM"


if __name__ == "__main__":
    raise SystemExit(main())
