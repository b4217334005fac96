"""faster-whisper: the quality engine (CTranslate2 Whisper, int8 on CPU).

The stream is read in blocks of up to ten minutes, each cut at a pause, so a long recording never
sits in memory whole; each block goes through faster-whisper with its Silero VAD on (no text
invented over silence) and the tail of the previous block as context. The language is decided
once, by faster-whisper itself on the first block, within the caller's allow-list when there is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from asr.audio import pause_blocks
from asr.base import SAMPLE_RATE, Segment, TranscriptionInfo, TranscriptionOptions, Word
from asr.engines._common import library_errors
from asr.errors import UnsupportedLanguage

if TYPE_CHECKING:
    from asr.streaming import Recognizer

BLOCK_SECONDS = 600.0
CONTEXT_CHARS = 200  # how much of the previous block's text primes the next one
# Whisper drops disfluencies unless its context shows them (OpenAI's documented prompting trick).
VERBATIM_PROMPTS = {
    "en": "Umm, let me think like, hmm... Okay, here's what I'm, like, thinking. Uh, I I mean, you know.",
    "ru": "Ну, э-э, как бы, я думаю... Ну, типа, это самое, ммм, вот так.",
}


class WhisperEngine:
    """A loaded faster-whisper model (implements ``AsrEngine``)."""

    name = "whisper"

    def __init__(self, model_id: str, model_path: str | Path, *, threads: int = 0) -> None:
        self.model_id = model_id
        with library_errors(self.name, model_id):
            from faster_whisper import WhisperModel

            self._model: Any = WhisperModel(
                str(model_path), device="cpu", compute_type="int8", cpu_threads=threads
            )
        self.multilingual = bool(self._model.model.is_multilingual)
        self.languages: tuple[str, ...] = tuple(self._model.supported_languages)

    def transcribe(
        self, audio: Iterable[np.ndarray], *, duration: float, options: TranscriptionOptions
    ) -> tuple[TranscriptionInfo, Iterator[Segment]]:
        """Recognize block after block lazily; the language is decided on the first block."""
        self._check(options)
        blocks = pause_blocks(audio, block_seconds=BLOCK_SECONDS)
        first = next(blocks, None)
        if first is None:
            return TranscriptionInfo(self._fallback_language(options), 0.0, duration), iter(())
        language, probability, pieces = self._first_block(first[1], options)
        info = TranscriptionInfo(language=language, language_probability=probability, duration=duration)
        return info, self._segments(first, pieces, blocks, language, options)

    def open_stream(self, language: str, *, terms: tuple[str, ...] = ()) -> Recognizer:
        """A live recognizer on this loaded model (no second copy): ``asr.engines.live_whisper``;
        ``terms`` are its hotwords, as in file jobs."""
        from asr.engines.live_whisper import WhisperLive

        self._check(TranscriptionOptions(language=language))
        # None: detected on the first speech (English-only models take no language at all).
        fixed = language if self.multilingual and language != "auto" else None
        return WhisperLive(self._model, self.model_id, fixed, hotwords=" ".join(terms) or None)

    def _first_block(self, samples: np.ndarray, options: TranscriptionOptions) -> tuple[str, float, Any]:
        """The language, how sure we are, and the first block's pending segments.

        faster-whisper detects the language inside ``transcribe`` on the audio its VAD already
        kept, so auto-detection costs no separate VAD and feature pass. Only when an allow-list
        overrules its choice, or the verbatim prompt must be in the detected language, is the block
        started again with the language fixed.
        """
        detect = options.language == "auto" and self.multilingual
        if not detect:
            language = options.language if options.language != "auto" else "en"
            return language, 1.0, self._run(samples, language, options, "")
        pieces, info = self._start(samples, None, options, "")
        if info.duration_after_vad <= 0:
            return self._fallback_language(options), 0.0, iter(())  # no speech: nothing to recognize
        ranked = [(str(code), float(p)) for code, p in info.all_language_probs or ()]
        allowed = [(code, p) for code, p in ranked if not options.languages or code in options.languages]
        if not allowed:
            return self._fallback_language(options), 0.0, iter(())
        code, best = max(allowed, key=lambda item: item[1])
        total = sum(p for _, p in allowed)
        # Within an allow-list the figure is the share among the allowed languages.
        probability = round(best / total if total > 0 else 0.0, 4)
        if code != info.language or options.preset == "verbatim":
            pieces = self._run(samples, code, options, "")
        return code, probability, pieces

    def _run(self, samples: np.ndarray, language: str, options: TranscriptionOptions, context: str) -> Any:
        return self._start(samples, language, options, context)[0]

    def _start(
        self, samples: np.ndarray, language: str | None, options: TranscriptionOptions, context: str
    ) -> tuple[Any, Any]:
        with library_errors(self.name, self.model_id):
            return self._model.transcribe(
                samples,
                language=language if self.multilingual else None,
                task=options.task,
                vad_filter=True,
                word_timestamps=options.word_timestamps,
                initial_prompt=self._prompt(options, language or "en", context),
                hotwords=" ".join(options.terms) or None,
            )

    def _check(self, options: TranscriptionOptions) -> None:
        wanted = [options.language] if options.language != "auto" else list(options.languages)
        unknown = [code for code in wanted if code not in self.languages]
        if unknown:
            raise UnsupportedLanguage(
                f"The {self.model_id} model does not know the language(s) {unknown}.",
                engine=self.name,
                model=self.model_id,
                language=unknown[0],
            )
        if options.task == "translate" and not self.multilingual:
            raise UnsupportedLanguage(
                f"The English-only {self.model_id} model cannot translate; use a multilingual model.",
                engine=self.name,
                model=self.model_id,
                task="translate",
            )

    def _fallback_language(self, options: TranscriptionOptions) -> str:
        if options.language != "auto":
            return options.language
        return options.languages[0] if options.languages else "en"

    def _segments(
        self,
        first: tuple[float, np.ndarray],
        pieces: Any,
        blocks: Iterator[tuple[float, np.ndarray]],
        language: str,
        options: TranscriptionOptions,
    ) -> Iterator[Segment]:
        context = ""
        offset, samples = first
        while True:
            block_end = offset + samples.size / SAMPLE_RATE
            while True:
                with library_errors(self.name, self.model_id):
                    piece = next(pieces, None)
                if piece is None:
                    break
                segment = _segment(piece, offset, block_end)
                if segment is not None:
                    context = (context + " " + segment.text)[-CONTEXT_CHARS:]
                    yield segment
            following = next(blocks, None)
            if following is None:
                return
            offset, samples = following
            pieces = self._run(samples, language, options, context)

    def _prompt(self, options: TranscriptionOptions, language: str, context: str) -> str | None:
        parts = []
        if options.preset == "verbatim":
            parts.append(VERBATIM_PROMPTS.get(language, VERBATIM_PROMPTS["en"]))
        if options.prompt:
            parts.append(options.prompt.strip())
        if context:
            parts.append(context.strip())
        return " ".join(parts) or None


def _segment(piece: Any, offset: float, block_end: float) -> Segment | None:
    """A faster-whisper segment moved to the stream's clock and kept inside the audio."""

    def clock(seconds: float) -> float:
        return min(round(offset + float(seconds), 3), block_end)

    start = offset + float(piece.start)
    text = " ".join(str(piece.text).split())
    if start >= block_end or not text:
        return None  # a timestamp past the audio: nothing real can be there
    words = tuple(
        Word(
            start=clock(w.start),
            end=clock(w.end),
            text=str(w.word).strip(),
            probability=round(float(w.probability), 4),
        )
        for w in (piece.words or ())
        if str(w.word).strip()
    )
    return Segment(
        start=clock(piece.start), end=max(clock(piece.end), clock(piece.start)), text=text, words=words
    )
