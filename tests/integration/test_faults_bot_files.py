"""Bad files through the Telegram bot (aiogram, the Bot API emulator, embedded workers, PocketSphinx):
each sender gets one clear answer, keeps every minute a failed file held, is charged only for the
audio a file really holds, and the bot and workers keep answering afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.audio.decode import read_pcm
from tests.e2e.bot_harness import BotStack, bot_stack, migrated_template, tg_user, voice_note
from tests.e2e.telegram_emulator import SentMessage
from tests.integration.bad_files import LONGER, SPEECH, flac_claiming, flac_metadata

FREE_SECONDS = 600


@dataclass(frozen=True)
class BotCase:
    """A file as Telegram hands it over (``duration`` is Telegram's claim; None for a document)
    and the answer the sender must get: a fragment of it and the seconds it costs."""

    name: str
    data: bytes
    duration: int | None
    answer: str
    charged: int = 0
    kind: str = "voice"


def cases(shared_audio: Path) -> list[BotCase]:
    speech = read_pcm(shared_audio / SPEECH)
    longer = (shared_audio / LONGER).read_bytes()
    noise = bytes(range(256)) * 200
    unreadable = "I could not read the audio in this file"
    return [
        BotCase("empty", b"", 3, unreadable),
        BotCase("random bytes", b"\x00" + noise, 5, unreadable),
        BotCase("cut in its header", longer[:200], 11, unreadable),
        BotCase("corrupt frames", flac_metadata(longer) + noise, 11, unreadable),
        # Telegram says 2 s; the file's header says ten hours: the file decides, and refuses.
        BotCase("header claims ten hours", flac_claiming(speech, 10 * 3600), 2, "the maximum is 240 min"),
        # A document carries no duration, so the bot measures it: the header claims three hours.
        BotCase(
            "document claims three hours",
            flac_claiming(speech, 3 * 3600),
            None,
            "Not enough minutes: this needs 180 min",
        ),
        # Telegram says 2 s and the header three hours; 1.9 s of speech are there: 2 s charged.
        BotCase("voice claims three hours", flac_claiming(speech, 3 * 3600), 2, "comparatively", charged=2),
        # A WAV sent as an "MP3" document: the content decides.
        BotCase("wav named mp3", (shared_audio / SPEECH).read_bytes(), None, "comparatively", charged=2),
    ]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[BotStack]:
    async with bot_stack(tmp_path, await migrated_template(tmp_path), framework="aiogram") as running:
        yield running


def media(stack: BotStack, case: BotCase) -> tuple[str, dict[str, Any]]:
    if case.duration is not None:
        return stack.emulator.voice(case.data, case.duration)
    kind, item = stack.emulator.voice(
        case.data, 0, kind="document", mime_type="audio/mpeg", file_name=f"{case.name}.mp3"
    )
    item.pop("duration", None)
    return kind, item


async def settled_answer(stack: BotStack, chat_id: int, message_id: int, fragment: str) -> SentMessage:
    """Wait until the bot's replies to ``message_id`` come down to one message saying ``fragment``:
    the answer that replaced the status message, or the status message edited into a refusal."""

    def settled() -> SentMessage | None:
        live = [m for m in stack.emulator.sent(chat_id) if m.reply_to == message_id]
        return live[0] if len(live) == 1 and fragment in (live[0].text or "") else None

    try:
        found: SentMessage = await stack.emulator.wait_for(settled, within=90, what=repr(fragment))
    except AssertionError:
        replies = stack.emulator.sent(chat_id, include_deleted=True)
        raise AssertionError([(m.text, m.deleted) for m in replies if m.reply_to == message_id]) from None
    return found


@pytest.mark.slow
async def test_every_bad_file_gets_one_clear_answer_and_costs_only_what_it_holds(
    stack: BotStack, shared_audio: Path
) -> None:
    sent: list[tuple[BotCase, int, int]] = []
    for number, case in enumerate(cases(shared_audio)):
        user = tg_user(500 + number, "Tester")
        update = stack.emulator.message_update(user, media=media(stack, case))
        await stack.send(update)
        sent.append((case, int(user["id"]), int(update["message"]["message_id"])))

    for case, chat_id, message_id in sent:
        await settled_answer(stack, chat_id, message_id, case.answer)
        assert await stack.balance(chat_id) == FREE_SECONDS - case.charged, case.name

    # Still answering: a good voice note from someone new.
    data, duration = voice_note(shared_audio / SPEECH)
    update = stack.emulator.message_update(tg_user(599, "Last"), media=stack.emulator.voice(data, duration))
    await stack.send(update)
    await settled_answer(stack, 599, int(update["message"]["message_id"]), "comparatively")
