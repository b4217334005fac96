"""Property-based fuzzing of every JSON route (hypothesis), on SQLite and PostgreSQL: whatever body
arrives — any JSON at all, the route's own field names holding the wrong things (huge and
non-finite numbers, NUL bytes, lone surrogates, deep nesting, long arrays), or bytes that are not
JSON — the answer is never a 5xx, and every 4xx is the documented ``{"error": {...}}`` shape.

The schema-driven run in ``test_api_openapi.py`` sends what the schemas describe; this one sends
what they do not. The routes come from the served OpenAPI document, so a new JSON route is fuzzed
without being listed here. Deterministic (``derandomize``) and bounded (``EXAMPLES`` per route).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.api_harness import Served, api_settings, served_in_thread, sqlite_copy
from tests.integration.conftest import _truncate

EXAMPLES = 40  # per route and database (8 JSON routes today): a few seconds in all

HUGE_NUMBERS = [2**63, -(2**63) - 1, 2**200, 10**400, 1e308, -1e308, 5e-324]
STRANGE_TEXT = ["\x00", "a\x00b", "\ud800", "\udfff\ud800", "\u202e", "\ufeff", "🎙" * 50, "Ω" * 5000, " "]
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(HUGE_NUMBERS)
    | st.floats(allow_nan=True, allow_infinity=True)  # json.dumps writes NaN/Infinity, which Python reads
    | st.text(max_size=40)
    | st.sampled_from(STRANGE_TEXT)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=24,
)
# Bodies no generator should have to stumble on: sent to every route as they are.
RAW_BODIES: dict[str, bytes] = {
    "unclosed-arrays": b"[" * 5000,
    "unclosed-objects": b'{"a":' * 5000,
    "nested-arrays-1000": b'{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    "array-of-100k": b'{"a": [' + b",".join([b"1"] * 100_000) + b"]}",
    "array-of-100k-objects": b'{"a": [' + b",".join([b"{}"] * 100_000) + b"]}",
    "object-of-20k-keys": json.dumps({f"k{i}": i for i in range(20_000)}).encode(),
    "string-of-900k": json.dumps({"text": "a" * 900_000, "name": "a" * 900_000}).encode(),
    "over-the-size-limit": json.dumps({"text": "a" * 2_000_000}).encode(),
    "number-1e999999": b'{"minutes": 1e999999, "speed": 1e999999}',
    "integer-of-5000-digits": b'{"minutes": ' + b"9" * 5000 + b', "telegram_id": ' + b"9" * 5000 + b"}",
    "nan-and-infinity": b'{"minutes": NaN, "speed": Infinity, "starting_minutes": -Infinity}',
    "invalid-utf8": b'{"text": "\xff\xfe\xfa"}',
    "utf16-with-bom": '{"text": "hi"}'.encode("utf-16"),
    "utf8-bom": b'\xef\xbb\xbf{"text": "hi"}',
    "nul-in-keys-and-values": b'{"\\u0000": "\\u0000", "name": "\\u0000", "text": "a\\u0000"}',
    "lone-surrogates": b'{"name": "\\ud800", "text": "\\udc00x", "email": "a\\ud800@b.c"}',
    "duplicate-keys": b'{"minutes": 1, "minutes": -1}',
    "not-json": b"minutes=1&text=hi",
    "empty": b"",
    "a-bare-string": b'"text"',
    "null": b"null",
}

# A valid body for each route we know; one field at a time then holds each edge value.
VALID: dict[str, dict[str, Any]] = {
    "/v1/admin/users": {"name": "Ann", "create_api_key": False},
    "/v1/admin/users/{id}/grants": {"minutes": 1},
    "/v1/api-keys": {"name": "fuzz"},
    "/v1/audio/speech": {"model": "tts-1", "input": "Hi.", "voice": "alloy"},
    "/v1/transcriptions": {"object_key": "uploads/none/a.wav"},
    "/v1/tts": {"text": "Hi."},
    "/v1/tts/stream": {"text": "Hi."},
    "/v1/uploads/presign": {"filename": "a.wav"},
}
EDGE_VALUES: list[Any] = [
    *STRANGE_TEXT,
    "",
    *HUGE_NUMBERS,
    -1,
    0,
    float("nan"),
    float("inf"),
    True,
    None,
    [],
    {},
    ["x"] * 10_000,
    {"a": {"b": {"c": {"d": [[[[[[]]]]]]}}}},
]


@dataclass(frozen=True)
class JsonRoute:
    method: str
    template: str  # as the document says it
    path: str  # with its parameters filled in
    fields: tuple[str, ...]  # the body's property names

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app in a thread of its own (requests calls it synchronously), with an admin's key."""
    tmp = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        url = sqlite_copy(request.getfixturevalue("sqlite_template"), tmp)
    else:
        url = request.getfixturevalue("postgres_url")  # shared by the session: emptied first
        asyncio.run(_truncate(url))
    settings_ = api_settings(tmp, url, max_queued_jobs=3)
    with served_in_thread(settings_, workers=False, minutes=100, is_admin=True) as served:
        yield served


