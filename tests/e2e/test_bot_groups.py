"""Groups through both adapters: silent unless mentioned, asked with /transcribe, or switched to
automatic transcription by an admin (who then pays for it)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from core.audio.decode import read_pcm
from tests.e2e.bot_harness import BotStack, tg_user, voice_note
from tests.e2e.telegram_emulator import SentMessage

pytestmark = pytest.mark.asyncio(loop_scope="module")

CLIP = "en/LJ001-0002.wav"


def group(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "type": "supergroup", "title": "Team"}


async def post(stack: BotStack, user: dict[str, Any], chat_id: int, **content: Any) -> dict[str, Any]:
    update = stack.emulator.message_update(user, chat=group(chat_id), **content)
    await stack.send(update)
    return dict(update["message"])


async def settle(stack: BotStack, user: dict[str, Any], chat_id: int) -> int:
    """Updates of a chat are handled in order: once /help is answered, earlier ones were handled.
    Returns the id of the /help message."""
    message = await post(stack, user, chat_id, text=f"/help@{stack.emulator.username}")
    await stack.reply_to(chat_id, message["message_id"])
    return int(message["message_id"])


async def transcript(stack: BotStack, chat_id: int, voice_id: int) -> SentMessage:
    def done() -> SentMessage | None:
        replies = [m for m in stack.emulator.sent(chat_id, include_deleted=True) if m.reply_to == voice_id]
        return replies[-1] if len(replies) >= 2 and replies[0].deleted else None

    result: SentMessage = await stack.emulator.wait_for(done, within=60, what="a transcript")
    return result


async def test_the_bot_stays_quiet_until_asked(stack: BotStack, shared_audio: Path) -> None:
    chat, rita, sam = -1001, tg_user(501, "Rita"), tg_user(502, "Sam")
    data, duration = voice_note(shared_audio / CLIP)
    voice = await post(stack, rita, chat, media=stack.emulator.voice(data, duration))
    await post(stack, rita, chat, text="just chatting")
    await post(stack, rita, chat, text="/start@some_other_bot")
    help_id = await settle(stack, sam, chat)
    assert [m.reply_to for m in stack.emulator.sent(chat)] == [help_id]  # only /help was answered
    assert await stack.account(501) is None  # nobody was signed up by being in the group

    # /transcribe as a reply: Sam asked, so Sam pays.
    await post(stack, sam, chat, text="/transcribe", reply_to=voice)
    answer = await transcript(stack, chat, voice["message_id"])
    assert {"being", "comparatively", "modern"} & set((answer.text or "").lower().split())
    seconds = len(read_pcm(shared_audio / CLIP)) / 16000
    assert await stack.balance(502) == 600 - math.ceil(seconds)
    assert await stack.account(501) is None

    # A mention in a reply works the same way.
    await post(stack, sam, chat, text=f"@{stack.emulator.username} please", reply_to=voice)
    await stack.emulator.wait_for(
        lambda: len([m for m in stack.emulator.sent(chat) if m.reply_to == voice["message_id"]]) >= 2,
        what="a second transcript",
    )


async def test_admins_turn_on_automatic_transcription_and_pay_for_it(
    stack: BotStack, shared_audio: Path
) -> None:
    chat, tom, uma = -1002, tg_user(511, "Tom"), tg_user(512, "Uma")
    stack.emulator.set_member(chat, 511, "creator")

    await post(stack, uma, chat, text="/auto")
    await stack.text_containing(chat, "Only the chat's admins can change this.")

    await post(stack, tom, chat, text="/auto")
    await stack.text_containing(chat, "Automatic transcription is on")

    data, duration = voice_note(shared_audio / CLIP)
    voice = await post(stack, uma, chat, media=stack.emulator.voice(data, duration))
    await transcript(stack, chat, voice["message_id"])
    seconds = len(read_pcm(shared_audio / CLIP)) / 16000
    assert await stack.balance(511) == 600 - math.ceil(seconds)  # the admin who turned it on pays
    assert await stack.balance(512) == 600  # not the sender

    await post(stack, tom, chat, text="/auto off")
    await stack.text_containing(chat, "Automatic transcription is off.")
    quiet = await post(stack, uma, chat, media=stack.emulator.voice(data, duration))
    await settle(stack, tom, chat)
    assert not [m for m in stack.emulator.sent(chat) if m.reply_to == quiet["message_id"]]
