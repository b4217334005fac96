"""Vosk: the light, streaming engine (Kaldi models, one language per model).

Audio is fed in 0.2 s frames; every time the recognizer closes an utterance its JSON result
becomes a segment with word times, so text appears while the stream is still being read.
A model (hundreds of MB) is loaded once; each job gets its own cheap recognizer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from asr.audio import frames, to_pcm16
from asr.base import SAMPLE_RATE, Segment, TranscriptionInfo, TranscriptionOptions, Word
from asr.engines._common import library_errors, single_language
from asr.errors import EngineFailure, ModelNotAvailable

if TYPE_CHECKING:
    from asr.streaming import Recognizer

FRAME_SAMPLES = SAMPLE_RATE // 5


class VoskEngine:
    """A loaded Vosk model directory (implements ``AsrEngine``)."""

    name = "vosk"

    def __init__(self, model_id: str, model: Path | str, language: str | None) -> None:
        """Load ``model``: a model directory, or a language code for Vosk's own download."""
        self.model_id = model_id
        self.language = language
        self.languages: tuple[str, ...] = (language,) if language else ()
        self._model: Any = _load(model_id, model)

    def transcribe(
        self, audio: Iterable[np.ndarray], *, duration: float, options: TranscriptionOptions
    ) -> tuple[TranscriptionInfo, Iterator[Segment]]:
        """Recognize in the model's language; ``auto`` means that language."""
        language = single_language(self.name, self.model_id, self.language, options)
        info = TranscriptionInfo(language=language, language_probability=1.0, duration=duration)
        return info, self._segments(audio, options.word_timestamps)

    def open_stream(self, language: str, *, terms: tuple[str, ...] = ()) -> Recognizer:
        """A live recognizer (``asr.streaming``): a recognizer of its own on the loaded model.
        ``terms``: not a hint Vosk takes (the session still spells them in the text)."""
        from asr.engines.live_vosk import VoskLive

        single_language(self.name, self.model_id, self.language, TranscriptionOptions(language=language))
        return VoskLive(self._model, self.model_id, SAMPLE_RATE)

    def _segments(self, audio: Iterable[np.ndarray], with_words: bool) -> Iterator[Segment]:
        with library_errors(self.name, self.model_id):
            import vosk

            recognizer = vosk.KaldiRecognizer(self._model, SAMPLE_RATE)
            recognizer.SetWords(True)  # word times give the segment's start and end
        for frame in frames(audio, FRAME_SAMPLES):
            with library_errors(self.name, self.model_id):
                closed = recognizer.AcceptWaveform(to_pcm16(frame))
                result = recognizer.Result() if closed else None
            if result is not None:
                segment = segment_from_result(json.loads(result), with_words=with_words)
                if segment is not None:
                    yield segment
        with library_errors(self.name, self.model_id):
            final = recognizer.FinalResult()
        segment = segment_from_result(json.loads(final), with_words=with_words)
        if segment is not None:
            yield segment


def _load(model_id: str, model: Path | str) -> Any:
    import vosk

    vosk.SetLogLevel(-1)
    if isinstance(model, Path):
        try:
            return vosk.Model(str(model))
        except Exception as exc:
            raise EngineFailure(f"Vosk could not load the model at {model}: {exc}", model=model_id) from exc
    try:
        # Vosk looks in its cache, then downloads the small model; on an unknown language it
        # calls sys.exit, which must not end a server.
        return vosk.Model(lang=model)
    except (Exception, SystemExit) as exc:
        raise ModelNotAvailable(
            f"Vosk could not fetch a model for {model!r} ({type(exc).__name__}). Download one from "
            "https://alphacephei.com/vosk/models into NAGOVORI_MODELS_DIR or set NAGOVORI_VOSK_MODEL.",
            model=model_id,
            setting="NAGOVORI_VOSK_MODEL",
        ) from exc


def segment_from_result(result: dict[str, Any], *, with_words: bool) -> Segment | None:
    """A segment from one Vosk result: ``{"text": ..., "result": [{"word", "start", "end", "conf"}]}``.

    Vosk's times count from the start of the stream. A result without words (silence) is None.
    """
    entries = [e for e in result.get("result") or () if str(e.get("word", "")).strip()]
    text = " ".join(str(result.get("text", "")).split())
    if not entries or not text:
        return None
    words = tuple(
        Word(
            start=round(float(e["start"]), 3),
            end=round(float(e["end"]), 3),
            text=str(e["word"]).strip(),
            probability=round(float(e["conf"]), 4) if "conf" in e else None,
        )
        for e in entries
    )
    return Segment(start=words[0].start, end=words[-1].end, text=text, words=words if with_words else ())
