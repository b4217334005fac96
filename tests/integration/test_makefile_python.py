"""``make`` finds a Python 3.11 or stops with one line saying how to give it one, and ``make run``
keeps its data in the checkout's ``var/`` (``make -n``: nothing is installed or run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require

REPO = Path(__file__).resolve().parents[2]


def fake_python(path: Path, version: str) -> Path:
    """A program that answers ``-V`` like a Python of ``version`` and fails every other call."""
    path.write_text(f'#!/bin/sh\n[ "$1" = -V ] && echo "Python {version}" && exit 0\nexit 1\n')
    path.chmod(0o755)
    return path


def make(tmp_path: Path, *args: str, path: str) -> subprocess.CompletedProcess[str]:
    make_program = shutil.which("make")
    require(make_program is not None, "make is not installed")
    assert make_program is not None
    # Not the outer make's MAKELEVEL/MAKEFLAGS either (under `make test` this make would be a
    # sub-make, printing "Entering directory" lines of its own).
    drop = ("NAGOVORI_", "PYTHON", "MAKE", "MFLAGS")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    environment |= {"PATH": path, "HOME": str(tmp_path / "home")}  # no pyenv there
    return subprocess.run(
        [make_program, "-n", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    return folder


def test_without_a_python_311_make_says_what_to_do_in_one_line(tmp_path: Path, bin_dir: Path) -> None:
    fake_python(bin_dir / "python3", "3.12.1")  # the only Python on PATH
    done = make(tmp_path, "setup", f"VENV={tmp_path / 'venv'}", path=str(bin_dir))
    assert done.returncode != 0 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "Nagovori needs Python 3.11 and found none" in line and "make PYTHON=/path/to/python3.11" in line


def test_a_wrong_python_given_is_named(tmp_path: Path, bin_dir: Path) -> None:
    wrong = fake_python(bin_dir / "python3.12", "3.12.1")
    done = make(tmp_path, "run", f"VENV={tmp_path / 'venv'}", f"PYTHON={wrong}", path=str(bin_dir))
    [line] = done.stderr.splitlines()
    assert done.returncode != 0 and f"PYTHON={wrong} is Python 3.12.1" in line


def test_a_venv_of_another_python_is_named(tmp_path: Path, bin_dir: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake_python(venv / "bin" / "python", "3.12.1")
    done = make(tmp_path, "test", f"VENV={venv}", path=str(bin_dir))
    [line] = done.stderr.splitlines()
    assert done.returncode != 0 and f"{venv} was made with Python 3.12.1" in line and "make clean" in line
    assert make(tmp_path, "clean", f"VENV={venv}", path=str(bin_dir)).returncode == 0  # clean still works


def test_python_311_on_path_is_found_and_make_run_uses_the_repos_var(tmp_path: Path, bin_dir: Path) -> None:
    assert sys.version_info[:2] == (3, 11)
    (bin_dir / "python3.11").symlink_to(sys.executable)
    venv = tmp_path / "venv"
    done = make(tmp_path, "run", f"VENV={venv}", path=f"{bin_dir}:/usr/bin:/bin")
    assert done.returncode == 0, done.stderr
    assert f"{bin_dir / 'python3.11'} -m venv {venv}" in done.stdout
    assert f'NAGOVORI_DATA_DIR="{REPO / "var"}" {venv}/bin/nagovori serve' in done.stdout