def json_routes(served: Served) -> list[JsonRoute]:
    """Every operation of the served document that takes a JSON body."""
    doc = requests.get(f"{served.base}/openapi.json", timeout=10).json()
    schemas = doc["components"]["schemas"]
    routes = []
    for path, methods in doc["paths"].items():
        for method, spec in methods.items():
            body = spec.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            schema = body.get("schema", {})
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
            filled = path.replace("{id}", served.user_id)
            routes.append(JsonRoute(method.upper(), path, filled, tuple(schema.get("properties", {}))))
    return routes


def send(served: Served, session: requests.Session, route: JsonRoute, body: bytes) -> None:
    response = session.request(
        route.method,
        f"{served.base}{route.path}",
        data=body,
        headers={"Authorization": f"Bearer {served.key}", "Content-Type": "application/json"},
        timeout=60,
    )
    shown = body[:200]
    assert response.status_code < 500, (str(route), shown, response.status_code, response.text[:500])
    if response.status_code >= 400:
        error = response.json().get("error")
        assert isinstance(error, dict) and error.get("message"), (str(route), shown, response.text[:500])


def bodies(route: JsonRoute, valid: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """Any JSON; an object of the route's own fields holding anything; or a valid body (from
    the schema) with one field replaced by anything — the bad value among good ones reaches
    furthest into the handler."""
    if not route.fields:
        return JSON_VALUES.map(_dump)
    own_fields = st.fixed_dictionaries({}, optional={name: JSON_VALUES for name in route.fields})
    one_bad = st.tuples(valid, st.sampled_from(route.fields), JSON_VALUES).map(
        lambda t: {**(t[0] if isinstance(t[0], dict) else {}), t[1]: t[2]}
    )
    return (JSON_VALUES | own_fields | one_bad | one_bad).map(_dump)


def _dump(value: Any) -> bytes:
    return json.dumps(value).encode()


def valid_bodies(served: Served) -> dict[tuple[str, str], st.SearchStrategy[Any]]:
    """(method, path template) → bodies that match the route's schema (schemathesis)."""
    schema = schemathesis.openapi.from_url(f"{served.base}/openapi.json")
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            cases = operation.as_strategy(
                generation_mode=GenerationMode.POSITIVE, media_type="application/json"
            )
        except Exception:  # no JSON body to generate
            continue
        found[(operation.method.upper(), operation.path)] = cases.map(lambda case: case.body)
    return found


@pytest.mark.slow
def test_any_json_to_any_json_route_is_never_a_server_error(server: Served) -> None:
    session = requests.Session()
    routes = json_routes(server)
    assert len(routes) >= 8, routes
    valid = valid_bodies(server)
    for route in routes:
        fuzz(server, session, route, bodies(route, valid[(route.method, route.template)]))


def fuzz(
    served: Served, session: requests.Session, route: JsonRoute, strategy: st.SearchStrategy[bytes]
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=strategy)
    def run(body: bytes) -> None:
        send(served, session, route, body)

    run()


@pytest.mark.slow
def test_hostile_raw_bodies_to_any_json_route_are_never_a_server_error(server: Served) -> None:
    session = requests.Session()
    for route in json_routes(server):
        for name, body in RAW_BODIES.items():
            try:
                send(server, session, route, body)
            except AssertionError as exc:
                raise AssertionError(f"{name}: {exc}") from exc


@pytest.mark.slow
def test_each_field_of_a_valid_body_holding_edge_values_is_never_a_server_error(server: Served) -> None:
    session = requests.Session()
    for route in json_routes(server):
        valid = VALID.get(route.template, {})
        for field in route.fields:
            for value in EDGE_VALUES:
                send(server, session, route, _dump({**valid, field: value}))


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/admin/users/{id}/grants", {"minutes": 1, "reason": "a\x00b"}, "reason"),
        ("/v1/admin/users/{id}/grants", {"minutes": 1, "idempotency_key": "\x00"}, "idempotency_key"),
        ("/v1/tts", {"text": "a\x00b"}, "text"),
        ("/v1/uploads/presign", {"filename": "a\x00.wav"}, "filename"),
    ],
)
def test_a_nul_character_is_a_400_naming_the_field_not_a_database_error(
    server: Served, path: str, body: dict[str, Any], field: str
) -> None:
    """Found by this fuzz: PostgreSQL's text cannot hold U+0000, and these fields reached it (500)."""
    response = requests.post(
        f"{server.base}{path.replace('{id}', server.user_id)}",
        json=body,
        headers={"Authorization": f"Bearer {server.key}"},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_request", field)
    assert "NUL" in error["message"]
