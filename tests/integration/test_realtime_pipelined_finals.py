"""PocketSphinx live sessions whose finals an engine process decodes: the next utterance's partials
do not wait for the previous final, and the session's finals are still the synchronous run's.

Real engine (one engine process), real speech. The engine-process decode is held back by the test
(standing for a loaded machine): the first final until the test has seen the next utterance's
partial. If ``accept`` waited for the final, that partial could not come first and the hold would
run out at ``HOLD_SECONDS`` with the final ahead of it: the order is asserted, never a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from asr.base import Segment
from asr.errors import EngineFailure
from asr.isolated import IsolatedAsrEngines
from asr.registry import AsrConfig, AsrEngines
from asr.streaming import Recognizer, Result, _utterance_decoder
from core.audio import read_pcm

CLIP = "en/jfk.flac"  # 11 s, the endpointer cuts it into utterances at its pauses
STEP = 3200  # 0.1 s frames, as a client sends them
SPEED = 4  # times real time
HOLD_SECONDS = 30.0  # a held decode's bound (reached only when the recognizer blocks on it)
PAUSE = bytes(32000)  # 1 s of silence: the last utterance ends while audio still comes

Decode = Callable[[bytes, float], list[Segment]]


class Held:
    """The real engine-process decode, each call held back after decoding until ``release``."""

    def __init__(self, decode: Decode) -> None:
        self._decode = decode
        self.calls = 0
        self.entered = threading.Event()  # a decode is running (held)
        self.release = threading.Event()
        self.returned = threading.Event()  # a decode has given its finals back

    def __call__(self, pcm: bytes, offset: float) -> list[Segment]:
        self.calls += 1
        segments = self._decode(pcm, offset)
        self.entered.set()
        self.release.wait(HOLD_SECONDS)
        self.returned.set()
        return segments


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IsolatedAsrEngines]:
    config = AsrConfig(models_dir=tmp_path_factory.mktemp("models"), default_engine="pocketsphinx")
    isolated = IsolatedAsrEngines(config, processes=1)
    try:
        yield isolated
    finally:
        isolated.close()


@pytest.fixture(scope="module")
def audio(shared_audio: Path) -> bytes:
    """The clip as 16 kHz mono s16le, as a client sends it."""
    samples = np.clip(read_pcm(shared_audio / CLIP), -1, 1)
    return (samples * 32767).astype("<i2").tobytes()


@pytest.fixture(scope="module")
def synchronous(engines: IsolatedAsrEngines, audio: bytes) -> tuple[list[Result], list[Result]]:
    """The in-process recognizer's results (finals decoded in ``accept``): from ``accept``, and
    from ``finish``."""
    return run(open_live(engines), audio)


def open_live(engines: IsolatedAsrEngines, decode_elsewhere: Decode | None = None) -> Recognizer:
    """A PocketSphinx recognizer in this process; finals by ``decode_elsewhere`` if given."""
    engine = AsrEngines.get(engines, "pocketsphinx")  # the in-process engine, as open_stream takes
    if decode_elsewhere is None:
        recognizer: Recognizer = engine.open_stream("en")  # type: ignore[attr-defined]
    else:
        recognizer = engine.open_stream("en", decode_elsewhere=decode_elsewhere)  # type: ignore[attr-defined]
    return recognizer


def engine_process_decode(engines: IsolatedAsrEngines) -> Decode:
    """What ``open_stream`` gives a session where file jobs isolate PocketSphinx."""
    return _utterance_decoder(engines.get("pocketsphinx"), "en")


def run(
    recognizer: Recognizer,
    audio: bytes,
    *,
    speed: float = 0,
    seen: Callable[[list[Result]], None] | None = None,
) -> tuple[list[Result], list[Result]]:
    """Feed ``audio`` in 0.1 s frames (at ``speed`` times real time; 0: as fast as it takes them),
    then finish; the results of ``accept`` and of ``finish``."""
    fed: list[Result] = []
    started = time.monotonic()
    try:
        for n, offset in enumerate(range(0, len(audio), STEP)):
            results = recognizer.accept(audio[offset : offset + STEP])
            fed += results
            if seen is not None:
                seen(results)
            if speed:
                time.sleep(max(0.0, started + (n + 1) * STEP / 32000 / speed - time.monotonic()))
        return fed, recognizer.finish()
    finally:
        recognizer.close()


def finals(results: list[Result]) -> list[Result]:
    return [r for r in results if r.is_final]


def test_the_next_utterances_partials_arrive_before_the_previous_final(
    engines: IsolatedAsrEngines, audio: bytes, synchronous: tuple[list[Result], list[Result]]
) -> None:
    expected = synchronous[0] + synchronous[1]
    first = expected.index(finals(expected)[0])
    pending = [r for r in expected[:first] if not r.is_final][-1].text  # utterance 1's last partial
    next_partials = {r.text for r in expected[first:] if not r.is_final}
    assert len(finals(expected)) >= 2 and finals(synchronous[1]) and next_partials

    held = Held(engine_process_decode(engines))

    def watch(results: list[Result]) -> None:
        if any(not r.is_final and r.text.startswith(pending + " ") for r in results):
            held.release.set()  # the next utterance showed while the first final was held

    fed, rest = run(open_live(engines, held), audio, speed=SPEED, seen=watch)
    results = fed + rest

    # Partials of the next utterance came before the previous final, led by the pending text.
    first = results.index(finals(results)[0])
    ahead = [r for r in results[:first] if not r.is_final and r.text.startswith(pending + " ")]
    assert ahead, [r.text for r in results[: first + 1]]
    assert ahead[0].text[len(pending) + 1 :] in next_partials  # the pending text, then the new one
    assert all(r.start == 0.0 for r in ahead)  # the pending utterance's start (the stream's)
    # Once its final is out, the pending text leads no partial.
    assert not [r for r in results[first:] if not r.is_final and r.text.startswith(pending + " ")]
    # Finals: in order, not overlapping, the synchronous run's; finish gave the rest.
    got = finals(results)
    assert [f.text for f in got] == [f.text for f in finals(expected)]
    assert all(f.start <= f.end for f in got) and all(a.end <= b.start for a, b in pairwise(got))
    assert len(finals(rest)) >= len(finals(synchronous[1])) >= 1
    assert all(r.end >= r.start for r in results)


def test_close_during_a_final_returns_at_once_and_leaks_no_thread(
    engines: IsolatedAsrEngines, audio: bytes, synchronous: tuple[list[Result], list[Result]]
) -> None:
    with_pause = audio + PAUSE  # every utterance ends (and is queued) while audio is accepted
    expected = synchronous[0] + synchronous[1]
    assert len(finals(expected)) >= 2
    held = Held(engine_process_decode(engines))
    engines.get("pocketsphinx")  # the engine process is up: its threads are not the session's
    threads = threading.active_count()
    recognizer = open_live(engines, held)
    try:
        for offset in range(0, len(with_pause), STEP):
            assert not finals(recognizer.accept(with_pause[offset : offset + STEP]))
        assert held.entered.wait(HOLD_SECONDS)
    finally:
        recognizer.close()
    assert not held.returned.is_set()  # close did not wait for the held decode
    # The decoders it gave back are usable while the abandoned final is still decoding.
    again = run(open_live(engines), audio)
    assert [r.text for r in finals(again[0] + again[1])] == [r.text for r in finals(expected)]

    held.release.set()
    for _ in range(300):
        if threading.active_count() <= threads:
            break
        time.sleep(0.1)
    assert threading.active_count() == threads
    assert held.calls == 1  # the utterances queued behind it were cancelled, never decoded


def test_a_failed_final_raises_from_the_recognizer(engines: IsolatedAsrEngines, audio: bytes) -> None:
    def broken(pcm: bytes, offset: float) -> list[Segment]:
        raise EngineFailure("The engine process stopped unexpectedly (exit code -9).")

    with pytest.raises(EngineFailure, match="stopped unexpectedly"):
        run(open_live(engines, broken), audio + PAUSE)
