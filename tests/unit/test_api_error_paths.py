"""An engine's "model not available" reaches clients without the server's paths; the operator's
log keeps the full message (issue 11, §6)."""

from __future__ import annotations

import json
import logging

import pytest

from api.errors import error_response
from asr.errors import ModelNotAvailable as AsrModelNotAvailable
from tts.errors import ModelNotAvailable as TtsModelNotAvailable

MESSAGE = (
    "No Vosk model at /srv/nagovori/models/vosk/en. Download a model from "
    "https://alphacephei.com/vosk/models and unpack it in NAGOVORI_MODELS_DIR (/srv/nagovori/models)."
)


@pytest.mark.parametrize("error", [AsrModelNotAvailable, TtsModelNotAvailable])
@pytest.mark.parametrize("openai", [False, True])
def test_a_missing_model_is_a_503_naming_the_setting_but_no_path(
    error: type[AsrModelNotAvailable | TtsModelNotAvailable], openai: bool, caplog: pytest.LogCaptureFixture
) -> None:
    exc = error(MESSAGE, model="vosk-en", setting="NAGOVORI_VOSK_MODEL", path="/srv/nagovori/models/vosk/en")

    with caplog.at_level(logging.WARNING, logger="api.errors"):
        response = error_response(exc, openai=openai)

    assert response.status == 503
    assert response.text is not None and "/srv" not in response.text
    body = json.loads(response.text)["error"]
    assert body["code"] == "model_not_available"
    assert body["message"] == error.default_message
    if not openai:
        assert body["setting"] == "NAGOVORI_VOSK_MODEL" and body["model"] == "vosk-en"
    assert MESSAGE in caplog.text  # the operator still learns what to fix
