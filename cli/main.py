"""``nagovori`` entry point: parse, build settings, run the command, turn errors into one line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bundled.assemble import BundleError
from cli import accounts_cmd, ledger_cmd, migrate_cmd, serve_cmd, worker_cmd
from core.errors import DomainError
from core.redaction import RedactSecrets
from core.settings import Settings

PROG = "nagovori"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Nagovori: a self-hostable speech platform.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (serve_cmd, worker_cmd, migrate_cmd, accounts_cmd, ledger_cmd):
        module.register(subparsers)
    for name in ("transcribe_cmd", "speak_cmd", "models_cmd", "bot_cmd"):
        _register_optional(subparsers, name)
    return parser


def _register_optional(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str) -> None:
    """Commands whose engines land separately register when their module is present."""
    import importlib

    try:
        module = importlib.import_module(f"cli.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"cli.{name}":
            raise
        return
    module.register(subparsers)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.debug or os.environ.get("NAGOVORI_DEBUG") == "1"
    try:
        settings = Settings.load()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "NAGOVORI_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        return _fail(f"invalid setting {field}: {first['msg']}")
    logging.basicConfig(
        level=logging.DEBUG if debug else getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:  # whatever logger a credential reaches
        handler.addFilter(RedactSecrets())
    if not debug:  # faster-whisper logs every file's VAD and language at INFO: our own lines say it
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    try:
        return int(args.func(args, settings) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if debug:
            raise
        return _fail(error_line(exc))


def error_line(exc: Exception) -> str:
    """What the CLI says about a failed command: a domain error's own message (``DomainError``,
    whichever package raised it), what failed where for a system error, else that it was a bug."""
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, BundleError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}"
    return f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)"


def _fail(message: str) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
