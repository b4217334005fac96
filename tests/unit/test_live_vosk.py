"""``asr.engines.live_vosk`` against a stand-in for Vosk's ``KaldiRecognizer``: no Vosk model can be
had on this machine (model hubs are unreachable and none ships on PyPI), so this checks our side of
the documented API — frames cut as file jobs cut them, partials without repeats, finals with words,
the tail flushed by ``FinalResult`` — not Vosk's recognition."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator

import pytest

from asr.engines.live_vosk import VoskLive
from asr.engines.vosk import FRAME_SAMPLES

FRAME = FRAME_SAMPLES * 2  # bytes of one 0.2 s frame


class ScriptedRecognizer:
    """Vosk's recognizer API, answering from a script: a frame of b"\\x01" bytes is "speech", of
    zero bytes "silence"; an utterance ends at the first silence after speech."""

    def __init__(self, model: object, sample_rate: int) -> None:
        assert sample_rate == 16000
        self.frames: list[int] = []
        self.words: list[str] = []
        self.utterance = 0
        self.with_words = False

    def SetWords(self, on: bool) -> None:
        self.with_words = on

    def AcceptWaveform(self, frame: bytes) -> bool:
        self.frames.append(len(frame))
        if frame.strip(b"\x00"):
            self.words.append(f"w{self.utterance}x{len(self.words)}")
            return False
        return bool(self.words)

    def PartialResult(self) -> str:
        return json.dumps({"partial": " ".join(self.words[-2:])})

    def Result(self) -> str:
        return self._result()

    def FinalResult(self) -> str:
        return self._result()

    def _result(self) -> str:
        words = [
            {"conf": 0.9, "start": 0.2 * i, "end": 0.2 * i + 0.2, "word": w} for i, w in enumerate(self.words)
        ]
        text = " ".join(self.words)
        self.words, self.utterance = [], self.utterance + 1
        return json.dumps({"result": words, "text": text})


@pytest.fixture
def recognizers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ScriptedRecognizer]]:
    made: list[ScriptedRecognizer] = []

    def make(model: object, sample_rate: int) -> ScriptedRecognizer:
        made.append(ScriptedRecognizer(model, sample_rate))
        return made[-1]

    monkeypatch.setitem(sys.modules, "vosk", types.SimpleNamespace(KaldiRecognizer=make))
    yield made


def test_frames_partials_and_finals(recognizers: list[ScriptedRecognizer]) -> None:
    live = VoskLive(object(), "vosk-en", 16000)
    speech, silence = b"\x01" * FRAME, b"\x00" * FRAME
    results = live.accept(speech[:100])  # less than a frame: kept for the next call
    assert results == [] and recognizers[0].frames == [] and recognizers[0].with_words
    results += live.accept(speech[100:] + speech + silence)
    assert recognizers[0].frames == [FRAME, FRAME, FRAME]  # whole frames, as a file job cuts them
    assert [(r.text, r.is_final) for r in results] == [
        ("w0x0", False),
        ("w0x0 w0x1", False),
        ("w0x0 w0x1", True),
    ]
    assert [w.text for w in results[-1].words] == ["w0x0", "w0x1"] and results[-1].words[0].probability == 0.9
    # The same partial twice is sent once; the tail (half a frame) goes in at finish.
    recognizers[0].PartialResult = lambda: json.dumps({"partial": "same"})  # type: ignore[method-assign]
    assert [r.text for r in live.accept(speech + speech)] == ["same"]
    assert live.accept(speech[:100]) == []
    tail = live.finish()
    assert recognizers[0].frames[-1] == 100
    assert [(r.text, r.is_final) for r in tail] == [("w1x0 w1x1 w1x2", True)]
    live.close()


def test_finish_without_audio_sends_nothing(recognizers: list[ScriptedRecognizer]) -> None:
    live = VoskLive(object(), "vosk-en", 16000)
    assert live.finish() == []
