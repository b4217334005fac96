"""``/healthz`` tells an operator when a default engine cannot serve, which one, and why."""

from __future__ import annotations

from pathlib import Path

from tests.api_harness import api_settings, live_api, sqlite_copy


async def _health(tmp_path: Path, sqlite_template: Path, **overrides: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path), **overrides)
    async with live_api(settings, workers=False) as api, api.http.get(f"{api.base}/healthz") as response:
        return response.status, await response.json()


async def test_all_defaults_ready_is_ok(tmp_path: Path, sqlite_template: Path) -> None:
    status, body = await _health(tmp_path, sqlite_template)  # pocketsphinx + espeak-ng
    assert status == 200 and body["status"] == "ok"
    defaults = body["checks"]["defaults"]
    assert defaults["ok"] and defaults["problems"] == []
    assert "pocketsphinx-en" in defaults["models"] and "espeak-ng" in defaults["models"]


async def test_a_default_model_that_is_not_here_is_degraded_and_says_why(
    tmp_path: Path, sqlite_template: Path
) -> None:
    status, body = await _health(tmp_path, sqlite_template, asr_engine="whisper", whisper_model="small")
    # The process still serves accounts, history and other engines: 200, but not "ok".
    assert status == 200 and body["status"] == "degraded"
    (problem,) = body["checks"]["defaults"]["problems"]
    assert problem["kind"] == "asr" and problem["model"] == "whisper-small"
    assert "needs internet" in problem["why"]
    assert body["checks"]["database"]["ok"] and body["checks"]["queue"]["ok"]


async def test_the_bundled_default_is_ready_without_a_network(tmp_path: Path, sqlite_template: Path) -> None:
    status, body = await _health(tmp_path, sqlite_template, asr_engine="whisper", whisper_model="base")
    assert status == 200 and body["status"] == "ok"
    assert "whisper-base" in body["checks"]["defaults"]["models"]
