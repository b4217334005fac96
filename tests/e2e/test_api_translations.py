"""Translation into English through the official ``openai`` package against a live ``nagovori serve``
running the real Whisper base model (loaded once, by that one server process, for this module):
every response format, billing on the same ledger as transcriptions, refusals in OpenAI's shape, and
``models.retrieve``. (The native ``task: "translate"`` is checked in tests/integration.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import requests

from tests.api_harness import ServerProcess, server_processes

CLIP = "ru/pisets-test_sound_ru.wav"  # "нейронные сети это хорошо" — "neural networks are good", 3.2 s
ENGLISH = {"the", "a", "is", "are", "it", "this", "neural", "network", "networks", "good", "well", "net"}

# The SDK marks its translations overloads deprecated (OpenAI steers to newer models); the route stays.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")]


def english_words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower())) & ENGLISH


def assert_english(text: str) -> None:
    """Only ASCII letters and punctuation (no Cyrillic left), and several common English words."""
    assert text.strip() and text.isascii(), text
    assert len(english_words(text)) >= 2, text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, bundled_models_dir: Path) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("translations")
    with server_processes(
        tmp,
        f"sqlite+aiosqlite:///{tmp / 'nagovori.db'}",
        minutes=30,
        asr_engine="whisper",
        whisper_model=str(bundled_models_dir / "whisper" / "base"),
        models_dir=str(bundled_models_dir),
    ) as server:
        yield server


@pytest.fixture
def clip(shared_audio: Path) -> Path:
    return shared_audio / CLIP


def usage(server: ServerProcess) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {server.key}"}
    body: dict[str, Any] = requests.get(f"{server.base}/v1/profile/usage", headers=headers, timeout=10).json()
    return body


def test_a_russian_clip_comes_back_in_english_and_is_billed_as_asr(
    client: openai.OpenAI, server: ServerProcess, clip: Path
) -> None:
    before = usage(server)
    with clip.open("rb") as fh:
        translation = client.audio.translations.create(model="whisper-1", file=fh)
    assert_english(translation.text)
    after = usage(server)
    spent = after["used"]["by_kind"].get("asr", 0) - before["used"]["by_kind"].get("asr", 0)
    assert spent == 4  # 3.2 s, billed by the second like any transcription
    assert after["remaining"]["seconds"] == before["remaining"]["seconds"] - spent


def test_translations_in_text_srt_and_verbose_json(client: openai.OpenAI, clip: Path) -> None:
    with clip.open("rb") as fh:
        text = client.audio.translations.create(model="whisper-base", file=fh, response_format="text")
    assert isinstance(text, str)
    assert_english(text)
    with clip.open("rb") as fh:
        srt = client.audio.translations.create(model="whisper-1", file=fh, response_format="srt")
    assert srt.startswith("1\n") and " --> " in srt
    assert_english(srt)
    with clip.open("rb") as fh:
        verbose = client.audio.translations.create(
            model="whisper-1",
            file=fh,
            response_format="verbose_json",
            prompt="Machine learning.",
            temperature=0,
        )
    assert verbose.language == "en" and 3.0 < verbose.duration < 3.5
    assert verbose.segments and all(0 <= s.start <= s.end <= 3.5 for s in verbose.segments)
    assert_english(verbose.text)
    assert verbose.model_extra and verbose.model_extra["task"] == "translate"


def test_a_model_that_cannot_translate_is_refused_in_openai_shape(client: openai.OpenAI, clip: Path) -> None:
    for model in ("whisper-tiny.en", "pocketsphinx-en"):
        with clip.open("rb") as fh, pytest.raises(openai.BadRequestError) as refused:
            client.audio.translations.create(model=model, file=fh)
        assert refused.value.code == "unsupported_task", model
        assert refused.value.body["param"] == "model"  # type: ignore[index]


def test_models_retrieve(client: openai.OpenAI) -> None:
    base = client.models.retrieve("whisper-base")
    extra = base.model_extra or {}
    assert base.id == "whisper-base" and base.object == "model" and base.owned_by == "nagovori"
    assert extra["default"] and extra["ready"] and extra["tasks"] == ["transcribe", "translate"]
    assert extra["origin"] == "local" and extra["size_bytes"] > 100_000_000
    alias = client.models.retrieve("whisper-1")
    assert (alias.model_extra or {})["alias_of"] == "whisper-base"
    assert (client.models.retrieve("tts-1").model_extra or {})["kind"] == "tts"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-5-transcribe")
