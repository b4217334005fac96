"""Helpers over PCM streams: validation, fixed-size frames, int16 bytes, and pause-aligned blocks.

Engines read audio as an iterable of float32 chunks of any length; these helpers never hold more
than one frame or one block in memory, so a four-hour file streams through in constant space.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from asr.base import SAMPLE_RATE
from asr.errors import InvalidOption


def mono_chunks(audio: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Each chunk as a contiguous 1-D float32 array; a (1, n) chunk is flattened."""
    for chunk in audio:
        array = np.asarray(chunk)
        if array.ndim == 2 and array.shape[0] == 1:
            array = array[0]
        if array.ndim != 1:
            raise InvalidOption(f"Engines take mono audio chunks of shape (n,), not {array.shape}.")
        if array.size:
            yield np.ascontiguousarray(array, dtype=np.float32)


def frames(audio: Iterable[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Re-cut a stream of chunks into frames of exactly ``size`` samples (the last may be shorter)."""
    if size <= 0:
        raise ValueError("frame size must be positive")
    pending = np.empty(0, dtype=np.float32)
    for chunk in mono_chunks(audio):
        pending = np.concatenate((pending, chunk)) if pending.size else chunk
        start = 0
        while pending.size - start >= size:
            yield pending[start : start + size]
            start += size
        pending = pending[start:]
    if pending.size:
        yield pending


def to_pcm16(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] as little-endian signed 16-bit bytes (what Vosk and Sphinx read)."""
    clipped = np.clip(samples, -1.0, 1.0)
    return (clipped * 32767.0).round().astype("<i2").tobytes()


def pause_blocks(
    audio: Iterable[np.ndarray], *, block_seconds: float, search_seconds: float = 10.0
) -> Iterator[tuple[float, np.ndarray]]:
    """Group the stream into blocks of about ``block_seconds``, each cut at a pause.

    Yields ``(offset_seconds, samples)``. The cut falls on the quietest 50 ms window in the last
    ``search_seconds`` of the block, so a word is not split between two blocks; the rest is
    carried into the next block.
    """
    target = int(block_seconds * SAMPLE_RATE)
    search = min(int(search_seconds * SAMPLE_RATE), target // 2)
    pending: list[np.ndarray] = []
    pending_n = 0
    offset = 0
    for chunk in mono_chunks(audio):
        pending.append(chunk)
        pending_n += chunk.size
        while pending_n >= target + search:
            joined = np.concatenate(pending)
            cut = _quietest_cut(joined, target - search, target + search)
            yield offset / SAMPLE_RATE, joined[:cut]
            offset += cut
            rest = joined[cut:]
            pending, pending_n = [rest], rest.size
    if pending_n:
        yield offset / SAMPLE_RATE, np.concatenate(pending)


def _quietest_cut(samples: np.ndarray, lo: int, hi: int) -> int:
    """The sample index in [lo, hi) at the centre of the window with the least energy."""
    window = SAMPLE_RATE // 20
    region = samples[lo:hi]
    n_windows = region.size // window
    if n_windows < 1:
        return hi
    energy = np.square(region[: n_windows * window].reshape(n_windows, window)).sum(axis=1)
    return lo + int(np.argmin(energy)) * window + window // 2
