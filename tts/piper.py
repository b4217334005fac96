"""Piper: the neural English voice, an ONNX model run with onnxruntime in this process.

Only the model is Piper's (data, CC0 for the bundled voice); the piper-tts program is GPL and is
not used. Per sentence the engine asks espeak-ng (a separate program) for IPA phonemes clause by
clause (``tts.phonemize``), turns them into the voice's ids, runs the model once, and shifts the
pitch for the chosen voice (``tts.piper_style``). The model loads on the first sentence and is
kept for the life of the process; onnxruntime sessions may be run from several threads at once.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tts.base import SpeechChunk
from tts.errors import EngineFailure, ModelNotAvailable, UnsupportedLanguage
from tts.phonemize import espeak_phonemes, phoneme_ids, split_clauses
from tts.piper_style import STYLES, PiperStyle, shift_pitch
from tts.text import split_sentences
from tts.voices import get_voice

log = logging.getLogger(__name__)

LANGUAGES = ("en",)
MAX_THREADS = 4  # a VITS decoder gains little past four; leave cores to the other workers


def default_threads() -> int:
    """Intra-op threads for one session: the machine's cores, at most MAX_THREADS."""
    return max(1, min(MAX_THREADS, os.cpu_count() or 1))


@dataclass(frozen=True)
class PiperModel:
    """A loaded voice: the onnxruntime session and what its ``.onnx.json`` says."""

    session: Any  # onnxruntime.InferenceSession
    id_map: dict[str, list[int]]
    sample_rate: int
    espeak_voice: str


def load_piper_model(folder: Path, name: str, *, threads: int) -> PiperModel:
    """Load ``folder/name.onnx`` with its config; ModelNotAvailable when missing or damaged."""
    onnx, config_path = folder / f"{name}.onnx", folder / f"{name}.onnx.json"
    for path in (onnx, config_path):
        if not path.is_file():
            raise ModelNotAvailable(
                f"The Piper voice file {path} is missing; run `nagovori models prepare` (or reinstall "
                "the voice package) to assemble it, or use the espeak engine.",
                model=f"piper-{name}",
                path=str(path),
                reason="missing",
            )
    import onnxruntime  # imported on first load: it is large and only this engine needs it

    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        id_map = {str(k): [int(i) for i in v] for k, v in config["phoneme_id_map"].items()}
        sample_rate = int(config["audio"]["sample_rate"])
        espeak_voice = str(config.get("espeak", {}).get("voice", "en-us"))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        session = onnxruntime.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelNotAvailable(
            f"The Piper voice in {folder} cannot be loaded ({type(exc).__name__}: {exc}); the files are "
            f"damaged. Delete {folder} and run `nagovori models prepare`, or use the espeak engine.",
            model=f"piper-{name}",
            path=str(folder),
            reason="damaged",
        ) from exc
    return PiperModel(session, id_map, sample_rate, espeak_voice)


class PiperEngine:
    """One Piper voice, loaded lazily and once, shared by all threads."""

    name = "piper"

    def __init__(
        self,
        locate: Callable[[], Path],
        model_name: str,
        *,
        threads: int | None = None,
        espeak_binary: str = "espeak-ng",
    ) -> None:
        self._locate = locate  # the voice's folder; may assemble it, may raise ModelNotAvailable
        self.model_name = model_name
        self.threads = threads or default_threads()
        self._espeak_binary = espeak_binary
        self._lock = threading.Lock()
        self._model: PiperModel | None = None

    @property
    def languages(self) -> tuple[str, ...]:
        return LANGUAGES

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> PiperModel:
        """The loaded voice, loading it on first use (one load however many threads ask)."""
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                folder = self._locate()
                log.info("loading Piper voice %s from %s (%d threads)", self.model_name, folder, self.threads)
                self._model = load_piper_model(folder, self.model_name, threads=self.threads)
        return self._model

    def synthesize(
        self, text: str, *, voice: str, language: str, speed: float = 1.0
    ) -> Iterator[SpeechChunk]:
        """Yield one chunk per sentence at the voice's rate (22 050 Hz for the bundled one)."""
        if language not in LANGUAGES:
            raise UnsupportedLanguage(
                f"The Piper voice {self.model_name} speaks English only, not '{language}'.",
                field="language",
                language=language,
                allowed=list(LANGUAGES),
            )
        get_voice(voice)
        return self._sentences(text, voice, speed)

    def _sentences(self, text: str, voice: str, speed: float) -> Iterator[SpeechChunk]:
        model = self.load()
        binary = shutil.which(self._espeak_binary)
        if binary is None:
            raise ModelNotAvailable(
                "Piper needs the espeak-ng program for phonemes: `apt-get install espeak-ng` "
                "(`make setup` does it).",
                model="espeak-ng",
            )
        # The voice table names the style: "en_US-joe-medium+onyx" is the joe voice in onyx's style.
        style = STYLES[get_voice(voice).speaker("piper", "en").rpartition("+")[2]]
        for sentence in split_sentences(text, "en"):
            clauses = split_clauses(sentence)
            phonemes = espeak_phonemes(binary, model.espeak_voice, clauses) if clauses else ""
            if not phonemes:
                continue
            pcm = self._infer(model, phoneme_ids(phonemes, model.id_map), style.length_scale / speed, style)
            pcm = shift_pitch(pcm, model.sample_rate, style.semitones)
            yield SpeechChunk(pcm=pcm, sample_rate=model.sample_rate, text=sentence)

    @staticmethod
    def _infer(model: PiperModel, ids: list[int], length_scale: float, style: PiperStyle) -> np.ndarray:
        inputs = {
            "input": np.asarray([ids], dtype=np.int64),
            "input_lengths": np.asarray([len(ids)], dtype=np.int64),
            "scales": np.asarray([style.noise_scale, length_scale, style.noise_w], dtype=np.float32),
        }
        try:
            (audio,) = model.session.run(None, inputs)
        except Exception as exc:
            raise EngineFailure(f"Piper failed on a sentence: {type(exc).__name__}: {exc}") from exc
        return np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0)
