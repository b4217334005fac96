"""The OpenAPI 3.1 document, generated from the routes and the pydantic models the handlers use.

Each handler carries an ``Operation`` (``@operation(...)``): its summary, the body and query models
it validates with, and the models of its answers. ``build_openapi`` walks the app's router, so a
route without documentation cannot hide, and the schemas cannot drift from the validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api.schemas.common import Error, OpenAIError

H = TypeVar("H", bound=Callable[..., Any])

ERROR_TEXT = {
    400: "Invalid request (bad parameters, unknown model, audio too short or too long, two different credentials)",
    401: "Authentication required or invalid credentials",
    402: "Not enough minutes (`required_seconds`, `available_seconds`)",
    403: "Not allowed",
    404: "Not found (or not yours)",
    409: "The resource's state does not allow this",
    410: "Gone: deleted after the retention period (`audio_expired`)",
    413: "The file or body is too large, or over your storage quota (`storage_quota_exceeded`)",
    429: "Rate limited (requests per minute, too many jobs, or too many stored files); see `Retry-After`",
    503: "A dependency or model is not available",
}


@dataclass(frozen=True)
class Body:
    """A non-JSON payload: its content type and, optionally, a model describing its form fields."""

    content_type: str
    model: type[BaseModel] | None = None
    schema: Mapping[str, Any] | None = None
    description: str = ""
    variants: tuple[type[BaseModel], ...] = ()  # one of these models
    alternatives: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # other content types


@dataclass(frozen=True)
class Operation:
    summary: str
    tags: tuple[str, ...]
    description: str = ""
    body: type[BaseModel] | Body | None = None
    query: type[BaseModel] | None = None
    responses: Mapping[int, type[BaseModel] | Body | str] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    auth: bool = True
    openai_errors: bool = False


def operation(
    summary: str,
    *,
    tags: tuple[str, ...],
    description: str = "",
    body: type[BaseModel] | Body | None = None,
    query: type[BaseModel] | None = None,
    responses: Mapping[int, type[BaseModel] | Body | str] | None = None,
    errors: tuple[int, ...] = (),
    auth: bool = True,
    openai_errors: bool = False,
) -> Callable[[H], H]:
    """Attach the documentation of a handler (the handler itself is unchanged)."""
    spec = Operation(
        summary, tags, description, body, query, dict(responses or {}), errors, auth, openai_errors
    )

    def mark(handler: H) -> H:
        handler.__openapi__ = spec  # type: ignore[attr-defined]
        return handler

    return mark


Refs = Mapping[Any, dict[str, Any]]  # (model, mode) → its "$ref" schema
_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def build_openapi(app: web.Application, *, title: str, version: str, description: str) -> dict[str, Any]:
    """The document for every documented route of ``app``."""
    operations: list[tuple[str, str, Operation]] = []
    for route in app.router.routes():
        spec = getattr(route.handler, "__openapi__", None)
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("formatter") or info.get("path")
        if spec is None or path is None or route.method == "HEAD":
            continue
        operations.append((_PATH_PARAM.sub(r"{\1}", path), route.method.lower(), spec))
    models = _models(operations)
    defs_by_model, components = _components(models)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, spec in sorted(operations, key=lambda o: (o[0], o[1])):
        paths.setdefault(path, {})[method] = _operation(path, method, spec, defs_by_model)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key (`nag_…`) or an HS256 JWT signed with the server's secret",
                },
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-API-Key",
                    "description": "An API key (`nag_…`) in a header of its own; never in the query string",
                },
            },
        },
        "tags": [{"name": t} for t in dict.fromkeys(t for _, _, s in operations for t in s.tags)],
    }


def _models(operations: list[tuple[str, str, Operation]]) -> list[tuple[type[BaseModel], str]]:
    found: dict[tuple[type[BaseModel], str], None] = {(Error, "serialization"): None}
    for _, _, spec in operations:
        if spec.openai_errors:
            found[(OpenAIError, "serialization")] = None
        body = spec.body.model if isinstance(spec.body, Body) else spec.body
        if body is not None:
            found[(body, "validation")] = None
        for answer in spec.responses.values():
            model = answer.model if isinstance(answer, Body) else answer
            if isinstance(model, type):
                found[(model, "serialization")] = None
            for variant in answer.variants if isinstance(answer, Body) else ():
                found[(variant, "serialization")] = None
    return list(found)


def _components(models: list[tuple[type[BaseModel], str]]) -> tuple[Refs, dict[str, Any]]:
    refs, top = models_json_schema(models, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
    return dict(refs), dict(top.get("$defs", {}))


def _ref(refs: Refs, model: type[BaseModel], mode: str) -> Any:
    return refs[(model, mode)]


def _operation(path: str, method: str, spec: Operation, refs: Refs) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": spec.summary,
        "operationId": _operation_id(method, path),
        "tags": list(spec.tags),
    }
    if spec.description:
        op["description"] = spec.description
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
        for name in _PATH_PARAM.findall(path)
    ]
    if spec.query is not None:
        parameters += _query_parameters(spec.query)
    if parameters:
        op["parameters"] = parameters
    if spec.body is not None:
        op["requestBody"] = {"required": True, "content": _content(spec.body, refs, "validation")}
    responses: dict[str, Any] = {}
    for status, answer in sorted(spec.responses.items()):
        if isinstance(answer, str):
            responses[str(status)] = {"description": answer}
            continue
        description = answer.description if isinstance(answer, Body) else ""
        responses[str(status)] = {
            "description": description or _describe(answer),
            "content": _content(answer, refs, "serialization"),
        }
    error_model = OpenAIError if spec.openai_errors else Error
    # Authenticated routes also answer 400 when a request carries two different credentials.
    statuses = set(spec.errors) | ({400, 401, 429} if spec.auth else set())
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": ERROR_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": _ref(refs, error_model, "serialization")}},
        }
    op["responses"] = responses
    if spec.auth:
        op["security"] = [{"bearer": []}, {"apiKey": []}]  # either one
    else:
        op["security"] = []
    return op


def _content(answer: type[BaseModel] | Body, refs: Refs, mode: str) -> dict[str, Any]:
    if isinstance(answer, Body):
        if answer.model is not None:
            schema: Any = _ref(refs, answer.model, mode)
        elif answer.variants:
            schema = {"anyOf": [_ref(refs, model, mode) for model in answer.variants]}
        else:
            schema = dict(answer.schema or {"type": "string"})
        content = {answer.content_type: {"schema": schema}}
        content.update({kind: {"schema": dict(other)} for kind, other in answer.alternatives.items()})
        return content
    return {"application/json": {"schema": _ref(refs, answer, mode)}}


def _describe(answer: type[BaseModel] | Body) -> str:
    model = answer.model if isinstance(answer, Body) else answer
    doc = (model.__doc__ or "").strip().splitlines() if model is not None else []
    return doc[0] if doc else (model.__name__ if model is not None else "OK")


def _path_schema(name: str) -> dict[str, Any]:
    if name == "id" or name.endswith("_id"):
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = _without_null(prop)
        entry: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            entry["description"] = prop["description"]
        if prop.get("type") == "array" or any(p.get("type") == "array" for p in prop.get("anyOf", ())):
            entry["style"], entry["explode"] = "form", True
        params.append(entry)
    return params


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or has a value; "null" is not something a URL can say."""
    prop = dict(prop)
    branches = [b for b in prop.get("anyOf", ()) if b.get("type") != "null"]
    if "anyOf" in prop:
        del prop["anyOf"]
        if len(branches) == 1:
            prop.update(branches[0])
        else:
            prop["anyOf"] = branches
    if prop.get("default", 0) is None:
        del prop["default"]
    return prop


def _operation_id(method: str, path: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", path.replace("{", "by_").replace("}", "")) if w]
    return "_".join([method, *words[1:]] if words[:1] == ["v1"] else [method, *words])
