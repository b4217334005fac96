"""Text to voice: ``/speak TEXT``, and any text in voice mode, answered with a voice note.

The job is billed by the seconds of audio it produces; the ``deliver`` step sends the OGG/Opus.
"""

from __future__ import annotations

import contextlib

from bots.conversation.context import Turn
from bots.explain import is_domain_error
from bots.messenger import TelegramError
from bots.model import Message
from core.services.speech import SpeechRequest, request_speech


async def speak_text(turn: Turn, text: str, *, reply_to: int) -> None:
    """Queue ``text`` as speech in the user's voice; errors are answered at once."""
    deps = turn.deps
    try:
        await request_speech(
            deps.platform,
            turn.user.id,
            SpeechRequest(
                text=text,
                voice=turn.user.voice or "alloy",
                audio_format="opus",
                source="telegram",
                delivery={"chat_id": turn.chat_id, "reply_to": reply_to, "lang": turn.lang},
            ),
        )
    except Exception as exc:
        if not is_domain_error(exc):
            raise
        await turn.explain(exc)
        return
    with contextlib.suppress(TelegramError):  # only a courtesy indicator
        await deps.messenger.send_action(turn.chat_id, "record_voice")


async def speak_command(turn: Turn, message: Message, args: str) -> None:
    """``/speak TEXT``, or ``/speak`` as a reply to a message whose text should be spoken."""
    text = args or (message.reply_to.text if message.reply_to and message.reply_to.text else "")
    if not text.strip():
        await turn.say("speak_usage")
        return
    await speak_text(turn, text, reply_to=message.message_id)
