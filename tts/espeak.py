"""espeak-ng: the offline engine that always works (the Debian package ``espeak-ng``).

Driven through its command line, one process per sentence, rather than through libespeak-ng:
the library keeps one global synthesizer per process (every call would have to hold one lock, so
two worker threads could never speak at once), and a crash in it would take the worker down with
it. A process costs ~10 ms against the ~100 ms a sentence takes to synthesize, runs in parallel,
and ``--stdout`` hands back a WAV we parse here.

Voices are espeak-ng's ``en-us`` / ``ru`` with Nagovori's variants (``tts.espeak_variants``),
built into a private data folder the first time the engine speaks. Speed scales espeak-ng's rate
(160 words per minute at 1.0, clamped to its 80–450). Russian stress marks are honoured by
handing espeak-ng the marked words as phonemes (``[[…]]``) with the stress moved to the marked
vowel; English ones are dropped.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tts.base import SpeechChunk
from tts.errors import EngineFailure, ModelNotAvailable, UnsupportedLanguage
from tts.espeak_variants import ensure_data_dir
from tts.stress import (
    ACUTE,
    count_ru_vowels,
    restress_phonemes,
    stressed_vowel,
    stressed_words,
    strip_stress,
)
from tts.text import split_sentences
from tts.voices import get_voice

log = logging.getLogger(__name__)

BASE_RATE = 160  # words per minute at speed 1.0; a little under espeak-ng's 175, for clarity
MIN_RATE, MAX_RATE = 80, 450
TIMEOUT_SECONDS = 60
LANGUAGES = ("ru", "en")
_DATA_AT = re.compile(r"Data at:\s*(\S.*)$", re.MULTILINE)


def parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float32 PCM and the sample rate from espeak-ng's 16-bit WAV (sizes may be "unknown")."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise EngineFailure("espeak-ng did not return WAV audio.")
    pos, rate, channels = 12, 0, 1
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = pos + 8
        if chunk == b"fmt ":
            channels = int.from_bytes(data[body + 2 : body + 4], "little")
            rate = int.from_bytes(data[body + 4 : body + 8], "little")
            if int.from_bytes(data[body + 14 : body + 16], "little") != 16:
                raise EngineFailure("espeak-ng returned audio that is not 16-bit PCM.")
        elif chunk == b"data":
            # Written to a pipe, the size field is a placeholder: take what is there.
            raw = data[body : min(len(data), body + size)]
            raw = raw[: len(raw) - len(raw) % (2 * channels)]
            pcm = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
            if channels > 1:
                pcm = pcm.reshape(-1, channels).mean(axis=1)
            if not rate:
                raise EngineFailure("espeak-ng returned WAV without a format chunk.")
            return pcm, rate
        pos = body + size + (size & 1)
    raise EngineFailure("espeak-ng returned WAV without audio data.")


class EspeakEngine:
    """espeak-ng through its command line; safe to share between threads."""

    name = "espeak"

    def __init__(
        self, binary: str | None = None, *, data_root: Path | None = None, base_rate: int = BASE_RATE
    ) -> None:
        self._binary_name = binary or "espeak-ng"
        # Where the private data folder (system data + our variants) is kept between runs.
        self.data_root = data_root or Path(tempfile.gettempdir()) / f"nagovori-espeak-{os.getuid()}"
        self.base_rate = base_rate
        self._lock = threading.Lock()
        self._setup: tuple[str, Path] | None = None  # (binary, folder for --path)

    @property
    def languages(self) -> tuple[str, ...]:
        return LANGUAGES

    def binary(self) -> str | None:
        """The espeak-ng program's path, or None when it is not installed."""
        return shutil.which(self._binary_name)

    def version(self) -> str | None:
        """espeak-ng's version line, or None when it is not installed."""
        binary = self.binary()
        if binary is None:
            return None
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.split("Data at:")[0].strip() or None

    def synthesize(
        self, text: str, *, voice: str, language: str, speed: float = 1.0
    ) -> Iterator[SpeechChunk]:
        """Yield one chunk per sentence (22 050 Hz, espeak-ng's rate)."""
        if language not in LANGUAGES:
            raise UnsupportedLanguage(
                f"espeak is set up for {', '.join(LANGUAGES)}, not '{language}'.",
                field="language",
                language=language,
                allowed=list(LANGUAGES),
            )
        binary, path = self._ready()
        speaker = get_voice(voice).speaker("espeak", language)
        rate = str(max(MIN_RATE, min(MAX_RATE, round(self.base_rate * speed))))
        for sentence in split_sentences(text, language):
            spoken = self._espeak_text(binary, path, sentence, language)
            command = [binary, f"--path={path}", "-b", "1", "-v", speaker, "-s", rate, "--stdout"]
            pcm, sample_rate = parse_wav(self._run(command, spoken))
            yield SpeechChunk(pcm=pcm, sample_rate=sample_rate, text=sentence)

    def _ready(self) -> tuple[str, Path]:
        """Find the program and build the private data folder, once."""
        if self._setup is not None:
            return self._setup
        with self._lock:
            if self._setup is None:
                binary = self.binary()
                if binary is None:
                    raise ModelNotAvailable(
                        "espeak-ng is not installed: install the Debian/Ubuntu package espeak-ng "
                        "(`apt-get install espeak-ng`; `make setup` does it), or set NAGOVORI_TTS_ENGINE=silero.",
                        model="espeak-ng",
                    )
                info = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
                found = _DATA_AT.search(info.stdout)
                if found is None or not Path(found.group(1).strip()).is_dir():
                    raise EngineFailure(
                        f"Cannot find espeak-ng's data folder (it said: {info.stdout.strip()!r})."
                    )
                if self.data_root.exists() and self.data_root.stat().st_uid != os.getuid():
                    raise EngineFailure(f"{self.data_root} belongs to another user; refusing to use it.")
                try:
                    folder = ensure_data_dir(Path(found.group(1).strip()), self.data_root)
                except OSError as exc:
                    raise EngineFailure(
                        f"Cannot prepare espeak-ng's voices in {self.data_root}: {exc}.",
                        path=str(self.data_root),
                    ) from exc
                self._setup = (binary, folder)
        return self._setup

    def _run(self, command: list[str], text: str) -> bytes:
        try:
            done = subprocess.run(
                command, input=text.encode("utf-8"), capture_output=True, timeout=TIMEOUT_SECONDS
            )
        except subprocess.TimeoutExpired as exc:
            raise EngineFailure(f"espeak-ng took longer than {TIMEOUT_SECONDS} s on one sentence.") from exc
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
            raise EngineFailure(f"espeak-ng failed: {message}")
        return done.stdout

    def _espeak_text(self, binary: str, path: Path, sentence: str, language: str) -> str:
        # "[[" would switch espeak-ng to phoneme input: user text must never do that.
        text = sentence.replace("[[", "[ [").replace("]]", "] ]")
        if ACUTE not in text:
            return text
        if language != "ru":
            return strip_stress(text)
        return self._stress_as_phonemes(binary, path, text)

    def _stress_as_phonemes(self, binary: str, path: Path, text: str) -> str:
        """Replace each stress-marked Russian word by its phonemes with the stress where marked."""
        marked = [(w, stressed_vowel(w)) for w in stressed_words(text)]
        plain_words = [found[0] for _, found in marked if found]
        phonemes: list[str] = []
        if plain_words:
            command = [binary, f"--path={path}", "-b", "1", "-v", "ru", "-q", "-x", "--sep= "]
            lines = self._run(command, "\n".join(plain_words)).decode("utf-8", "replace").splitlines()
            phonemes = [line.strip() for line in lines if line.strip()]
        if len(phonemes) != len(plain_words):  # cannot pair words with phonemes: fall back to plain
            log.debug("espeak-ng phonemes did not line up with %d stressed words", len(plain_words))
            phonemes = [""] * len(plain_words)
        replacements: dict[str, str] = {}
        it = iter(phonemes)
        for word, found in marked:
            if not found:
                replacements[word] = strip_stress(word)
                continue
            plain, index, letter = found
            spelled = restress_phonemes(next(it).split(), index, letter, count_ru_vowels(plain))
            replacements[word] = f"[[{spelled}]]" if spelled else plain
        words = "|".join(re.escape(w) for w in sorted(replacements, key=len, reverse=True))
        pattern = re.compile(rf"(?<![^\W\d_])(?:{words})(?![^\W\d_]|{ACUTE})")
        return strip_stress(pattern.sub(lambda m: replacements[m.group(0)], text))
