"""Speakers by channel: a two-channel call (one party per channel) is transcribed channel by
channel, each under its speaker's name (``asr.transcribe``'s ``channels="split"``).

This is not voice diarization: a mono recording has one channel and so one speaker for us. The
OpenAI-compatible ``diarized_json`` therefore refuses mono audio up front, rather than answer
with one speaker for what may be a conversation.
"""

from __future__ import annotations

import asyncio

from core.audio.probe import probe
from core.errors import InvalidInput
from core.platform import Platform
from core.services.uploads import uploaded_object


class MonoAudio(InvalidInput):
    """Speakers by channel were asked for a recording with one channel."""

    code = "mono_audio"
    default_message = "Speakers by channel need two-channel (stereo) audio; this recording is mono."


async def require_two_channels(platform: Platform, user_id: str, object_key: str) -> None:
    """MonoAudio unless the user's uploaded ``object_key`` has at least two channels (read from its
    header; an unreadable file is left to the job's own checks)."""
    upload = await uploaded_object(platform, user_id, object_key)
    path = platform.store.local_path(upload.object_key)
    if path is None:
        return  # a remote store: the worker splits what it decodes (a mono file gives one speaker)
    try:
        info = await asyncio.to_thread(probe, path)
    except InvalidInput:
        return  # not audio: request_transcription refuses it with the precise reason
    if info.channels < 2:
        raise MonoAudio(
            "diarized_json transcribes each channel of a two-channel (stereo) call as its own speaker; "
            "this recording is mono. Send it with response_format json or verbose_json.",
            field="response_format",
        )
