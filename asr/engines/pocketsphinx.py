"""PocketSphinx: offline US-English recognition with the model that ships in its wheel.

The whole stream is fed to the decoder (silence too: its language model copes better than with
clipped speech), and an utterance is closed wherever the built-in voice-activity endpointer sees
speech end — one segment per utterance, with word times from the decoder's alignment.
A decoder is not thread-safe and takes a moment to load, so each engine keeps a small pool:
one decoder per concurrent job, created on demand and reused for every later job.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from asr.audio import frames, to_pcm16
from asr.base import SAMPLE_RATE, Segment, TranscriptionInfo, TranscriptionOptions, Word
from asr.engines._common import library_errors, single_language

LANGUAGE = "en"
MODEL_ID = "pocketsphinx-en"


class PocketSphinxEngine:
    """The ``pocketsphinx-en`` engine (implements ``AsrEngine``)."""

    name = "pocketsphinx"
    languages: tuple[str, ...] = (LANGUAGE,)

    def __init__(self, model_id: str = MODEL_ID) -> None:
        self.model_id = model_id
        self._lock = threading.Lock()
        self._idle: list[Any] = [self._new_decoder()]  # load now: a broken install fails at startup

    def transcribe(
        self, audio: Iterable[np.ndarray], *, duration: float, options: TranscriptionOptions
    ) -> tuple[TranscriptionInfo, Iterator[Segment]]:
        """Recognize English speech; ``auto`` means English, any other language is refused."""
        language = single_language(self.name, self.model_id, LANGUAGE, options)
        info = TranscriptionInfo(language=language, language_probability=1.0, duration=duration)
        return info, self._segments(audio, options.word_timestamps)

    def _new_decoder(self) -> Any:
        with library_errors(self.name, self.model_id):
            from pocketsphinx import Decoder

            return Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")

    def _segments(self, audio: Iterable[np.ndarray], with_words: bool) -> Iterator[Segment]:
        with self._lock:
            decoder = self._idle.pop() if self._idle else None
        if decoder is None:
            decoder = self._new_decoder()
        run = _Run(decoder, self.model_id)
        try:
            yield from run.segments(audio, with_words)
        finally:
            run.abandon()
            with self._lock:
                self._idle.append(decoder)


class _Run:
    """One pass of one decoder over one stream."""

    def __init__(self, decoder: Any, model_id: str) -> None:
        self._decoder = decoder
        self._model_id = model_id
        self._frate = int(decoder.config["frate"])
        self._in_utterance = False

    def segments(self, audio: Iterable[np.ndarray], with_words: bool) -> Iterator[Segment]:
        with library_errors("pocketsphinx", self._model_id):
            from pocketsphinx import Endpointer

            endpointer = Endpointer(sample_rate=SAMPLE_RATE)
            frame_size = endpointer.frame_bytes // 2
            self._start()
        utterance_start = 0
        position = 0
        was_speech = False
        for frame in frames(audio, frame_size):
            data = to_pcm16(frame)
            with library_errors("pocketsphinx", self._model_id):
                if frame.size == frame_size:
                    endpointer.process(data)
                else:
                    endpointer.end_stream(data)
                self._decoder.process_raw(data, False, False)
                in_speech = bool(endpointer.in_speech)
            position += frame.size
            if was_speech and not in_speech:
                segment = self._finish(utterance_start, with_words)
                if segment is not None:
                    yield segment
                with library_errors("pocketsphinx", self._model_id):
                    self._start()
                utterance_start = position
            was_speech = in_speech
        segment = self._finish(utterance_start, with_words)
        if segment is not None:
            yield segment

    def abandon(self) -> None:
        """Close an utterance left open by a consumer that stopped early (keeps the decoder usable)."""
        if self._in_utterance:
            self._in_utterance = False
            try:
                self._decoder.end_utt()
            except RuntimeError:
                pass

    def _start(self) -> None:
        self._decoder.start_utt()
        self._in_utterance = True

    def _finish(self, start_sample: int, with_words: bool) -> Segment | None:
        with library_errors("pocketsphinx", self._model_id):
            self._decoder.end_utt()
            self._in_utterance = False
            hyp = self._decoder.hyp()
            text = " ".join(hyp.hypstr.split()) if hyp is not None else ""
            if not text:
                return None
            offset = start_sample / SAMPLE_RATE
            words = tuple(
                Word(
                    start=round(offset + seg.start_frame / self._frate, 3),
                    end=round(offset + (seg.end_frame + 1) / self._frate, 3),
                    text=_plain(seg.word),
                    probability=round(min(1.0, max(0.0, float(seg.prob))), 4),
                )
                for seg in self._decoder.seg()
                if not _is_filler(seg.word)
            )
        if not words:
            return None
        return Segment(
            start=words[0].start, end=words[-1].end, text=text, words=words if with_words else ()
        )


def _is_filler(token: str) -> bool:
    """Sentence marks, silence and noise: <s>, </s>, <sil>, [NOISE], ++BREATH++."""
    return token.startswith(("<", "[", "++"))


def _plain(token: str) -> str:
    """A dictionary word without its alternate-pronunciation mark: ``to(2)`` -> ``to``."""
    head, paren, _ = token.partition("(")
    return head if paren else token
