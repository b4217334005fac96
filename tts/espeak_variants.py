"""Nagovori's own espeak-ng voice variants, one per voice id, and the data folder that holds them.

espeak-ng's stock variants differ a lot in intelligibility: measured with a PocketSphinx round
trip on twelve everyday English sentences, the default voice and most variants (m1–m7, f1, f3, f4,
klatt…) lose 35–90% of the words; only f2 and f5 stay under ~20%. What they share is a little
"breath" (aspiration noise on the formants). The seven variants here keep that and differ in pitch
range and formant scale (the size of the vocal tract), so each voice is distinct and all stay
recognizable (word error rate 9–18% on the same test, against 21% for f2).

espeak-ng reads variants only from its data folder, so ``ensure_data_dir`` makes a private copy
of that folder made of symbolic links to the system's files plus these variants; the engine passes
it with ``--path``. Nothing under /usr is touched. The copy is built once per set of variants (its
folder is named after their hash) and reused by every later process, so a process that is killed
leaves nothing behind to pile up.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

PREFIX = "nagovori_"


@dataclass(frozen=True)
class Variant:
    """The parameters that make one voice: espeak-ng's variant-file settings."""

    gender: str  # "male" | "female"
    pitch: tuple[int, int]  # base and range top, Hz
    formant_scale: int  # percent: below 100 a larger (lower) vocal tract, above 100 a smaller one
    breath: int  # aspiration noise; what makes espeak-ng intelligible to recognizers (and people)


VARIANTS: dict[str, Variant] = {
    "alloy": Variant("female", (130, 200), 104, 3),
    "ash": Variant("male", (95, 145), 97, 2),
    "nova": Variant("female", (165, 240), 108, 4),
    "onyx": Variant("male", (78, 125), 96, 4),
    "echo": Variant("male", (100, 135), 100, 4),
    "shimmer": Variant("female", (150, 215), 108, 4),
    "fable": Variant("male", (90, 180), 102, 4),
}


def variant_name(voice_id: str) -> str:
    """The variant's file name, as used after ``+`` in an espeak-ng voice (``en-us+nagovori_ash``)."""
    return PREFIX + voice_id


def variant_text(voice_id: str, v: Variant) -> str:
    """The variant file, in espeak-ng's voice-file syntax."""
    f, b = v.formant_scale, v.breath
    formants = [(0, f - 5, 80, 150), (1, f, 80, 160), *((n, f, 70, 150) for n in (2, 3))]
    formants += [(n, f + 5, 80, 150) for n in (4, 5)] + [(n, f, 70, 150) for n in (6, 7, 8)]
    lines = [
        f"name nagovori-{voice_id}",
        "language variant",
        f"gender {v.gender}",
        f"pitch {v.pitch[0]} {v.pitch[1]}",
        "roughness 3",
        *(f"formant {n} {freq} {height} {width}" for n, freq, height, width in formants),
        "stressAdd 0 0 -10 -10 0 0 10 40",
        f"breath 0 {b} {b + 1} {b + 1} {b + 1} {b + 1} {b + 1} {b}",
        "echo 140 10",
        "consonants 125 125",
    ]
    return "\n".join(lines) + "\n"


def ensure_data_dir(system_data: Path, root: Path) -> Path:
    """The folder to pass as ``espeak-ng --path``: ``root/<hash>``, built on first use.

    Built in a scratch folder and renamed into place, so concurrent processes never see half of
    it; the one that loses the race throws its copy away."""
    digest = hashlib.sha256(str(system_data).encode())
    for voice_id, variant in sorted(VARIANTS.items()):
        digest.update(variant_text(voice_id, variant).encode())
    target = root / digest.hexdigest()[:16]
    if (target / "espeak-ng-data" / "voices" / "!v" / variant_name("alloy")).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    try:
        build_data_dir(system_data, scratch)
        os.rename(scratch, target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def build_data_dir(system_data: Path, target: Path) -> Path:
    """Create ``target/espeak-ng-data``: links to ``system_data`` plus our variants.

    Returns ``target``, the folder to pass as ``espeak-ng --path``."""
    data = target / "espeak-ng-data"
    variants = data / "voices" / "!v"
    variants.mkdir(parents=True, exist_ok=True)
    for entry in system_data.iterdir():
        if entry.name != "voices":
            _link(entry, data / entry.name)
    system_voices = system_data / "voices"
    if system_voices.is_dir():
        for entry in system_voices.iterdir():
            if entry.name != "!v":
                _link(entry, data / "voices" / entry.name)
        if (system_voices / "!v").is_dir():
            for entry in (system_voices / "!v").iterdir():
                _link(entry, variants / entry.name)
    for voice_id, variant in VARIANTS.items():
        (variants / variant_name(voice_id)).write_text(variant_text(voice_id, variant), encoding="utf-8")
    return target


def _link(source: Path, link: Path) -> None:
    if not link.exists() and not link.is_symlink():
        os.symlink(source, link)
