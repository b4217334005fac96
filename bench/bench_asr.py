"""Speech-to-text speed: real-time factor (audio seconds per wall second) and model load time.

Every available engine runs over the shared clips (read in place from ../shared/audio), with one
and with two threads: for whisper that is CTranslate2's thread count; PocketSphinx is single-
threaded per job, so "2 threads" means two jobs at once on one engine (throughput). Audio is
decoded once up front; the figures are recognition only, with the word error rate on the clips
whose reference is a verbatim transcript. Whisper runs the bundled base and tiny.en (assembled
into tests/.cache/models), and NAGOVORI_WHISPER_MODEL too when it names another local model.
Vosk runs when NAGOVORI_VOSK_MODEL is a local model directory.

    .venv/bin/python -m bench.bench_asr
"""

from __future__ import annotations

import csv
import os
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asr.base import AsrEngine, TranscriptionOptions  # noqa: E402
from asr.catalog import is_vosk_dir, is_whisper_dir  # noqa: E402
from asr.engines.pocketsphinx import PocketSphinxEngine  # noqa: E402
from asr.transcribe import transcribe_audio  # noqa: E402
from core.audio import read_pcm  # noqa: E402
from tests.wer import wer  # noqa: E402

SHARED_AUDIO = Path(os.environ.get("NAGOVORI_SHARED_AUDIO", ROOT.parent / "shared" / "audio"))
MODELS = ROOT / "tests" / ".cache" / "models"
# Their references are notes, not transcripts (see tests/integration/test_asr_whisper_quality.py).
NO_VERBATIM_REFERENCE = {
    "multilingual-en-de.mp3",
    "hotwords.mp3",
    "silero-vad-ru.wav",
    "stereo_diarization.wav",
}
REFERENCES: dict[str, str] = {}


def clips(language: str | None) -> list[tuple[str, np.ndarray]]:
    with (SHARED_AUDIO / "references.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for row in rows:
        if Path(row["file"]).name not in NO_VERBATIM_REFERENCE:
            REFERENCES[row["file"]] = row["reference"]
    chosen = [r["file"] for r in rows if language is None or r["lang"] == language]
    return [(name, read_pcm(SHARED_AUDIO / name)) for name in chosen]


def run_jobs(
    engine: AsrEngine, audio: list[tuple[str, np.ndarray]], jobs: int, language: str
) -> tuple[float, float]:
    """Wall seconds to transcribe every clip, spread over ``jobs`` threads, and the pooled WER."""
    options = TranscriptionOptions(language=language)
    queue = list(audio)
    lock = threading.Lock()
    heard: list[tuple[str, str]] = []

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                name, pcm = queue.pop()
            result = transcribe_audio(engine, _fixed(pcm), duration=pcm.size / 16000, options=options)
            if name in REFERENCES:
                heard.append((REFERENCES[name], result.text))

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, wer(heard)


def _fixed(pcm: np.ndarray) -> Callable[[Literal["mix", "split"]], list[np.ndarray]]:
    return lambda _channels: [pcm]


def timed_load(build: Callable[[], AsrEngine]) -> tuple[AsrEngine, float]:
    start = time.perf_counter()
    engine = build()
    return engine, time.perf_counter() - start


def main() -> int:
    if not SHARED_AUDIO.is_dir():
        print(f"shared clips not found at {SHARED_AUDIO}", file=sys.stderr)
        return 1
    english = clips("en")
    everything = clips(None)
    rows: list[tuple[Any, ...]] = []

    engine, load = timed_load(PocketSphinxEngine)
    seconds = sum(p.size for _, p in english) / 16000
    for jobs in (1, 2):
        wall, error_rate = run_jobs(engine, english, jobs, "en")
        rows.append(("pocketsphinx", "pocketsphinx-en", f"{jobs} job(s)", load, seconds, wall, error_rate))

    from asr.engines.whisper import WhisperEngine

    for name, path, audio, settings in _whisper_models(english, everything):
        seconds = sum(p.size for _, p in audio) / 16000
        for threads in settings:
            engine, load = timed_load(partial(WhisperEngine, f"whisper-{name}", path, threads=threads))
            wall, error_rate = run_jobs(engine, audio, 1, "auto")
            rows.append(("whisper", name, f"{threads} thread(s)", load, seconds, wall, error_rate))

    vosk_dir = Path(os.environ.get("NAGOVORI_VOSK_MODEL", "/nonexistent"))
    if is_vosk_dir(vosk_dir):
        from asr.catalog import vosk_language
        from asr.engines.vosk import VoskEngine

        language = vosk_language(vosk_dir.name) or "en"
        audio = clips(language)
        engine, load = timed_load(lambda: VoskEngine(f"vosk-{vosk_dir.name}", vosk_dir, language))
        seconds = sum(p.size for _, p in audio) / 16000
        for jobs in (1, 2):
            wall, error_rate = run_jobs(engine, audio, jobs, language)
            rows.append(("vosk", vosk_dir.name, f"{jobs} job(s)", load, seconds, wall, error_rate))
    else:
        print("vosk: no local model (set NAGOVORI_VOSK_MODEL to a model directory)")

    print(
        f"{'engine':<13} {'model':<24} {'parallelism':<12} {'load s':>7} {'audio s':>8} {'wall s':>7} "
        f"{'x realtime':>10} {'WER':>6}"
    )
    for engine_name, model, setting, load, audio_s, wall, error_rate in rows:
        print(
            f"{engine_name:<13} {model:<24} {setting:<12} {load:7.2f} {audio_s:8.1f} {wall:7.2f} "
            f"{audio_s / wall:10.2f} {error_rate:6.3f}"
        )
    print("WER: pooled over the clips with a verbatim reference (English only for English-only models).")
    return 0


def _whisper_models(
    english: list[tuple[str, np.ndarray]], everything: list[tuple[str, np.ndarray]]
) -> list[tuple[str, Path, list[tuple[str, np.ndarray]], tuple[int, ...]]]:
    """(name, folder, clips, thread counts) for the bundled models and a configured local one."""
    from bundled.assemble import ensure
    from bundled.catalog import WHISPER_BASE, WHISPER_TINY_EN

    found = [
        ("base", ensure(WHISPER_BASE, MODELS), everything, (1, 2)),
        ("tiny.en", ensure(WHISPER_TINY_EN, MODELS), english, (2,)),
    ]
    configured = Path(os.environ.get("NAGOVORI_WHISPER_MODEL", "/nonexistent"))
    if is_whisper_dir(configured):
        found.append((configured.name, configured, everything, (2,)))
    return found


if __name__ == "__main__":
    raise SystemExit(main())
