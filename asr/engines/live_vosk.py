"""Vosk live: the recognizer's own partial results and utterance finals, frame by frame.

Frames are cut as a file job cuts them (0.2 s), so live finals match file text.
"""

from __future__ import annotations

import json
from typing import Any

from asr.engines._common import library_errors
from asr.engines.vosk import FRAME_SAMPLES, segment_from_result
from asr.streaming import Result


class VoskLive:
    """One live session on its own recognizer (implements ``asr.streaming.Recognizer``)."""

    def __init__(self, model: Any, model_id: str, sample_rate: int) -> None:
        self._model_id = model_id
        with library_errors("vosk", model_id):
            import vosk

            self._recognizer = vosk.KaldiRecognizer(model, sample_rate)
            self._recognizer.SetWords(True)
        self._frame_bytes = FRAME_SAMPLES * 2
        self._carry = bytearray()
        self._last_partial = ""

    def accept(self, pcm: bytes) -> list[Result]:
        self._carry += pcm
        results: list[Result] = []
        while len(self._carry) >= self._frame_bytes:
            frame = bytes(self._carry[: self._frame_bytes])
            del self._carry[: self._frame_bytes]
            results += self._feed(frame)
        return results

    def finish(self) -> list[Result]:
        results: list[Result] = []
        if self._carry:
            results += self._feed(bytes(self._carry))
            self._carry.clear()
        with library_errors("vosk", self._model_id):
            final = json.loads(self._recognizer.FinalResult())
        return results + _finals(final)

    def close(self) -> None:
        """Nothing pooled: the recognizer goes with the object."""

    def _feed(self, frame: bytes) -> list[Result]:
        with library_errors("vosk", self._model_id):
            if self._recognizer.AcceptWaveform(frame):
                self._last_partial = ""
                return _finals(json.loads(self._recognizer.Result()))
            partial = " ".join(str(json.loads(self._recognizer.PartialResult()).get("partial", "")).split())
        if not partial or partial == self._last_partial:
            return []
        self._last_partial = partial
        return [Result(partial, False)]


def _finals(result: dict[str, Any]) -> list[Result]:
    segment = segment_from_result(result, with_words=True)
    if segment is None:
        return []
    return [Result(segment.text, True, segment.start, segment.end, segment.words)]
