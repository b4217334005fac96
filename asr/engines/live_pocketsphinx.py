"""PocketSphinx live: the file path's utterance cuts and decodes, fed frame by frame.

Finals are decoded as a file job decodes them (the same endpointer cuts, one full-utterance decode
per utterance), so live text matches file text. That decode keeps the GIL for about half the
utterance's length, so where file jobs run PocketSphinx in engine processes the session hands each
utterance to one of them (``decode_elsewhere``) instead of decoding it here. Partials come from a
second decoder fed incrementally while the person speaks (short GIL bursts, 0.25 s of audio each):
keeping it apart leaves the final decoder's state exactly as in a file job.

Finals decoded elsewhere are pipelined: the caller awaits ``accept`` before it reads the next
frame, so waiting there for the engine process would hold up the next utterance's partials by the
whole decode (measured on jfk.flac: the second utterance's words showed 1.5-3.3 s after they were
spoken; pipelined, 0.1-0.5 s). Each utterance goes to a thread of the session's own (one, so
finals stay in order) and ``accept`` hands out the finals that are ready. Until a final arrives its
utterance's last partial text leads every partial, so "finals + latest partial" never drops words.
"""

from __future__ import annotations

import contextvars
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from asr.base import SAMPLE_RATE, Segment
from asr.engines._common import library_errors
from asr.engines.pocketsphinx import _Run
from asr.streaming import MAX_LIVE_UTTERANCE_SECONDS, Result

PARTIAL_EVERY_SAMPLES = SAMPLE_RATE // 4  # a fresh partial hypothesis at most every 0.25 s
MAX_PENDING_FINALS = 4
"""Finals in flight per session; one more waits for the oldest (engine processes falling behind
slow the session down, as before, instead of piling up its audio)."""


@dataclass(frozen=True)
class _Pending:
    """An utterance whose final an engine process is decoding."""

    final: Future[list[Segment]]
    text: str  # its last partial: shown ahead of newer partials until the final arrives
    start: int  # samples


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
        self._finals: deque[_Pending] = deque()
        self._decoding: ThreadPoolExecutor | None = None  # started at the first utterance's end

    def accept(self, pcm: bytes) -> list[Result]:
        self._carry += pcm
        results = self._ready()
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
        while self._finals:
            results += self._collect(self._finals.popleft())
        return results

    def close(self) -> None:
        """Give the decoders back at once. A final being decoded is left to finish in the
        background (its engine process cannot be interrupted short of killing it; it never uses
        these decoders) and its thread then ends; finals not started are cancelled."""
        if self._closed:
            return
        self._closed = True
        self._finals.clear()
        if self._decoding is not None:
            self._decoding.shutdown(wait=False, cancel_futures=True)
        self._final.abandon()
        self._end_partial()
        for decoder in self._decoders:
            self._give_back(decoder)

    def _frame(self, data: bytes, *, last: bool) -> list[Result]:
        results = self._ready()
        with library_errors("pocketsphinx", self._model_id):
            if last:
                self._endpointer.end_stream(data)
            else:
                self._endpointer.process(data)
            in_speech = bool(self._endpointer.in_speech)
        self._pending += data
        self._position += len(data) // 2
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
        text, self._last_partial = self._last_partial, ""
        if not pcm:
            return []
        if self._decode_elsewhere is None:  # holds the GIL either way: no point in a thread
            segment = self._final._decode(pcm, start, True)
            return _finals([segment] if segment is not None else [])
        results: list[Result] = []
        if len(self._finals) >= MAX_PENDING_FINALS:
            results += self._collect(self._finals.popleft())
        if self._decoding is None:
            self._decoding = ThreadPoolExecutor(1, thread_name_prefix="pocketsphinx-final")
        # The caller's context (an isolated engine's stop check, if any) as if decoded here.
        final = self._decoding.submit(
            contextvars.copy_context().run, self._decode_elsewhere, pcm, start / SAMPLE_RATE
        )
        self._finals.append(_Pending(final, text, start))
        return results

    def _ready(self) -> list[Result]:
        """The finals decoded by now, in order; then, if the open text changed, a fresh partial."""
        results: list[Result] = []
        arrived = False
        while self._finals and self._finals[0].final.done():
            results += self._collect(self._finals.popleft())
            arrived = True
        if arrived:  # the shown partial led with that utterance's text: drop it
            results += self._partial_result()
        return results

    def _collect(self, pending: _Pending) -> list[Result]:
        """One utterance's finals (waits for them; a failed decode raises here)."""
        return _finals(pending.final.result())

    def _partial_result(self) -> list[Result]:
        """The open text: the last partials of utterances whose finals are still on their way,
        then the current hypothesis (nothing when there is none)."""
        texts = [p.text for p in self._finals if p.text]
        if self._last_partial:
            texts.append(self._last_partial)
        if not texts:
            return []
        start = self._finals[0].start if self._finals else self._start
        end = self._position / SAMPLE_RATE
        return [Result(" ".join(texts), False, round(start / SAMPLE_RATE, 3), round(end, 3))]

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
        return self._partial_result()

    def _end_partial(self) -> None:
        if self._partial_open:
            self._partial_open = False
            with library_errors("pocketsphinx", self._model_id):
                self._partial.end_utt()


def _finals(segments: list[Segment]) -> list[Result]:
    return [Result(s.text, True, s.start, s.end, s.words) for s in segments]
