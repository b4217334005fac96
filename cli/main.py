"""``nagovori`` entry point: parse, build settings, run the command, turn errors into one line.

Every command accepts ``--debug`` wherever it stands, names its own usage when given a flag it
does not know, says which data folder and database it uses, refuses a database that is not
migrated before touching it, and stops quietly when its reader goes away (``| head``)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from bundled.assemble import BundleError
from cli import accounts_cmd, jobs_cmd, ledger_cmd, migrate_cmd, serve_cmd, web_users_cmd, worker_cmd
from cli.database import require_schema
from cli.startup import announce, warn_misspelled
from core.errors import DomainError
from core.observability.logging_setup import configure_logging
from core.settings import Settings

PROG = "nagovori"
DEBUG_HELP = "show tracebacks and debug logs"
BROKEN_PIPE_EXIT = 128 + 13  # what a shell reports for a process its reader left (SIGPIPE)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Nagovori: a self-hostable speech platform.")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (serve_cmd, worker_cmd, migrate_cmd, accounts_cmd, jobs_cmd, ledger_cmd):
        module.register(subparsers)
    web_users_cmd.register(subparsers)  # adds web passwords to accounts_cmd's `users`
    for name in ("transcribe_cmd", "speak_cmd", "models_cmd", "bot_cmd"):
        _register_optional(subparsers, name)
    for command in _subcommands(parser):
        # SUPPRESS: an absent --debug leaves the top level's value alone.
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
        command.set_defaults(usage_of=command)  # the innermost command parsed wins
    return parser


def _subcommands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every command and sub-command parser below ``parser``."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):  # aliases share a parser
                found += [command, *_subcommands(command)]
    return found


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """``parse_args``, except that an unknown flag is reported with the usage of the command it
    was given to (argparse's sub-parsers leave it to the top level, which shows its own)."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        getattr(args, "usage_of", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


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
    args = parse(parser, argv)
    debug = args.debug or os.environ.get("NAGOVORI_DEBUG") == "1"
    try:
        settings = Settings.load()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "NAGOVORI_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        return _fail(f"invalid setting {field}: {first['msg']}")
    except OSError as exc:  # the data folder cannot be made or read (another user's, a file)
        return _fail(
            f"cannot use the data folder: {_data_folder_problem(exc)} (NAGOVORI_DATA_DIR chooses another)"
        )
    # Every logger, one stderr handler: NAGOVORI_LOG_FORMAT lines with request and job ids,
    # credentials redacted.
    configure_logging(settings.log_level, settings.log_format, debug=debug)
    warn_misspelled(os.environ)
    try:
        precheck = getattr(args, "precheck", None)
        if precheck is not None:  # a usage error is told before any database is touched
            precheck(args, settings)
        if getattr(args, "database", False):
            announce(settings)
        if getattr(args, "needs_schema", False):
            require_schema(settings)
        status = int(args.func(args, settings) or 0)
        sys.stdout.flush()  # inside the try: a reader that left is noticed here, not at exit
        return status
    except BrokenPipeError:
        _discard_stdout()
        return BROKEN_PIPE_EXIT
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
    if isinstance(exc, IsADirectoryError) and exc.filename:
        return f"{exc.filename} is a folder where a file is expected"
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}"
    return f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)"


def _data_folder_problem(exc: OSError) -> str:
    """A file where the data folder (or a folder above it) should be is named as such."""
    if isinstance(exc, (FileExistsError, NotADirectoryError)) and exc.filename:
        path = Path(exc.filename)
        file = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), path)
        return f"{file} is a file, not a folder"
    if isinstance(exc, PermissionError):  # a service's folder: its user runs the commands
        return f"{error_line(exc)}; run the command as the folder's owner (a server: sudo nagovori-admin …)"
    return error_line(exc)


def _discard_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered for the reader that left would otherwise
    fail again at exit, as an "Exception ignored" message."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):  # a stdout without a file (a test's capture)
        os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _fail(message: str) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
