"""PocketSphinx: offline US-English recognition with the model that ships in its wheel.

The built-in voice-activity endpointer decides where an utterance ends; each utterance (with the
silence around it: the decoder copes better with that than with clipped speech) is decoded in one
go, so its cepstral mean comes from the utterance itself — one segment per utterance, with word
times from the decoder's alignment.
A decoder is not thread-safe and takes a moment to load, so each engine keeps a small pool:
one decoder per concurrent job, created on demand and reused for every later job.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from asr.audio import frames, to_pcm16
from asr.base import SAMPLE_RATE, Segment, TranscriptionInfo, TranscriptionOptions, Word
from asr.engines._common import library_errors, single_language

if TYPE_CHECKING:
    from asr.streaming import Recognizer

LANGUAGE = "en"
MODEL_ID = "pocketsphinx-en"
MAX_UTTERANCE_SAMPLES = 120 * SAMPLE_RATE  # a monologue without pauses is cut every two minutes


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

    def open_stream(
        self,
        language: str,
        *,
        terms: tuple[str, ...] = (),
        decode_elsewhere: Callable[[bytes, float], list[Segment]] | None = None,
    ) -> Recognizer:
        """A live recognizer (``asr.streaming``) on two of this engine's pooled decoders;
        ``decode_elsewhere`` decodes its finals out of this process (see ``live_pocketsphinx``).
        ``terms``: not a hint PocketSphinx takes (the session still spells them in the text)."""
        from asr.engines.live_pocketsphinx import PocketSphinxLive

        single_language(self.name, self.model_id, LANGUAGE, TranscriptionOptions(language=language))
        decoders = (self._checkout(), self._checkout())
        return PocketSphinxLive(decoders, self.model_id, self._checkin, decode_elsewhere)

    def _checkout(self) -> Any:
        with self._lock:
            decoder = self._idle.pop() if self._idle else None
        return decoder if decoder is not None else self._new_decoder()

    def _checkin(self, decoder: Any) -> None:
        with self._lock:
            self._idle.append(decoder)

    def _new_decoder(self) -> Any:
        with library_errors(self.name, self.model_id):
            from pocketsphinx import Decoder

            return Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")

    def _segments(self, audio: Iterable[np.ndarray], with_words: bool) -> Iterator[Segment]:
        decoder = self._checkout()
        run = _Run(decoder, self.model_id)
        try:
            yield from run.segments(audio, with_words)
        finally:
            run.abandon()
            self._checkin(decoder)


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
            # The front end's noise estimate adapts to what it hears; reset it so a job's text
            # never depends on the jobs this decoder ran before (measured: it does otherwise).
            self._decoder.reinit_feat()
        pending = bytearray()
        start = position = 0
        was_speech = False
        for frame in frames(audio, frame_size):
            data = to_pcm16(frame)
            with library_errors("pocketsphinx", self._model_id):
                if frame.size == frame_size:
                    endpointer.process(data)
                else:
                    endpointer.end_stream(data)
                in_speech = bool(endpointer.in_speech)
            pending += data
            position += frame.size
            if (was_speech and not in_speech) or position - start >= MAX_UTTERANCE_SAMPLES:
                segment = self._decode(bytes(pending), start, with_words)
                if segment is not None:
                    yield segment
                pending.clear()
                start = position
            was_speech = in_speech
        segment = self._decode(bytes(pending), start, with_words)
        if segment is not None:
            yield segment

    def abandon(self) -> None:
        """Close an utterance left open by a failure (keeps the decoder usable)."""
        if self._in_utterance:
            self._in_utterance = False
            with contextlib.suppress(RuntimeError):
                self._decoder.end_utt()

    def _decode(self, pcm: bytes, start_sample: int, with_words: bool) -> Segment | None:
        """Recognize one utterance in one go (full_utt: cepstral mean from this utterance alone)."""
        if not pcm:
            return None
        with library_errors("pocketsphinx", self._model_id):
            self._decoder.start_utt()
            self._in_utterance = True
            self._decoder.process_raw(pcm, False, True)
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
        return Segment(start=words[0].start, end=words[-1].end, text=text, words=words if with_words else ())


def _is_filler(token: str) -> bool:
    """Sentence marks, silence and noise: <s>, </s>, <sil>, [NOISE], ++BREATH++."""
    return token.startswith(("<", "[", "++"))


def _plain(token: str) -> str:
    """A dictionary word without its alternate-pronunciation mark: ``to(2)`` -> ``to``."""
    head, paren, _ = token.partition("(")
    return head if paren else token
