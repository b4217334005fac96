"""``nagovori speak``: text in, an audio file out; bad input exits non-zero with one clear line."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cli.main import main
from cli.speak_cmd import output_format
from core.audio import probe, read_pcm
from core.audio.decode import pcm_from_bytes
from tests.conftest import require
from tests.tts_models import RU_SPEAKERS, decode, install


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean NAGOVORI_ environment with its own data folder; espeak-ng required."""
    require(shutil.which("espeak-ng") is not None, "espeak-ng is not installed")
    for key in list(os.environ):
        if key.startswith("NAGOVORI_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("NAGOVORI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)  # no stray .env from the checkout
    return tmp_path


def test_speak_to_an_opus_file(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = env / "hello.ogg"
    assert (
        main(
            [
                "speak",
                "Hello there. This is Nagovori.",
                "--engine",
                "espeak",
                "--voice",
                "onyx",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    info = probe(out)
    assert (info.codec, info.sample_rate) == ("opus", 48000)
    assert 1.0 < info.duration_seconds < 6.0
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert summary.startswith(f"{out}: ") and "opus, espeak, voice onyx" in summary
    assert not list(env.glob("*.part"))


@pytest.mark.parametrize(
    ("name", "codec"), [("a.mp3", "mp3"), ("a.flac", "flac"), ("a.wav", "pcm_s16le"), ("a.aac", "aac")]
)
def test_the_format_follows_the_extension(env: Path, name: str, codec: str) -> None:
    assert main(["speak", "Привет, мир!", "--engine", "espeak", "-o", str(env / name)]) == 0
    assert probe(env / name).codec == codec


def test_format_option_wins_and_unknown_extensions_get_mp3() -> None:
    assert output_format("x.wav", "opus") == "opus"
    assert output_format("speech.bin", None) == "mp3"
    assert output_format("-", None) == "mp3"
    assert output_format("X.OGG", None) == "opus"


def test_stdin_to_stdout(
    env: Path, monkeypatch: pytest.MonkeyPatch, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("Текст из стандартного ввода.".encode())))
    assert main(["speak", "-", "--engine", "espeak", "--format", "wav", "-o", "-"]) == 0
    captured = capfdbinary.readouterr()
    audio = pcm_from_bytes(captured.out)
    assert audio.shape[0] / 16000 > 1.0
    assert b"stdout:" in captured.err


def test_speed_changes_the_length(env: Path) -> None:
    main(["speak", "The same sentence at two speeds.", "--engine", "espeak", "-o", str(env / "n.wav")])
    main(
        [
            "speak",
            "The same sentence at two speeds.",
            "--engine",
            "espeak",
            "--speed",
            "2",
            "-o",
            str(env / "f.wav"),
        ]
    )
    assert read_pcm(env / "f.wav").shape[0] < 0.7 * read_pcm(env / "n.wav").shape[0]


def test_silero_from_the_models_folder(env: Path, test_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install(test_cache, env / "models", "v4_ru", RU_SPEAKERS)
    monkeypatch.setenv("NAGOVORI_MODELS_DIR", str(env / "models"))
    out = env / "silero.pcm"
    assert main(["speak", "Зам+ок. Сто рублей.", "--voice", "nova", "-o", str(out)]) == 0
    pcm = np.frombuffer(out.read_bytes(), dtype="<i2").astype(np.float32) / 32767
    # The tiny model's first segments: its flags, its speaker, then the first letters.
    decoded = decode(pcm[: 6 * 960], 48000)
    assert RU_SPEAKERS[decoded.speaker_index] == "baya"
    assert decoded.text == "зам+"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["   "], "The text is empty"),
        (["x" * 5001], "the limit is 5000 characters"),
        (["Hi", "--voice", "bob"], "Unknown voice 'bob'"),
        (["Hi", "--speed", "9"], "The speed must be between 0.25 and 4.0"),
        (["Hi", "--language", "de"], "Language 'de' is not supported"),
        (["Hi", "--engine", "festival"], "Unknown TTS engine or model 'festival'"),
        (["Hi", "--engine", "silero"], "NAGOVORI_SILERO_MODEL"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(
    env: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = env / "never.mp3"
    assert main(["speak", *args, "-o", str(out)]) != 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("nagovori:")]
    assert len(lines) == 1 and message in lines[0], lines
    assert not out.exists()


def test_as_a_real_process(env: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "cli", "speak", "", "-o", str(env / "x.mp3")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert run.returncode != 0
    assert (
        run.stderr.strip().splitlines()[-1] == "nagovori: error: The text is empty: there is nothing to say."
    )
    ok = subprocess.run(
        [sys.executable, "-m", "cli", "speak", "Done.", "--engine", "espeak", "-o", str(env / "ok.mp3")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert probe(env / "ok.mp3").codec == "mp3"
