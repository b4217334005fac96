"""What a failed job tells its owner: the engine's error, without the server's paths."""

from __future__ import annotations

import logging

import pytest

from asr.errors import ModelNotAvailable, UnsupportedLanguage
from core.errors import InvalidInput, public_message
from tts.errors import ModelNotAvailable as VoiceNotAvailable


@pytest.mark.parametrize("error", [ModelNotAvailable, VoiceNotAvailable])
def test_a_missing_model_s_path_goes_to_the_log_not_to_the_job(
    error: type[Exception], caplog: pytest.LogCaptureFixture
) -> None:
    exc = error("No model at /srv/nagovori/var/models/whisper/large-v3; run `nagovori models pull`.")
    with caplog.at_level(logging.WARNING, logger="core.jobs"):
        message = public_message(exc)
    assert "/srv" not in message and message == type(exc).default_message  # type: ignore[attr-defined]
    assert "/srv/nagovori/var/models" in caplog.text


def test_messages_without_paths_are_kept_as_they_are() -> None:
    assert public_message(UnsupportedLanguage("This engine does not know Welsh.")) == (
        "This engine does not know Welsh."
    )
    ours = InvalidInput("The file name a/b is not allowed.")
    assert public_message(ours) == ours.message
