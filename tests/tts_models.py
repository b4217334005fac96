"""A tiny Silero-interface TTS model the tests build themselves, as a real ``torch.package`` file.

No Silero weights can be downloaded here, so ``tiny_silero`` packages a small ``torch.nn.Module``
with Silero's interface — ``speakers``, ``to(device)`` and ``apply_tts(text=…, ssml_text=…,
speaker=…, sample_rate=…, put_accent=…, put_yo=…)`` returning a 1-D float tensor — with
``PackageExporter`` under Silero's layout (``tts_models/model.pkl``, the model's code interned in
the package), so the engine loads it through the very path it uses for Silero's files.

Its "speech" is a carrier tone whose frequency is the speaker's (times the SSML pitch) and whose
amplitude, segment by segment, spells what it was asked to say: first a header (the put_accent
and put_yo flags, the speaker's index), then one segment per character (unknown characters are
dropped, as Silero does). ``decode`` reads all of it back, so tests can check the exact text the
engine sent ("з+амок", numbers as words), the speaker, the flags, the rate and the pitch.
Built once per recipe version, then cached.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BUILD_VERSION = 1  # bump to rebuild cached models after changing the recipe
MODULE = "nagovori_tiny_silero"
SYMBOLS = " абвгдеёжзийклмнопрстуфхцчшщъыьэюяabcdefghijklmnopqrstuvwxyz+.,!?…:;–-'"
SEGMENT_SECONDS = 0.02
RATE_FACTORS = {"x-slow": 2.0, "slow": 1.5, "medium": 1.0, "fast": 0.75, "x-fast": 0.5}
PITCH_FACTORS = {"x-low": 0.6, "low": 0.8, "medium": 1.0, "high": 1.25, "x-high": 1.5}
RU_SPEAKERS = ("aidar", "baya", "kseniya", "xenia", "eugene", "random")
EN_SPEAKERS = (*(f"en_{i}" for i in range(118)), "random")
CIS_SPEAKERS = ("ru_aigul", "ru_alexandr", "ru_dmitriy", "ru_zhadyra", "uz_dilnavoz")

SOURCE = f'''
"""A tiny text-to-"speech" model with Silero's interface (built by the Nagovori tests)."""
import math
import re

import torch

SYMBOLS = {SYMBOLS!r}
SEGMENT_SECONDS = {SEGMENT_SECONDS!r}
RATE_FACTORS = {RATE_FACTORS!r}
PITCH_FACTORS = {PITCH_FACTORS!r}


class TinySileroTTS(torch.nn.Module):
    def __init__(self, speakers):
        super().__init__()
        self.speakers = list(speakers)
        # A real parameter, so the package carries tensor data like Silero's do.
        self.gain = torch.nn.Parameter(torch.tensor([1.0]))

    def apply_tts(self, text=None, ssml_text=None, speaker="xenia", sample_rate=48000,
                  put_accent=True, put_yo=True, voice_path=None):
        rate, pitch = "medium", "medium"
        if ssml_text is not None:
            found = re.search(r"<prosody([^>]*)>(.*)</prosody>", ssml_text, re.S)
            inner = found.group(2) if found else re.sub(r"<[^>]+>", "", ssml_text)
            attributes = dict(re.findall(r'(\\w+)="([^"]*)"', found.group(1))) if found else {{}}
            rate, pitch = attributes.get("rate", rate), attributes.get("pitch", pitch)
            text = inner.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        if speaker not in self.speakers:
            raise ValueError(f"Speaker not in the supported list {{self.speakers}}")
        if sample_rate not in (8000, 24000, 48000):
            raise ValueError("sample_rate must be 8000, 24000 or 48000")
        chars = [SYMBOLS.index(c) for c in text.lower() if c in SYMBOLS]
        if not chars:
            raise ValueError("Model couldn't generate your text, probably it's too long")
        header = [int(bool(put_accent)) + 2 * int(bool(put_yo)), self.speakers.index(speaker)]
        levels = torch.tensor(header + chars, dtype=torch.float32)
        levels = 0.1 + 0.8 * levels / (len(SYMBOLS) - 1)
        seg = round(SEGMENT_SECONDS * sample_rate * RATE_FACTORS[rate])
        envelope = levels.repeat_interleave(seg)
        freq = (110.0 + 7.0 * self.speakers.index(speaker)) * PITCH_FACTORS[pitch]
        t = torch.arange(envelope.shape[0], dtype=torch.float32) / sample_rate
        # |sin| keeps every segment's peak at its level whatever the phase.
        return (envelope * torch.sin(math.pi * freq * t).abs() * self.gain).detach()
