"""The OpenAI-compatible routes' bodies (what the official ``openai`` package sends and reads)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.schemas.common import QueryParams

ResponseFormat = Literal["json", "text", "srt", "vtt", "verbose_json"]
# "diarized_json": a two-channel call, each channel its own speaker (transcriptions only, as OpenAI's).
TranscriptionFormat = Literal["json", "text", "srt", "vtt", "verbose_json", "diarized_json"]
SpeakerName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
DEFAULT_SPEAKERS = ("A", "B")  # OpenAI's labels when no names are given


class TranslationForm(QueryParams):
    """``POST /v1/audio/translations``' multipart fields besides ``file`` (unknown fields are ignored,
    as OpenAI's SDKs add new ones)."""

    model: str = Field(
        min_length=1, max_length=64, description='"whisper-1" (and gpt-4o-*) map to the default'
    )
    prompt: str | None = Field(None, max_length=1000)
    response_format: ResponseFormat = "json"
    temperature: float | None = Field(None, ge=0, le=1, description="Accepted and ignored")


class TranscriptionForm(TranslationForm):
    """``POST /v1/audio/transcriptions``: a translation's fields and the language, word timestamps,
    streaming, and the speakers of ``diarized_json``."""

    response_format: TranscriptionFormat = "json"  # type: ignore[assignment]
    known_speaker_names: list[SpeakerName] = Field(
        default_factory=list, alias="known_speaker_names[]", max_length=2
    )
    language: str | None = Field(None, pattern=r"^[a-z]{2,3}$")
    timestamp_granularities: list[Literal["word", "segment"]] = Field(
        default_factory=lambda: ["segment"],  # type: ignore[arg-type]
        alias="timestamp_granularities[]",
    )
    stream: bool = False


class TranslationFormSchema(BaseModel):
    """``multipart/form-data`` for ``POST /v1/audio/translations`` (documentation only)."""

    file: bytes = Field(json_schema_extra={"format": "binary"}, description="The audio file, any language")
    model: str = Field(
        examples=["whisper-1"], description="A model that can translate (multilingual Whisper)"
    )
    prompt: str | None = Field(None, description="Context in English that helps recognition")
    response_format: ResponseFormat = "json"
    temperature: float | None = None


class TranscriptionFormSchema(BaseModel):
    """``multipart/form-data`` for ``POST /v1/audio/transcriptions`` (documentation only)."""

    model_config = ConfigDict(populate_by_name=True)

    file: bytes = Field(json_schema_extra={"format": "binary"}, description="The audio file")
    model: str = Field(examples=["whisper-1"])
    language: str | None = None
    prompt: str | None = None
    response_format: TranscriptionFormat = Field(
        "json", description="`diarized_json`: two-channel audio, each channel its own speaker"
    )
    temperature: float | None = None
    timestamp_granularities: list[Literal["word", "segment"]] | None = Field(
        None, alias="timestamp_granularities[]"
    )
    known_speaker_names: list[str] | None = Field(
        None,
        alias="known_speaker_names[]",
        max_length=2,
        description="With `diarized_json`: the names of the left and the right channel's speakers "
        '(default "A" and "B")',
    )
    stream: bool = False


class OpenAIUsage(BaseModel):
    """What the request was billed: whole seconds of audio (two channels are billed once)."""

    type: Literal["duration"] = "duration"
    seconds: int = Field(description="The seconds billed for this request")


class OpenAITranscription(BaseModel):
    text: str
    usage: OpenAIUsage


class OpenAIWord(BaseModel):
    word: str
    start: float
    end: float


class OpenAISegment(BaseModel):
    id: int
    seek: int
    start: float
    end: float
    text: str
    tokens: list[int]
    temperature: float
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float


class OpenAIVerboseTranscription(BaseModel):
    """``verbose_json`` of a transcription or a translation (whose ``language`` is "en", its text's)."""

    task: Literal["transcribe", "translate"] = "transcribe"
    language: str
    duration: float
    text: str
    segments: list[OpenAISegment]
    words: list[OpenAIWord] | None = None
    usage: OpenAIUsage


class OpenAIDiarizedSegment(BaseModel):
    type: Literal["transcript.text.segment"] = "transcript.text.segment"
    id: str
    speaker: str
    start: float
    end: float
    text: str


class OpenAIDiarizedTranscription(BaseModel):
    """``diarized_json``: the segments of both channels, each under its speaker, sorted by start."""

    task: Literal["transcribe"] = "transcribe"
    duration: float
    text: str = Field(description="The segments' text in time order")
    segments: list[OpenAIDiarizedSegment]
    usage: OpenAIUsage


class OpenAISpeech(BaseModel):
    """``POST /v1/audio/speech``; unknown fields are ignored, as OpenAI's SDKs add new ones."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=64, description='"tts-1" and "tts-1-hd" map to the default')
    input: str = Field(min_length=1, max_length=5000)
    voice: str = Field(
        min_length=1,
        max_length=32,
        description="One of our seven voices, or an OpenAI voice name (coral, sage, …) mapped onto them",
    )
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    instructions: str | None = Field(None, max_length=4096, description="Accepted and ignored")
