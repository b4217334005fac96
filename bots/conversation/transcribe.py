"""Voice to text: voice notes, audio, round videos, videos and audio/video documents.

The bot answers at once with a status message, queues the job (the minutes are held in the same
transaction), and lets the progress watcher edit the status while it runs; the ``deliver`` step
sends the text. Anything that goes wrong before the job is queued replaces the status message
with the reason.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bots.conversation.context import BotDeps, Turn
from bots.errors import TelegramFileTooBig, TelegramFileUnavailable, UnsupportedFile
from bots.explain import explain_error, is_domain_error
from bots.messenger import BadRequest, FileTooBig
from bots.model import Callback, Media, Message
from bots.progress import StatusMessage
from bots.texts import say
from core.audio.probe import probe
from core.jobs.states import JobStatus
from core.services import subtitles
from core.services.accounts import User
from core.services.transcriptions import TranscriptionRequest, get_transcription, request_transcription


def check_media(deps: BotDeps, media: Media) -> None:
    """Refuse what cannot work before anything is downloaded or charged."""
    if not media.is_audio_or_video:
        raise UnsupportedFile(mime_type=media.mime_type)
    limit = deps.download_limit
    if media.file_size is not None and media.file_size > limit:
        raise TelegramFileTooBig(size_bytes=media.file_size, limit_bytes=limit)


async def measure(deps: BotDeps, media: Media) -> float:
    """The duration Telegram gave, or (documents carry none) the probed length of the file."""
    if media.duration:
        return float(media.duration)
    with tempfile.TemporaryDirectory(prefix="nagovori-bot-") as tmp:
        try:
            path = await deps.messenger.download(media.file_id, Path(tmp) / "input")
        except FileTooBig as exc:
            raise TelegramFileTooBig(
                size_bytes=media.file_size or 0, limit_bytes=deps.download_limit
            ) from exc
        except BadRequest as exc:
            raise TelegramFileUnavailable() from exc
        info = await asyncio.to_thread(probe, path)
    return info.duration_seconds


async def transcribe_media(turn: Turn, media: Media, *, reply_to: int, payer: User | None = None) -> None:
    """Queue ``media`` for transcription on ``payer``'s account (the sender's by default)."""
    deps = turn.deps
    account = payer or turn.user
    try:
        check_media(deps, media)
    except (UnsupportedFile, TelegramFileTooBig) as exc:
        await turn.explain(exc)
        return
    status_id = await deps.messenger.send_text(
        turn.chat_id, say(turn.lang, "status_received"), reply_to=reply_to
    )
    try:
        seconds = await measure(deps, media)
        job = await request_transcription(
            deps.platform,
            account.id,
            TranscriptionRequest(
                telegram_file_id=media.file_id,
                duration_seconds=seconds,
                filename=media.file_name,
                content_type=media.mime_type,
                size_bytes=media.file_size,
                language=account.asr_language or "auto",
                source="telegram",
                delivery={
                    "chat_id": turn.chat_id,
                    "reply_to": reply_to,
                    "status_message_id": status_id,
                    "lang": turn.lang,
                },
            ),
        )
    except Exception as exc:
        if not is_domain_error(exc):
            raise
        answer = explain_error(exc, turn.lang)
        await deps.messenger.edit_text(turn.chat_id, status_id, answer.text, buttons=answer.buttons)
        return
    deps.watcher.watch(
        job.id, job.user_id, StatusMessage(turn.chat_id, status_id, turn.lang), expected_seconds=seconds
    )


def media_of(message: Message | None) -> Media | None:
    return message.media if message is not None else None


async def transcribe_command(turn: Turn, message: Message, args: str) -> None:
    """``/transcribe`` as a reply to a voice note (in groups, or to redo one in private)."""
    media = media_of(message.reply_to) or message.media
    if media is None:
        await turn.say("transcribe_usage")
        return
    target = (
        message.reply_to.message_id if message.reply_to and message.reply_to.media else message.message_id
    )
    await transcribe_media(turn, media, reply_to=target)


async def on_srt(turn: Turn, callback: Callback, job_id: str) -> None:
    """The subtitles button under a transcript: the same .srt file the API serves for the job."""
    try:
        job = await get_transcription(turn.deps.platform, turn.user.id, job_id)
    except Exception as exc:
        if not is_domain_error(exc):
            raise
        await turn.explain(exc)
        return
    srt = subtitles.render(job, "srt") if job.status == JobStatus.COMPLETED and job.segments else ""
    if not srt:
        await turn.say("srt_missing")
        return
    await turn.deps.messenger.send_document(
        turn.chat_id, f"transcript-{job.id[:8]}.srt", srt.encode("utf-8"), reply_to=callback.message_id
    )
