"""The realtime benchmark's client side: clips as a microphone would send them, one session
streamed at real time over aiohttp's WebSocket client with every frame's and message's time, and
each final word's delays (``bench_realtime``'s docstring explains the matching)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import math
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np

from bench.stack import SHARED_AUDIO, Deployment
from tests.wer import words

SAMPLE_RATE = 16000
BYTES_PER_SECOND = SAMPLE_RATE * 2
WAIT_FINISHED = 45.0  # give up on a session this long after its empty frame
SILENCE_AFTER = 1.0  # seconds of silence after each clip: the speaker pauses, then stops


@dataclass(frozen=True)
class Clip:
    name: str
    audio: bytes  # 16 kHz mono s16le, the trailing silence included
    reference: str

    @property
    def seconds(self) -> float:
        return len(self.audio) / BYTES_PER_SECOND


def load_clips(names: list[str]) -> list[Clip]:
    """Shared clips (read in place) as 16 kHz s16le with their silence, and their references."""
    from core.audio import read_pcm

    with (SHARED_AUDIO / "references.tsv").open(encoding="utf-8") as fh:
        references = {row["file"]: row["reference"] for row in csv.DictReader(fh, delimiter="\t")}
    silence = np.zeros(int(SILENCE_AFTER * SAMPLE_RATE), np.float32)
    found = []
    for name in names:
        samples = np.concatenate([read_pcm(SHARED_AUDIO / name), silence])
        audio = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
        found.append(Clip(name, audio, references.get(name, "")))
    return found


@dataclass
class Session:
    """One streamed session as the client saw it: when each frame went out, what came back when."""

    audio_seconds: float
    frame_bytes: int
    sent: list[float] = field(default_factory=list)
    messages: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    ended_at: float = math.inf  # the empty frame went out

    def sent_at(self, seconds: float) -> float:
        """When the frame holding the audio's last sample before ``seconds`` was sent."""
        index = math.ceil(seconds * BYTES_PER_SECOND / self.frame_bytes) - 1
        return self.sent[max(0, min(index, len(self.sent) - 1))]

    @property
    def finish_lag(self) -> float:
        """Seconds from the empty frame to ``finished`` (infinite without one)."""
        done = [at for at, body in self.messages if body.get("finished")]
        return done[0] - self.ended_at if done else math.inf

    @property
    def errors(self) -> list[str]:
        return [str(body["error"].get("code")) for _, body in self.messages if "error" in body]

    @property
    def text(self) -> str:
        return " ".join(body["text"] for _, body in self.messages if body.get("is_final") is True)


@dataclass(frozen=True)
class WordDelay:
    end: float  # the word's end in the audio
    partial: float | None  # seconds to the first partial containing it (None: none did)
    final: float


def word_delays(session: Session) -> list[WordDelay]:
    """Every final word's delays: from the frame that held its end to the first partial containing
    it (see ``first_partials``) and to its final."""
    finals = [(at, body) for at, body in session.messages if body.get("is_final") is True]
    seen = first_partials(session.messages)
    found: list[WordDelay] = []
    for (at, body), firsts in zip(finals, seen, strict=True):
        for (_, end), first in zip(final_words(body), firsts, strict=True):
            sent = session.sent_at(end)
            found.append(WordDelay(end, None if first is None else first - sent, at - sent))
    return found


def final_words(body: dict[str, Any]) -> list[tuple[str, float]]:
    """A final's normalized words, each with the end of the word it came from."""
    return [(t, float(w["end"])) for w in body.get("words", []) for t in words(str(w["text"]))]


def first_partials(messages: list[tuple[float, dict[str, Any]]]) -> list[list[float | None]]:
    """Per final, per word: when the first partial containing it arrived (None: no partial did).

    A partial received when ``j`` finals have arrived is the text not yet final: finals ``j``,
    ``j + 1``, ... in order (a pipelining engine leads it with the pending utterances' text, and
    the next utterance's partials may come before the previous final). It is prefix-aligned
    (``prefix_matches``) to the concatenated words of those finals, so a word counts as seen
    where the alignment pairs it with an equal word, whichever utterance it belongs to."""
    finals = [[t for t, _ in final_words(body)] for _, body in messages if body.get("is_final") is True]
    seen: list[list[float | None]] = [[None] * len(f) for f in finals]
    arrived = 0
    for at, body in messages:
        if body.get("is_final") is True:
            arrived += 1
        elif body.get("is_final") is False:
            open_words = [(k, i) for k in range(arrived, len(finals)) for i in range(len(finals[k]))]
            sequence = [finals[k][i] for k, i in open_words]
            for index in prefix_matches(words(str(body["text"])), sequence):
                k, i = open_words[index]
                if seen[k][i] is None:
                    seen[k][i] = at
    return seen


def prefix_matches(partial: list[str], final: list[str]) -> set[int]:
    """Indices of ``final``'s words paired with an equal word of ``partial`` when the partial is
    aligned to a prefix of the final (edit distance; the final's trailing words cost nothing)."""
    rows, cols = len(partial), len(final)
    cost = [[i + j if i == 0 or j == 0 else 0 for j in range(cols + 1)] for i in range(rows + 1)]
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            cost[i][j] = min(
                cost[i - 1][j - 1] + (partial[i - 1] != final[j - 1]), cost[i - 1][j] + 1, cost[i][j - 1] + 1
            )
    i, j = rows, min(range(cols + 1), key=lambda c: (cost[rows][c], abs(c - rows)))
    matched: set[int] = set()
    while i > 0 and j > 0:
        same = partial[i - 1] == final[j - 1]
        if cost[i][j] == cost[i - 1][j - 1] + (not same):
            if same:
                matched.add(j - 1)
            i, j = i - 1, j - 1
        elif cost[i][j] == cost[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return matched


async def stream(
    http: aiohttp.ClientSession, api: Deployment, model: str, clip: Clip, frame: float, delay: float = 0.0
) -> Session:
    """Send ``clip`` at real time in ``frame``-second frames, then the empty frame; collect every
    message until the server closes (or ``WAIT_FINISHED`` after the empty frame)."""
    await asyncio.sleep(delay)
    session = Session(clip.seconds, int(SAMPLE_RATE * frame) * 2)
    config = {"audio_format": "pcm_s16le", "sample_rate": SAMPLE_RATE, "language": "en", "model": model}
    async with http.ws_connect(f"{api.base}/v1/stt/realtime", headers=api.auth) as ws:
        await ws.send_json(config)
        reader = asyncio.create_task(_collect(ws, session.messages))
        step, started = session.frame_bytes, time.monotonic()
        with contextlib.suppress(ConnectionError):
            for n, offset in enumerate(range(0, len(clip.audio), step)):
                if reader.done():  # refused or failed: the server has closed
                    break
                await ws.send_bytes(clip.audio[offset : offset + step])
                session.sent.append(time.monotonic())
                await asyncio.sleep(max(0.0, started + (n + 1) * frame - time.monotonic()))
            await ws.send_bytes(b"")
            session.ended_at = time.monotonic()
        await asyncio.wait({reader}, timeout=WAIT_FINISHED)
        reader.cancel()
    return session


async def _collect(ws: aiohttp.ClientWebSocketResponse, into: list[tuple[float, dict[str, Any]]]) -> None:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.TEXT:
            into.append((time.monotonic(), message.json()))
