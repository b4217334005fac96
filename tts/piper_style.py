"""How each of the seven voices sounds on Piper's one-speaker voice: pace, variation and pitch.

The bundled voice (en_US joe) has one speaker, so the seven voices are made from it:

* Piper's own speaking parameters — ``length_scale`` (slower above 1), ``noise_scale`` (how much
  the timbre varies) and ``noise_w`` (how much the phoneme lengths vary);
* a pitch shift in semitones done with PyAV's filters: ``asetrate`` reads the audio faster or
  slower (pitch and formants move, like a smaller or larger speaker), ``aresample`` brings it back
  to the voice's rate and ``atempo`` restores the duration, so speed stays what the caller asked.

The shifts are spaced about two semitones apart, so the voices stay apart by ear and by median
pitch (``tests/integration/test_tts_piper.py`` measures it); the upper ones stay within half an
octave so that a recognizer still understands them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

import numpy as np


@dataclass(frozen=True)
class PiperStyle:
    """Piper's inference parameters and a pitch shift for one voice."""

    semitones: float
    length_scale: float = 1.0
    noise_scale: float = 0.667
    noise_w: float = 0.8


STYLES: dict[str, PiperStyle] = {
    "onyx": PiperStyle(-4.0, length_scale=1.08, noise_scale=0.6, noise_w=0.7),
    "echo": PiperStyle(-2.0, length_scale=1.05, noise_scale=0.5, noise_w=0.6),
    "ash": PiperStyle(0.0, length_scale=0.95, noise_scale=0.6, noise_w=0.8),
    "alloy": PiperStyle(1.5),
    "fable": PiperStyle(3.5, length_scale=1.0, noise_scale=0.75, noise_w=0.9),
    "shimmer": PiperStyle(5.0, length_scale=1.1, noise_scale=0.5, noise_w=0.6),
    "nova": PiperStyle(6.5, length_scale=0.95, noise_scale=0.7, noise_w=0.8),
}


def shift_pitch(pcm: np.ndarray, sample_rate: int, semitones: float) -> np.ndarray:
    """``pcm`` (mono float32) with its pitch moved by ``semitones``, same rate, same duration."""
    if semitones == 0 or pcm.size == 0:
        return pcm
    import av  # PyAV: heavy enough to load only when a voice is shifted
    from av.filter import Graph

    factor = 2.0 ** (semitones / 12.0)
    time_base = Fraction(1, sample_rate)
    graph = Graph()
    source = graph.add_abuffer(format="flt", sample_rate=sample_rate, layout="mono", time_base=time_base)
    chain = [
        source,
        graph.add("asetrate", str(round(sample_rate * factor))),
        graph.add("aresample", str(sample_rate)),
        graph.add("atempo", f"{1.0 / factor:.6f}"),
        graph.add("abuffersink"),
    ]
    for upstream, downstream in pairwise(chain):
        upstream.link_to(downstream)
    graph.configure()
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(pcm, dtype=np.float32).reshape(1, -1), format="flt", layout="mono"
    )
    frame.sample_rate = sample_rate
    frame.pts = 0
    frame.time_base = time_base
    graph.push(frame)
    graph.push(None)
    out: list[np.ndarray] = []
    while True:
        try:
            out.append(graph.pull().to_ndarray().reshape(-1))
        except (av.error.EOFError, BlockingIOError):
            break
    return np.concatenate(out).astype(np.float32, copy=False) if out else pcm[:0]
