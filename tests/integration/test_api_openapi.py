"""The OpenAPI 3.1 document and the /docs page, and a schema-driven fuzz run (schemathesis) against
the live server: no 5xx, and every answer matches the documented status codes, types and schemas."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.schemas.transcriptions import CreateTranscription
from tests.api_harness import Served, api_settings, served_in_thread, sqlite_copy

FUZZ_EXAMPLES = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Served]:
    """The app in a thread of its own (schemathesis calls it synchronously), as an admin user."""
    tmp = tmp_path_factory.mktemp("openapi")
    settings_ = api_settings(tmp, sqlite_copy(sqlite_template, tmp), max_upload_mb=1, max_queued_jobs=5)
    with served_in_thread(settings_, workers=False, minutes=100, is_admin=True) as served:
        yield served


def test_the_document_is_openapi_3_1_and_complete(server: Served) -> None:
    doc = requests.get(f"{server.base}/openapi.json", timeout=10).json()
    assert doc["openapi"] == "3.1.0"
    paths = doc["paths"]
    for path, method in [
        ("/v1/transcriptions", "get"),
        ("/v1/transcriptions", "post"),
        ("/v1/transcriptions/{id}/stream", "get"),
        ("/v1/transcriptions/{id}/eta", "get"),
        ("/v1/tts/voices", "get"),
        ("/v1/tts/stream", "post"),
        ("/v1/uploads/presign", "post"),
        ("/v1/audio/transcriptions", "post"),
        ("/v1/audio/speech", "post"),
        ("/v1/api-keys/{id}", "delete"),
        ("/v1/admin/users/{id}/grants", "post"),
    ]:
        assert method in paths[path], (path, method)
    schemas = doc["components"]["schemas"]
    refs = set(
        re.findall(r'"#/components/schemas/([^"]+)"', requests.get(f"{server.base}/openapi.json").text)
    )
    assert refs <= set(schemas), refs - set(schemas)
    # The body schema is the model the handler validates with.
    create = paths["/v1/transcriptions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create == {"$ref": "#/components/schemas/CreateTranscription"}
    # Exactly one audio input of several, so no field is required; or the audio as a multipart file.
    assert "required" not in schemas["CreateTranscription"]
    assert {"object_key", "audio_data", "audio_url", "wait"} <= set(
        schemas["CreateTranscription"]["properties"]
    )
    form = paths["/v1/transcriptions"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file"] and form["properties"]["file"]["format"] == "binary"
    assert set(schemas["CreateTranscription"]["properties"]) == set(CreateTranscription.model_fields)
    assert "402" in paths["/v1/transcriptions"]["post"]["responses"]
    assert paths["/v1/audio/speech"]["post"]["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OpenAIError"
    }
    assert paths["/healthz"]["get"]["security"] == [] and doc["components"]["securitySchemes"]["bearer"]


def test_the_docs_page_loads_nothing_from_elsewhere(server: Served) -> None:
    page = requests.get(f"{server.base}/docs", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    linked = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert linked and all(link.startswith("/") for link in linked), linked
    for link in linked:
        asset = requests.get(f"{server.base}{link}", timeout=10)
        assert asset.status_code == 200, link
        assert "http://" not in asset.text and "https://" not in asset.text, link


def _operations(base: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def _fuzz(server: Served, mode: GenerationMode, examples: int, checks: list[Any]) -> int:
    """Run ``examples`` generated requests against every operation; returns how many were fuzzed."""
    session = requests.Session()
    fuzzed = 0
    for operation in _operations(server.base):

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            response = case.call(
                base_url=server.base,
                session=session,
                headers={"Authorization": f"Bearer {server.key}"},
                timeout=60,
            )
            case.validate_response(response, checks=checks)

        try:
            run()
        except Unsatisfiable:  # nothing invalid can be said to this operation (no parameters)
            assert mode == GenerationMode.NEGATIVE
            continue
        fuzzed += 1
    return fuzzed


@pytest.mark.slow
def test_valid_requests_get_documented_answers_and_no_server_error(server: Served) -> None:
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    assert _fuzz(server, GenerationMode.POSITIVE, FUZZ_EXAMPLES, checks) >= 20


@pytest.mark.slow
def test_invalid_requests_never_cause_a_server_error(server: Served) -> None:
    assert (
        _fuzz(
            server,
            GenerationMode.NEGATIVE,
            FUZZ_EXAMPLES // 2,
            [not_a_server_error, content_type_conformance],
        )
        >= 10
    )
