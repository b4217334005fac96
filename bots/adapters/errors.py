"""Sorting Telegram's refusals (a 400 description is all it gives) into the Messenger's tree."""

from __future__ import annotations

from bots.messenger import BadRequest, ChatUnavailable, FileTooBig, MessageGone, TelegramError

_GONE = (
    "message to edit not found",
    "message to delete not found",
    "message is not modified",
    "message can't be edited",
    "message can't be deleted",
    "message_id_invalid",
)
_CHAT_GONE = ("chat not found", "bot was blocked", "user is deactivated", "bot was kicked")


def classify_refusal(description: str) -> TelegramError:
    """The Messenger error for a 400/403 whose ``description`` is given."""
    text = description.lower()
    if any(marker in text for marker in _GONE):
        return MessageGone(description)
    if "file is too big" in text:
        return FileTooBig(description)
    if any(marker in text for marker in _CHAT_GONE):
        return ChatUnavailable(description)
    return BadRequest(description)
