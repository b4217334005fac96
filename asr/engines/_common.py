"""Small pieces every engine shares: language checks and translating library failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from asr.base import TranscriptionOptions
from asr.errors import AsrError, EngineFailure, UnsupportedLanguage


def single_language(
    engine: str, model_id: str, model_language: str | None, options: TranscriptionOptions
) -> str:
    """The language a one-language model will use for ``options``, or UnsupportedLanguage.

    ``auto`` means the model's language; an allow-list must include it. A model of unknown
    language (a custom directory) takes the caller's word for it.
    """
    requested = options.language
    if model_language is None:
        return requested if requested != "auto" else "und"
    if requested not in ("auto", model_language):
        raise UnsupportedLanguage(
            f"The {model_id} model only recognizes '{model_language}', not '{requested}'; "
            "choose the whisper engine for other languages.",
            engine=engine,
            model=model_id,
            language=requested,
            supported=[model_language],
        )
    if requested == "auto" and options.languages and model_language not in options.languages:
        raise UnsupportedLanguage(
            f"The {model_id} model only recognizes '{model_language}', which is not in the "
            f"allowed languages {list(options.languages)}.",
            engine=engine,
            model=model_id,
            supported=[model_language],
        )
    if options.task == "translate" and model_language != "en":
        raise UnsupportedLanguage(
            "Translation to English needs the whisper engine.",
            engine=engine,
            model=model_id,
            task="translate",
        )
    return model_language


@contextmanager
def library_errors(engine: str, model_id: str) -> Iterator[None]:
    """Turn an unexpected exception from the recognition library into EngineFailure."""
    try:
        yield
    except AsrError:
        raise
    except Exception as exc:
        raise EngineFailure(f"The {engine} engine failed: {exc}", engine=engine, model=model_id) from exc
