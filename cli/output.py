"""What the admin commands print: one JSON document (``--json``) or a table for people.

JSON field names are a contract (scripts read them): add fields, never rename them. Times are
ISO 8601 in UTC; tables show them to the minute.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

Row = Mapping[str, Any]


def print_json(document: Any) -> None:
    """``document`` as one JSON document on stdout (times as ISO 8601)."""
    print(json.dumps(document, indent=2, ensure_ascii=False, default=_json_value))


def print_table(rows: Sequence[Row], columns: Sequence[tuple[str, str]], *, empty: str) -> None:
    """Rows under upper-case headers, columns padded to their widest cell; ``columns`` are
    (header, key) pairs. ``empty`` is said (on stderr) when there is no row."""
    if not rows:
        print(empty, file=sys.stderr)
        return
    cells = [[header.upper() for header, _ in columns]]
    cells += [[cell(row.get(key)) for _, key in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        print("  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip())


def print_fields(row: Row, keys: Sequence[str]) -> None:
    """One ``key: value`` line per key, the values aligned."""
    width = max(len(key) for key in keys) + 1
    for key in keys:
        print(f"{key + ':':<{width}} {cell(row.get(key))}")


def cell(value: Any) -> str:
    """A value as a table shows it: "-" for nothing, times to the minute, numbers as they are."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.1f}"
    return " ".join(str(value).split())  # one line per row, whatever the value holds


def shorten(text: str | None, length: int) -> str | None:
    """``text`` cut to ``length`` characters (with "…") for a table column; JSON keeps it whole."""
    if text is None or len(text) <= length:
        return text
    return text[: length - 1] + "…"


def minutes(seconds: int | None) -> str | None:
    return None if seconds is None else f"{seconds / 60:.2f}"


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
