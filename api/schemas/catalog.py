"""Models and capabilities of this server."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.tts import Voice


class ModelEntry(BaseModel):
    """A speech model; ``id`` is what ``model`` takes in requests."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "nagovori"
    kind: Literal["asr", "tts"]
    engine: str
    languages: list[str]
    present: bool = Field(description="Its files are on this server")
    ready: bool = Field(description="It can be used now")
    default: bool = Field(description="Used when a request names no model")
    alias_of: str | None = Field(None, description="For OpenAI's names: the model they map to")
    detail: str = ""
    origin: str | None = Field(
        None,
        description="Where its files come from: bundled (assembled from pinned packages), downloaded "
        "(fetched from a model hub), local (a directory the operator gave), system (an installed "
        "package or program); null when the engine does not say",
    )
    size_bytes: int | None = Field(None, description="Size of its files on disk, when known")
    tasks: list[Literal["transcribe", "translate"]] = Field(
        default_factory=list, description='ASR models: what `task` can ask of it ("translate": into English)'
    )


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelEntry]


class KindCapabilities(BaseModel):
    ready: bool = Field(description="At least the default model works")
    default_model: str | None
    engines: list[str]
    models: list[str] = Field(description="Ready model ids")
    languages: list[str]


class Limits(BaseModel):
    rate_limit_per_minute: int
    max_active_jobs: int
    max_queued_jobs: int
    max_upload_bytes: int
    min_audio_seconds: float
    max_audio_seconds: float
    max_tts_chars: int


class Capabilities(BaseModel):
    asr: KindCapabilities
    tts: KindCapabilities
    voices: list[Voice]
    formats: dict[str, list[str]]
    features: list[str]
    limits: Limits
