"""The tts error tree mirrors the core's shape: code, message, details, to_dict()."""

from __future__ import annotations

import pytest

from tts import errors
from tts.errors import (
    EngineFailure,
    InvalidSpeed,
    InvalidTtsRequest,
    ModelDownloadFailed,
    ModelNotAvailable,
    TextEmpty,
    TextTooLong,
    TtsError,
    UnknownEngine,
    UnknownVoice,
    UnsupportedLanguage,
)

CALLERS: list[type[TtsError]] = [
    TextEmpty,
    TextTooLong,
    UnknownVoice,
    UnsupportedLanguage,
    InvalidSpeed,
    UnknownEngine,
]
SERVERS: list[type[TtsError]] = [ModelNotAvailable, ModelDownloadFailed, EngineFailure]
ALL = [*CALLERS, *SERVERS]


def test_codes_are_stable_and_unique() -> None:
    codes = {cls: cls.code for cls in ALL}
    assert codes[TextEmpty] == "text_empty"
    assert codes[TextTooLong] == "text_too_long"
    assert codes[UnknownVoice] == "unknown_voice"
    assert codes[ModelNotAvailable] == "model_not_available"
    assert len(set(codes.values())) == len(ALL)


@pytest.mark.parametrize("cls", ALL)
def test_shape(cls: type[TtsError]) -> None:
    error = cls("Something specific.", field="text", limit=3)
    assert isinstance(error, TtsError)
    assert error.message == "Something specific." == str(error)
    assert error.details == {"field": "text", "limit": 3}
    assert error.to_dict() == {
        "code": cls.code,
        "message": "Something specific.",
        "field": "text",
        "limit": 3,
    }


@pytest.mark.parametrize("cls", ALL)
def test_default_messages(cls: type[TtsError]) -> None:
    assert cls().message == cls.default_message != TtsError.default_message


def test_caller_errors_share_a_parent_and_server_errors_do_not() -> None:
    assert all(issubclass(cls, InvalidTtsRequest) for cls in CALLERS)
    assert not any(issubclass(cls, InvalidTtsRequest) for cls in SERVERS)


def test_the_tree_in_the_docstring_names_every_class() -> None:
    doc = errors.__doc__ or ""
    for cls in (TtsError, InvalidTtsRequest, *ALL):
        assert cls.__name__ in doc
