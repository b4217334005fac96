"""PocketSphinx live: the file path's utterance cuts and decodes, fed frame by frame.

Finals are decoded as a file job decodes them (the same endpointer cuts, one full-utterance decode
per utterance), so live text matches file text. That decode keeps the GIL for about half the
utterance's length, so where file jobs run PocketSphinx in engine processes the session hands each
utterance to one of them (``decode_elsewhere``) instead of decoding it here. Partials come from a
second decoder fed incrementally while the person speaks (short GIL bursts, 0.25 s of audio each):
keeping it apart leaves the final decoder's state exactly as in a file job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asr.base import SAMPLE_RATE, Segment
from asr.engines._common import library_errors
from asr.engines.pocketsphinx import _Run
from asr.streaming import MAX_LIVE_UTTERANCE_SECONDS, Result

PARTIAL_EVERY_SAMPLES = SAMPLE_RATE // 4  # a fresh partial hypothesis at most every 0.25 s


class PocketSphinxLive:
    """One live session on two pooled decoders (implements ``asr.streaming.Recognizer``)."""

    def __init__(
        self,
        decoders: tuple[Any, Any],
        model_id: str,
        give_back: Callable[[Any], None],
        decode_elsewhere: Callable[[bytes, float], list[Segment]] | None = None,
    ) -> None:
        """``decode_elsewhere(pcm, offset_seconds)``: the finals of one utterance, decoded outside
        this process (None: here, on the first decoder)."""
        self._decode_elsewhere = decode_elsewhere
        self._decoders = decoders
        self._model_id = model_id
        self._give_back = give_back
        final, partial = decoders
        with library_errors("pocketsphinx", model_id):
            from pocketsphinx import Endpointer

            self._endpointer = Endpointer(sample_rate=SAMPLE_RATE)
            final.reinit_feat()  # as a file job: the text never depends on earlier sessions
            partial.reinit_feat()
        self._final = _Run(final, model_id)
        self._partial = partial
        self._frame_bytes = int(self._endpointer.frame_bytes)
        self._carry = bytearray()
        self._pending = bytearray()
        self._start = self._position = 0  # samples: the open utterance's start, and the stream's end
        self._fed = 0  # bytes of ``_pending`` the partial decoder has seen
        self._partial_open = False
        self._last_partial = ""
        self._was_speech = False
        self._closed = False

    def accept(self, pcm: bytes) -> list[Result]:
        self._carry += pcm
        results: list[Result] = []
        size = self._frame_bytes
        while len(self._carry) >= size:
            frame = bytes(self._carry[:size])
            del self._carry[:size]
            results += self._frame(frame, last=False)
        return results

    def finish(self) -> list[Result]:
        results: list[Result] = []
        if self._carry:
            tail = bytes(self._carry)
            self._carry.clear()
            results += self._frame(tail, last=True)
        results += self._cut()
        return results

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._final.abandon()
        self._end_partial()
        for decoder in self._decoders:
            self._give_back(decoder)

    def _frame(self, data: bytes, *, last: bool) -> list[Result]:
        with library_errors("pocketsphinx", self._model_id):
            if last:
                self._endpointer.end_stream(data)
            else:
                self._endpointer.process(data)
            in_speech = bool(self._endpointer.in_speech)
        self._pending += data
        self._position += len(data) // 2
        results: list[Result] = []
        too_long = self._position - self._start >= MAX_LIVE_UTTERANCE_SECONDS * SAMPLE_RATE
        if (self._was_speech and not in_speech) or too_long:
            results += self._cut()
        elif in_speech and (len(self._pending) - self._fed) // 2 >= PARTIAL_EVERY_SAMPLES:
            results += self._hypothesis()
        self._was_speech = in_speech
        return results

    def _cut(self) -> list[Result]:
        """Close the utterance: its final, decoded as a file job decodes it."""
        self._end_partial()
        pcm, start = bytes(self._pending), self._start
        self._pending.clear()
        self._fed = 0
        self._start = self._position
        self._last_partial = ""
        if not pcm:
            return []
        if self._decode_elsewhere is not None:
            segments = self._decode_elsewhere(pcm, start / SAMPLE_RATE)
        else:
            segment = self._final._decode(pcm, start, True)
            segments = [segment] if segment is not None else []
        return [Result(s.text, True, s.start, s.end, s.words) for s in segments]

    def _hypothesis(self) -> list[Result]:
        with library_errors("pocketsphinx", self._model_id):
            if not self._partial_open:
                self._partial.start_utt()
                self._partial_open = True
            self._partial.process_raw(bytes(self._pending[self._fed :]), False, False)
            self._fed = len(self._pending)
            hyp = self._partial.hyp()
        text = " ".join(hyp.hypstr.split()) if hyp is not None else ""
        if not text or text == self._last_partial:
            return []
        self._last_partial = text
        offset = self._start / SAMPLE_RATE
        return [Result(text, False, round(offset, 3), round(self._position / SAMPLE_RATE, 3))]

    def _end_partial(self) -> None:
        if self._partial_open:
            self._partial_open = False
            with library_errors("pocketsphinx", self._model_id):
                self._partial.end_utt()
