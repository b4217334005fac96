"""``nagovori transcribe`` and ``nagovori models`` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from asr.registry import AsrEngines
from cli import transcribe_cmd
from cli.main import build_parser, main
from core.audio import encode_to_file, read_pcm
from core.errors import NagovoriError
from core.settings import Settings


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("NAGOVORI_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("NAGOVORI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NAGOVORI_ASR_ENGINE", "pocketsphinx")
    monkeypatch.chdir(tmp_path)  # no stray .env


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_is_alone_on_stdout(capsys: pytest.CaptureFixture[str], shared_audio: Path) -> None:
    code, out, err = run(capsys, "transcribe", str(shared_audio / "en" / "pisets-test_sound_en.wav"))
    assert code == 0, err
    assert out == "neural networks are good\n"
    assert err == ""


@pytest.mark.parametrize("fmt", ["json", "srt", "vtt"])
def test_structured_formats(capsys: pytest.CaptureFixture[str], shared_audio: Path, fmt: str) -> None:
    path = shared_audio / "en" / "s2p-add_apples_to_my_Shopping_List.wav"
    code, out, err = run(capsys, "transcribe", str(path), "--format", fmt, "--max-chars-per-line", "30")
    assert code == 0, err
    if fmt == "json":
        data = json.loads(out)
        assert data["language"] == "en" and data["segments"]
        assert data["text"] == " ".join(s["text"] for s in data["segments"])
    elif fmt == "srt":
        assert out.startswith("1\n00:00:0") and " --> " in out
        assert all(len(line) <= 30 for line in out.splitlines())
    else:
        assert out.startswith("WEBVTT\n\n00:00:0")


def test_stereo_split_with_custom_speakers(capsys: pytest.CaptureFixture[str], shared_audio: Path) -> None:
    path = shared_audio / "en" / "stereo_diarization.wav"
    code, out, err = run(capsys, "transcribe", str(path), "--channels", "split", "--speakers", "AI,User")
    assert code == 0, err
    assert {line.split(":")[0] for line in out.splitlines()} == {"AI", "User"}


def write_tone(path: Path, seconds: float) -> Path:
    t = np.arange(int(seconds * 16000)) / 16000
    encode_to_file((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000, "wav", path)
    return path


def bad_inputs(tmp: Path, shared_audio: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp / "empty.ogg"
    empty.write_bytes(b"")
    noise = tmp / "random.mp3"
    noise.write_bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    truncated = tmp / "truncated.flac"
    truncated.write_bytes((shared_audio / "en" / "jfk.flac").read_bytes()[:60])
    return {
        "empty": (empty, "invalid_audio"),
        "random": (noise, "invalid_audio"),
        "truncated": (truncated, "invalid_audio"),
        "too_short": (write_tone(tmp / "short.wav", 0.5), "audio_too_short"),
        "too_long": (write_tone(tmp / "long.wav", 4.0), "audio_too_long"),
        "mono_split": (write_tone(tmp / "mono.wav", 2.0), "invalid_request"),
    }


@pytest.mark.parametrize("case", ["empty", "random", "truncated", "too_short", "too_long", "mono_split"])
def test_bad_input_is_one_clear_line_and_no_engine_runs(
    capsys: pytest.CaptureFixture[str],
    shared_audio: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    path, code = bad_inputs(tmp_path, shared_audio)[case]
    monkeypatch.setenv("NAGOVORI_MAX_AUDIO_SECONDS", "3")
    engines_asked: list[object] = []
    monkeypatch.setattr(AsrEngines, "get", lambda self, model_id=None: engines_asked.append(model_id))
    args = ["transcribe", str(path)] + (["--channels", "split"] if case == "mono_split" else [])
    # The typed error...
    with pytest.raises(NagovoriError) as info:
        transcribe_cmd.run(build_parser().parse_args(args), Settings.load())
    assert info.value.code == code
    # ...which the command line turns into one line on stderr and a non-zero exit.
    status, out, err = run(capsys, *args)
    assert status != 0 and out == ""
    assert err.count("\n") == 1 and err.startswith("nagovori: error: ")
    assert engines_asked == []  # refused before any recognition (and so before any charge)


def test_unsupported_language_and_bad_limits_exit_non_zero(
    capsys: pytest.CaptureFixture[str], shared_audio: Path
) -> None:
    path = str(shared_audio / "en" / "pisets-test_sound_en.wav")
    for extra, message in (
        (["--language", "ru"], "only recognizes 'en'"),
        (["--format", "srt", "--max-lines", "9"], "max_lines"),
        (["--model", "whisper-../x"], "Unknown model"),
    ):
        status, out, err = run(capsys, "transcribe", path, *extra)
        assert status == 2 and out == "" and message in err


@pytest.mark.slow
def test_a_long_file_shows_progress_on_stderr(
    capsys: pytest.CaptureFixture[str], shared_audio: Path, tmp_path: Path
) -> None:
    clips = ["LJ001-0001.wav", "LJ001-0003.wav", "LJ001-0005.wav", "LJ001-0010.wav"]
    pcm = np.concatenate([read_pcm(shared_audio / "en" / c) for c in clips])
    long_file = tmp_path / "long.flac"
    encode_to_file(pcm, 16000, "flac", long_file)
    status, out, err = run(capsys, "transcribe", str(long_file))
    assert status == 0
    assert "printing" in out and "transcribing:" not in out
    lines = err.splitlines()
    assert lines and all(line.startswith("transcribing: ") for line in lines)
    percents = [int(line.split()[-1].rstrip("%")) for line in lines]
    assert percents == sorted(percents) and percents[-1] >= 90


def test_models_list(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "models", "list")
    assert status == 0, err
    header, *rows = out.splitlines()
    assert header.split()[:7] == ["KIND", "ENGINE", "MODEL", "ORIGIN", "SIZE", "PRESENT", "READY"]
    sphinx = next(r.split() for r in rows if "pocketsphinx-en" in r)
    assert sphinx[:6] == ["asr", "pocketsphinx", "pocketsphinx-en", "bundled", "-", "yes"]
    base = next(r.split() for r in rows if "whisper-base" in r)
    assert base[:8] == ["asr", "whisper", "whisper-base", "bundled", "150", "MB", "yes", "yes"]
    status, out, _ = run(capsys, "models", "list", "--json")
    listed = {row["model_id"]: row for row in json.loads(out)}
    assert listed["whisper-base"]["origin"] == "bundled" and listed["whisper-base"]["kind"] == "asr"
    assert listed["whisper-base"]["size_bytes"] == 150_218_479
    assert listed["piper-en_US-joe-medium"]["origin"] == "bundled"


def test_the_real_command_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAGOVORI_")}
    env["NAGOVORI_DATA_DIR"] = str(tmp_path)
    empty = tmp_path / "voice.ogg"
    empty.write_bytes(b"")
    done = subprocess.run(
        [sys.executable, "-m", "cli", "transcribe", str(empty)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and "empty" in done.stderr
