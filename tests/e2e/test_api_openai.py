"""The official ``openai`` package against a live ``nagovori serve``: transcriptions in every
response format and streamed, speech as MP3 and Opus, errors in OpenAI's shape, one ledger."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import av
import openai
import pytest
import requests

from tests.api_harness import ServerProcess, server_processes

CLIP = "en/LJ001-0002.wav"  # "in being comparatively modern."
EXPECTED = {"being", "comparatively", "modern"}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("openai")
    with server_processes(tmp, f"sqlite+aiosqlite:///{tmp / 'nagovori.db'}", minutes=30) as server:
        yield server


@pytest.fixture
def clip(shared_audio: Path) -> Path:
    return shared_audio / CLIP


@pytest.mark.slow
def test_transcriptions_in_every_format(client: openai.OpenAI, clip: Path) -> None:
    with clip.open("rb") as fh:
        as_json = client.audio.transcriptions.create(model="whisper-1", file=fh)
    assert words(as_json.text) & EXPECTED, as_json.text
    with clip.open("rb") as fh:
        text = client.audio.transcriptions.create(model="whisper-1", file=fh, response_format="text")
    assert isinstance(text, str) and text.strip() == as_json.text.strip()
    with clip.open("rb") as fh:
        srt = client.audio.transcriptions.create(model="whisper-1", file=fh, response_format="srt")
    assert srt.startswith("1\n") and " --> " in srt and words(srt) & EXPECTED
    with clip.open("rb") as fh:
        vtt = client.audio.transcriptions.create(model="whisper-1", file=fh, response_format="vtt")
    assert vtt.startswith("WEBVTT")
    with clip.open("rb") as fh:
        verbose = client.audio.transcriptions.create(
            model="pocketsphinx-en",
            file=fh,
            response_format="verbose_json",
            language="en",
            timestamp_granularities=["word", "segment"],
        )
    assert verbose.language == "en" and 1.5 < verbose.duration < 2.5
    assert verbose.segments and verbose.segments[0].text.strip()
    assert verbose.text.strip() == as_json.text.strip()


@pytest.mark.slow
def test_streamed_transcription_deltas_add_up_to_the_text(client: openai.OpenAI, clip: Path) -> None:
    with clip.open("rb") as fh:
        stream = client.audio.transcriptions.create(model="whisper-1", file=fh, stream=True)
        events = list(stream)
    kinds = [event.type for event in events]
    assert kinds[-1] == "transcript.text.done" and kinds.count("transcript.text.done") == 1
    deltas = [event.delta for event in events if event.type == "transcript.text.delta"]
    assert deltas and "".join(deltas).strip() == events[-1].text.strip()
    assert words(events[-1].text) & EXPECTED


def decoded(data: bytes) -> tuple[str, str, float]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return container.format.name, stream.codec_context.name, samples / stream.rate


@pytest.mark.slow
def test_speech_as_mp3_and_opus_is_billed(client: openai.OpenAI, server: ServerProcess) -> None:
    headers = {"Authorization": f"Bearer {server.key}"}
    before = requests.get(f"{server.base}/v1/profile/usage", headers=headers, timeout=10).json()
    mp3 = client.audio.speech.create(model="tts-1", voice="alloy", input="Hello from the speech API.")
    container, codec, seconds = decoded(mp3.content)
    assert container == "mp3" and codec.startswith("mp3") and seconds > 0.5
    opus = client.audio.speech.create(
        model="tts-1-hd", voice="nova", input="Hello again.", response_format="opus", speed=1.25
    )
    container, codec, seconds = decoded(opus.content)
    assert container == "ogg" and codec == "opus" and seconds > 0.3
    after = requests.get(f"{server.base}/v1/profile/usage", headers=headers, timeout=10).json()
    spent = after["used"]["by_kind"].get("tts", 0) - before["used"]["by_kind"].get("tts", 0)
    assert spent >= 2 and after["remaining"]["seconds"] == before["remaining"]["seconds"] - spent


@pytest.mark.slow
def test_errors_come_in_openai_shape(client: openai.OpenAI, server: ServerProcess, clip: Path) -> None:
    # OpenAI's newer voice names mean one of ours; a name that is neither is refused.
    coral = client.audio.speech.create(model="tts-1", voice="coral", input="Hello.", response_format="wav")
    assert coral.content[:4] == b"RIFF" and len(coral.content) > 10_000
    with pytest.raises(openai.BadRequestError) as bad_voice:
        client.audio.speech.create(model="tts-1", voice="mermaid", input="Hello.")  # type: ignore[arg-type]
    assert (
        bad_voice.value.body["param"] == "voice" and bad_voice.value.body["type"] == "invalid_request_error"
    )
    with clip.open("rb") as fh, pytest.raises(openai.BadRequestError) as bad_model:
        client.audio.transcriptions.create(model="gemma4-e2b-asr", file=fh)
    assert bad_model.value.code == "unknown_model"
    stranger = openai.OpenAI(base_url=f"{server.base}/v1", api_key="nag_wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as unauthorized:
        stranger.audio.speech.create(model="tts-1", voice="alloy", input="Hello.")
    assert unauthorized.value.body["type"] == "authentication_error"
    response = requests.post(
        f"{server.base}/v1/audio/speech",
        headers={"Authorization": f"Bearer {server.key}"},
        json={"model": "tts-1", "voice": "alloy", "input": "x" * 5001},
        timeout=10,
    )
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the SDK's mark on translations
def test_models_retrieve_and_translations_need_a_model_that_translates(
    client: openai.OpenAI, clip: Path
) -> None:
    sphinx = client.models.retrieve("pocketsphinx-en")
    assert sphinx.id == "pocketsphinx-en" and sphinx.object == "model"
    assert (sphinx.model_extra or {})["tasks"] == ["transcribe"] and (sphinx.model_extra or {})["default"]
    whisper = client.models.retrieve("whisper-1")
    assert whisper.id == "whisper-1" and (whisper.model_extra or {})["alias_of"] == "pocketsphinx-en"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gemma4-e2b-asr")
    # The default here is PocketSphinx: asked to translate, the request itself is refused (no job).
    with clip.open("rb") as fh, pytest.raises(openai.BadRequestError) as refused:
        client.audio.translations.create(model="whisper-1", file=fh)
    assert refused.value.code == "unsupported_task" and refused.value.body["param"] == "model"  # type: ignore[index]