'''


def tiny_silero(cache: Path, model_id: str = "v4_ru", speakers: tuple[str, ...] = RU_SPEAKERS) -> Path:
    """The path of a tiny Silero-interface ``.pt`` package, building it on first use."""
    target = cache / f"silero-tiny-v{BUILD_VERSION}" / f"{model_id}.pt"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        built = Path(tmp) / target.name
        _build(Path(tmp), built, speakers)
        built.rename(target)  # atomic: a half-built model is never seen as cached
    return target


def _build(workdir: Path, out: Path, speakers: tuple[str, ...]) -> None:
    from torch.package import PackageExporter

    (workdir / f"{MODULE}.py").write_text(SOURCE, encoding="utf-8")
    sys.path.insert(0, str(workdir))
    try:
        module = importlib.import_module(MODULE)
        model = module.TinySileroTTS(speakers)
        # torch's own exporter still calls a deprecated storage API; that is not ours to fix.
        with warnings.catch_warnings(), PackageExporter(str(out)) as exporter:
            warnings.simplefilter("ignore", UserWarning)
            exporter.intern(MODULE)
            exporter.extern(["torch", "torch.**", "math", "re"])
            exporter.save_pickle("tts_models", "model", model)
    finally:
        sys.path.remove(str(workdir))
        sys.modules.pop(MODULE, None)


def install(cache: Path, models_dir: Path, model_id: str, speakers: tuple[str, ...] = RU_SPEAKERS) -> Path:
    """Copy a tiny model to where the engine looks: ``{models_dir}/silero/{model_id}.pt``."""
    dest = models_dir / "silero" / f"{model_id}.pt"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tiny_silero(cache, model_id, speakers), dest)
    return dest


@dataclass(frozen=True)
class Decoded:
    """What the tiny model was asked to say, read back from its audio."""

    put_accent: bool
    put_yo: bool
    speaker_index: int
    text: str
    segment_samples: int
    frequency: float


def decode(pcm: np.ndarray, sample_rate: int, rate: str = "medium") -> Decoded:
    """Read the header and the text back from the tiny model's output."""
    seg = round(SEGMENT_SECONDS * sample_rate * RATE_FACTORS[rate])
    if pcm.shape[0] % seg:
        raise ValueError(f"{pcm.shape[0]} samples is not a whole number of {seg}-sample segments")
    peaks = np.abs(pcm.reshape(-1, seg)).max(axis=1)
    indices = np.rint((peaks - 0.1) / 0.8 * (len(SYMBOLS) - 1)).astype(int)
    flags, speaker = int(indices[0]), int(indices[1])
    text = "".join(SYMBOLS[i] for i in indices[2:])
    # |sin(pi f t)| has f humps per second: count its downward crossings of half height.
    body = np.abs(pcm[2 * seg :] / np.repeat(np.maximum(peaks[2:], 1e-6), seg))
    crossings = np.count_nonzero((body[1:] < 0.5) & (body[:-1] >= 0.5))
    frequency = crossings / (body.shape[0] / sample_rate)
    return Decoded(bool(flags & 1), bool(flags & 2), speaker, text, seg, frequency)
