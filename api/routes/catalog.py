"""``GET /v1/models``, ``GET /v1/models/{id}`` and ``GET /v1/capabilities``: what this server can do
right now."""

from __future__ import annotations

import asyncio

from aiohttp import web

from api.openapi import operation
from api.schemas.catalog import Capabilities, KindCapabilities, Limits, ModelEntry, ModelList
from api.schemas.common import dump
from api.schemas.tts import Voice
from api.state import PLATFORM, catalog
from core.audio.encode import FORMATS
from core.errors import NotFound
from core.services.catalog import OPENAI_ASR_ALIASES, OPENAI_TTS_ALIASES, ModelView, voices
from core.services.subtitles import FORMATS as SUBTITLE_FORMATS

routes = web.RouteTableDef()
TAGS = ("Models",)

INPUT_FORMATS = ["mp3", "wav", "ogg", "opus", "flac", "m4a", "aac", "webm", "mp4", "mov"]
FEATURES = [
    "presigned_uploads",
    "sha256_deduplication",
    "language_detection",
    "segments",
    "word_timestamps",
    "two_channel_speakers",
    "sse_streaming",
    "eta",
    "subtitles",
    "tts_jobs",
    "tts_streaming",
    "openai_compatible_audio",
]


def _entry(model: ModelView, alias: str | None = None) -> ModelEntry:
    """The model as listed; as an OpenAI ``alias`` (``whisper-1``…), the default it maps onto."""
    detail = model.detail
    if alias is not None:
        detail = f"OpenAI's name, mapped onto the default {model.kind} model {model.id}" + (
            f"; {detail}" if detail else ""
        )
    return ModelEntry(
        id=alias or model.id,
        kind=model.kind,
        engine=model.engine,
        languages=list(model.languages),
        present=model.present,
        ready=model.ready,
        default=model.default and alias is None,
        alias_of=model.id if alias is not None else None,
        detail=detail,
        origin=model.origin,
        size_bytes=model.size_bytes,
        tasks=list(model.tasks),
    )


@routes.get("/v1/models")
@operation(
    "List speech models",
    tags=TAGS,
    description="Every model of every engine: whether its files are here and it is ready. `id` is what "
    "the `model` field of requests takes. OpenAI's names (`whisper-1`, `tts-1`, …) are listed as aliases "
    "of the defaults.",
    responses={200: ModelList},
    errors=(503,),
)
async def models_handler(request: web.Request) -> web.Response:
    models = await asyncio.to_thread(catalog(request).models)
    data = [_entry(m) for m in models]
    for kind, aliases in (("asr", OPENAI_ASR_ALIASES), ("tts", OPENAI_TTS_ALIASES)):
        default = next((m for m in models if m.kind == kind and m.default), None)
        if default is not None:
            data += [_entry(default, alias=a) for a in aliases]
    return web.json_response(dump(ModelList(data=data)))


@routes.get("/v1/models/{id}")
@operation(
    "Get one speech model",
    tags=TAGS,
    description="One entry of `GET /v1/models` (OpenAI's model object plus our fields; the SDK's "
    "`models.retrieve`). OpenAI's names (`whisper-1`, `tts-1`, …) answer with the default model they "
    "map onto, `alias_of` naming it.",
    responses={200: ModelEntry},
    errors=(404, 503),
)
async def model_handler(request: web.Request) -> web.Response:
    model_id = request.match_info["id"]
    found = await asyncio.to_thread(catalog(request).find, model_id)
    if found is None:
        raise NotFound(f"No model '{model_id}' here; GET /v1/models lists them.", id=model_id)
    model, alias = found
    return web.json_response(dump(_entry(model, alias)))


def _kind(models: list[ModelView], kind: str) -> KindCapabilities:
    mine = [m for m in models if m.kind == kind]
    ready = [m for m in mine if m.ready]
    default = next((m for m in mine if m.default), None)
    return KindCapabilities(
        ready=default is not None and default.ready,
        default_model=default.id if default else None,
        engines=sorted({m.engine for m in ready}),
        models=[m.id for m in ready],
        languages=sorted({lang for m in ready for lang in m.languages}),
    )


@routes.get("/v1/capabilities")
@operation(
    "What this server can do",
    tags=TAGS,
    description="Which engines, models and voices are ready, the formats, features and limits.",
    responses={200: Capabilities},
    errors=(503,),
)
async def capabilities_handler(request: web.Request) -> web.Response:
    models = await asyncio.to_thread(catalog(request).models)
    settings = request.app[PLATFORM].settings
    caps = Capabilities(
        asr=_kind(models, "asr"),
        tts=_kind(models, "tts"),
        voices=[Voice(**v) for v in voices()],
        formats={
            "transcription_input": INPUT_FORMATS,
            "subtitles": list(SUBTITLE_FORMATS),
            "tts_output": list(FORMATS),
            "openai_transcription": ["json", "text", "srt", "vtt", "verbose_json"],
        },
        features=FEATURES,
        limits=Limits(
            rate_limit_per_minute=settings.rate_limit_per_minute,
            max_active_jobs=settings.max_active_jobs,
            max_queued_jobs=settings.max_queued_jobs,
            max_upload_bytes=settings.max_upload_bytes,
            min_audio_seconds=settings.min_audio_seconds,
            max_audio_seconds=settings.max_audio_seconds,
            max_tts_chars=5000,
        ),
    )
    return web.json_response(dump(caps))
