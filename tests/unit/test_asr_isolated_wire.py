"""Engine errors cross the process boundary as data and come back as the same type and message."""

from __future__ import annotations

from asr.errors import EngineFailure, ModelNotAvailable, UnsupportedLanguage
from asr.isolated_child import rebuild_error, wire_error


def test_an_asr_error_comes_back_as_itself() -> None:
    sent = ModelNotAvailable("No model at /x.", model="whisper-x", setting="NAGOVORI_WHISPER_MODEL")
    back = rebuild_error(wire_error(sent))
    assert type(back) is ModelNotAvailable
    assert (back.message, back.details) == (sent.message, sent.details)
    assert (
        rebuild_error(wire_error(UnsupportedLanguage("no ru"))).to_dict()
        == UnsupportedLanguage("no ru").to_dict()
    )


def test_any_other_failure_becomes_an_engine_failure_naming_it() -> None:
    back = rebuild_error(wire_error(MemoryError("out of memory")))
    assert type(back) is EngineFailure
    assert "MemoryError: out of memory" in back.message


def test_only_asr_classes_are_rebuilt() -> None:
    back = rebuild_error(("os", "system", "rm -rf", {}))
    assert type(back) is EngineFailure and back.message == "rm -rf"
