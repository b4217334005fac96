"""Request parsing with the pydantic models of ``api.schemas``: bad input becomes a 400 naming the field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

from aiohttp import web
from multidict import MultiMapping
from pydantic import BaseModel, ValidationError

from core.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)


# No body of ours nests beyond a few levels; deeper input is refused before anything (pydantic,
# the database's JSON encoder) walks it recursively.
MAX_JSON_DEPTH = 32


async def json_body(request: web.Request, model: type[M]) -> M:
    """The JSON body validated as ``model``."""
    raw = await request.read()
    try:
        data = json.loads(raw) if raw else None
    except RecursionError as exc:  # the C decoder's recursion guard: "[" * 5000
        raise _too_deep() from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    if _depth_exceeds(data, MAX_JSON_DEPTH):
        raise _too_deep()
    body = validate(model, data)  # a field's own rule speaks first
    nul = _nul_at(data)
    if nul is not None:
        # PostgreSQL's text cannot store U+0000: refused here, not as a database error (a 500).
        where = f"{nul}: " if nul else ""
        raise InvalidInput(f"{where}NUL characters (\\u0000) are not accepted.", field=nul or None)
    return body


def _too_deep() -> InvalidInput:
    return InvalidInput(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")


def _depth_exceeds(data: dict[str, Any], limit: int) -> bool:
    """Whether arrays/objects nest deeper than ``limit``; iterative, so any depth is safe to check."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _nul_at(data: dict[str, Any]) -> str | None:
    """The dotted path of the first string (or of the object whose key) containing U+0000, at
    any depth ("" for a key of the body itself); None when there is none."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path
        elif isinstance(value, dict):
            for key, child in value.items():
                if "\x00" in key:
                    return path
                stack.append((child, f"{path}.{key}" if path else key))
        elif isinstance(value, list):
            stack.extend((child, f"{path}.{index}") for index, child in enumerate(value))
    return None


def query_params(request: web.Request, model: type[M]) -> M:
    """The query string validated as ``model`` (list fields take repeated parameters)."""
    return validate(model, multi_to_dict(request.query, model))


def multi_to_dict(values: MultiMapping[str], model: type[BaseModel]) -> dict[str, Any]:
    """Repeated keys become lists for the model's list fields; otherwise the last value wins."""
    list_fields = {
        info.alias or name for name, info in model.model_fields.items() if "list[" in str(info.annotation)
    }
    return {key: values.getall(key) if key in list_fields else values.getall(key)[-1] for key in values}


def validate(model: type[M], data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc) from exc


def invalid(exc: ValidationError) -> InvalidInput:
    """One 400 for all of pydantic's complaints; the first names the field."""
    errors = [
        {"field": ".".join(str(p) for p in e["loc"]) or None, "message": e["msg"]} for e in exc.errors()
    ]
    first = errors[0]
    where = f"{first['field']}: " if first["field"] else ""
    return InvalidInput(f"{where}{first['message']}", field=first["field"], errors=errors)


def as_utc(value: datetime | date | None) -> datetime | None:
    """A query's date or date-time as an aware UTC datetime (naive means UTC; a date means midnight)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min, tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
