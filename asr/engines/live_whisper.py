"""Whisper live: the unconfirmed tail re-decoded about every second, words confirmed by agreement.

Whisper has no incremental decoder, so the session keeps the audio of the open utterance and
decodes it again each time about a second more has arrived (LocalAgreement-2, as in
whisper_streaming): a word is confirmed once two consecutive passes agree on it, and the partial
is the confirmed words followed by the latest pass's unconfirmed ones. Silero VAD (faster-whisper's
own, on onnxruntime) ends the utterance at a pause: its words become a final and the buffer is cut
there. A monologue without pauses is finalized at the last confirmed word once the buffer holds
``MAX_LIVE_UTTERANCE_SECONDS``, so each pass decodes at most about that much audio however long
the session runs. The model is the registry's loaded one, shared with file jobs.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from asr.base import SAMPLE_RATE, Word
from asr.engines._common import library_errors
from asr.streaming import MAX_LIVE_UTTERANCE_SECONDS, Result

PASS_EVERY_SAMPLES = SAMPLE_RATE  # re-decode after about a second of new audio
PAUSE_SAMPLES = int(0.3 * SAMPLE_RATE)  # silence after the last speech (past VAD's padding) ends it
HARD_LIMIT_SAMPLES = int((MAX_LIVE_UTTERANCE_SECONDS + 5) * SAMPLE_RATE)  # nothing agreed: cut anyway
KEEP_AFTER_SILENCE = int(0.3 * SAMPLE_RATE)  # a word may be starting at the very end
CONTEXT_CHARS = 200  # finalized text that primes the next utterance (as between file blocks)
SEAM_WORDS = 5  # a confirmed phrase repeated at the head of the next pass is dropped
_KEY = re.compile(r"[^\w']+")


class WhisperLive:
    """One live session on a shared faster-whisper model (implements ``asr.streaming.Recognizer``)."""

    def __init__(
        self, model: Any, model_id: str, language: str | None, *, hotwords: str | None = None
    ) -> None:
        """``language``: fixed (None: detected on the first speech, when the model is multilingual);
        ``hotwords``: the caller's terms, a hint for every pass (faster-whisper's, as in file jobs)."""
        self._model = model
        self._hotwords = hotwords
        self._model_id = model_id
        self._language = language
        self._buffer = np.zeros(0, np.float32)
        self._offset = 0.0  # stream seconds at ``_buffer[0]``
        self._unpassed = 0  # samples received since the last pass
        self._confirmed: list[Word] = []  # the open utterance's words two passes agreed on
        self._tentative: list[Word] = []  # the latest pass's words after those
        self._context = ""
        self._last_partial = ""

    def accept(self, pcm: bytes) -> list[Result]:
        samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], "<i2").astype(np.float32) / 32767.0
        self._buffer = np.concatenate([self._buffer, samples])
        self._unpassed += samples.size
        if self._unpassed < PASS_EVERY_SAMPLES:
            return []
        return self._pass(at_end=False)

    def finish(self) -> list[Result]:
        if not self._buffer.size:
            return self._finalize(self._confirmed + self._tentative, 0)
        return self._pass(at_end=True)

    def close(self) -> None:
        """Nothing pooled: the model is shared and the buffer goes with the object."""
        self._buffer = np.zeros(0, np.float32)

    def _pass(self, *, at_end: bool) -> list[Result]:
        """Decode the buffer once; confirm, finalize at a pause (or the length limit), or update
        the partial."""
        self._unpassed = 0
        speech = self._speech()
        if not speech:  # silence only: what was pending is final, the silence goes
            return self._finalize(self._confirmed + self._tentative, self._buffer.size - KEEP_AFTER_SILENCE)
        self._agree(self._decode())
        speech_end = int(speech[-1]["end"])
        if at_end or self._buffer.size - speech_end >= PAUSE_SAMPLES:
            cut = self._buffer.size if at_end else speech_end
            limit = self._offset + cut / SAMPLE_RATE
            return self._finalize([w for w in self._confirmed + self._tentative if w.start < limit], cut)
        if self._buffer.size > MAX_LIVE_UTTERANCE_SECONDS * SAMPLE_RATE and self._confirmed:
            done = self._confirmed
            cut = round((done[-1].end - self._offset) * SAMPLE_RATE)
            return self._finalize(done, cut, keep_tentative=True) + self._partial()
        if self._buffer.size > HARD_LIMIT_SAMPLES:  # the passes never agree: give up on agreement
            return self._finalize(self._confirmed + self._tentative, self._buffer.size)
        return self._partial()

    def _speech(self) -> list[dict[str, int]]:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        options = VadOptions(min_silence_duration_ms=250, speech_pad_ms=100)
        with library_errors("whisper", self._model_id):
            return list(get_speech_timestamps(self._buffer, options))

    def _decode(self) -> list[Word]:
        """The buffer's words on the stream's clock (decoded as file jobs decode: VAD on)."""
        with library_errors("whisper", self._model_id):
            pieces, info = self._model.transcribe(
                self._buffer,
                language=self._language,
                vad_filter=True,
                word_timestamps=True,
                initial_prompt=self._context or None,
                hotwords=self._hotwords,
            )
            pieces = list(pieces)
        if self._language is None and self._model.model.is_multilingual and pieces:
            self._language = str(info.language)  # decided once, on the first speech
        end = self._offset + self._buffer.size / SAMPLE_RATE
        return [
            Word(
                start=min(round(self._offset + float(w.start), 3), end),
                end=min(round(self._offset + float(w.end), 3), end),
                text=str(w.word).strip(),
                probability=round(float(w.probability), 4),
            )
            for piece in pieces
            for w in piece.words or ()
            if str(w.word).strip()
        ]

    def _agree(self, words: list[Word]) -> None:
        """LocalAgreement-2: the longest common prefix of this pass and the last one is confirmed."""
        fresh = words
        if self._confirmed:
            last = self._confirmed[-1].end
            fresh = [w for w in words if w.start > last - 0.1]
            # A word straddling the seam is decoded again: drop a repeat of the confirmed tail.
            if fresh and abs(fresh[0].start - last) < 1:
                for n in range(min(SEAM_WORDS, len(self._confirmed), len(fresh)), 0, -1):
                    if _keys(self._confirmed[-n:]) == _keys(fresh[:n]):
                        fresh = fresh[n:]
                        break
        agreed = 0
        for old, new in zip(_keys(self._tentative), _keys(fresh), strict=False):
            if old != new:
                break
            agreed += 1
        self._confirmed += fresh[:agreed]
        self._tentative = fresh[agreed:]

    def _finalize(self, words: list[Word], cut: int, *, keep_tentative: bool = False) -> list[Result]:
        """``words`` as a final; the buffer's first ``cut`` samples dropped."""
        cut = max(0, min(cut, self._buffer.size))
        self._buffer = self._buffer[cut:]
        self._offset = round(self._offset + cut / SAMPLE_RATE, 3)
        self._confirmed = []
        self._tentative = self._tentative if keep_tentative else []
        self._last_partial = ""
        text = " ".join(w.text for w in words)
        if not text:
            return []
        self._context = (self._context + " " + text)[-CONTEXT_CHARS:]
        return [Result(text, True, words[0].start, max(words[-1].end, words[0].start), tuple(words))]

    def _partial(self) -> list[Result]:
        text = " ".join(w.text for w in self._confirmed + self._tentative)
        if not text or text == self._last_partial:
            return []
        self._last_partial = text
        return [Result(text, False)]


def _keys(words: list[Word]) -> list[str]:
    """Words as compared between passes: case and punctuation do not count."""
    return [_KEY.sub("", w.text.lower()) for w in words]
