"""Voice to text through both adapters: real PocketSphinx on shared clips sent as OGG/Opus voice
notes, the status message and its progress, SRT, notes in a row, and every way it can go wrong."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from core.audio.decode import read_pcm
from core.audio.encode import encode
from core.services import subtitles
from core.services.transcriptions import get_transcription
from tests.conftest import Clip
from tests.e2e.bot_harness import BotStack, tg_user, voice_note
from tests.e2e.telegram_emulator import SentMessage

pytestmark = pytest.mark.asyncio(loop_scope="module")

SHORT = "en/LJ001-0002.wav"  # "in being comparatively modern." — 1.9 s
LONG = "en/LJ001-0001.wav"  # about 10 s


def words(text: str | None) -> set[str]:
    return set(re.findall(r"[a-z']+", (text or "").lower()))


def reference(clips: list[Clip], name: str) -> str:
    return next(c.reference for c in clips if c.path.name == Path(name).name)


async def send_voice(
    stack: BotStack, user: dict[str, object], data: bytes, duration: int, **extra: object
) -> int:
    update = stack.emulator.message_update(user, media=stack.emulator.voice(data, duration, **extra))
    await stack.send(update)
    return int(update["message"]["message_id"])


async def transcript_for(stack: BotStack, chat_id: int, voice_id: int, *, within: float = 60) -> SentMessage:
    """The answer that replaced the status message (which is deleted once the text is out)."""

    def answered() -> SentMessage | None:
        replies = [m for m in stack.emulator.sent(chat_id, include_deleted=True) if m.reply_to == voice_id]
        if len(replies) >= 2 and replies[0].deleted:
            return replies[-1]
        return None

    message: SentMessage = await stack.emulator.wait_for(
        answered, within=within, what=f"transcript of {voice_id}"
    )
    return message


async def test_a_voice_note_comes_back_as_text_and_is_billed_by_its_seconds(
    stack: BotStack, shared_audio: Path, reference_clips: list[Clip]
) -> None:
    anna = tg_user(201)
    data, duration = voice_note(shared_audio / SHORT)
    voice_id = await send_voice(stack, anna, data, duration)

    status = await stack.reply_to(201, voice_id)
    assert status.params["text"] == "🎧 Got it, starting…"  # as first sent; edits may follow
    answer = await transcript_for(stack, 201, voice_id)
    expected = words(reference(reference_clips, SHORT))
    assert len(words(answer.text) & expected) >= 2, answer.text
    assert stack.emulator.messages[(201, status.message_id)].deleted

    real_seconds = len(read_pcm(shared_audio / SHORT)) / 16000
    assert await stack.balance(201) == 600 - math.ceil(real_seconds)

    # The subtitles button sends an .srt with timed blocks: the file the API serves for the job.
    assert answer.buttons and answer.buttons[0][1].startswith("srt:")
    await stack.send(stack.emulator.callback_update(anna, answer, answer.buttons[0][1]))
    srt = await stack.emulator.wait_for(
        lambda: stack.emulator.sent(201, kind="document"), what="the SRT file"
    )
    assert srt[0].filename and srt[0].filename.endswith(".srt")
    body = (srt[0].data or b"").decode()
    assert body.startswith("1\n00:00:0") and " --> " in body
    assert words(body) & expected
    user = await stack.account(201)
    assert user is not None
    job = await get_transcription(stack.platform, user.id, answer.buttons[0][1].removeprefix("srt:"))
    assert body == subtitles.render(job, "srt")

    await stack.send(stack.emulator.message_update(anna, text="/history"))
    history = await stack.text_containing(201, "Recent transcriptions:")
    assert words(history.text) & expected


async def test_progress_is_shown_on_the_status_message(stack: BotStack, shared_audio: Path) -> None:
    bella = tg_user(202, "Bella")
    data, duration = voice_note(shared_audio / LONG)
    voice_id = await send_voice(stack, bella, data, duration)
    status = await stack.reply_to(202, voice_id)
    await transcript_for(stack, 202, voice_id)
    shown = [stack.emulator.messages[(202, status.message_id)].text or "", *status.edits]
    assert any(re.search(r"Transcribing… \d+%", text) for text in shown), shown


async def test_notes_sent_in_a_row_are_answered_in_order(stack: BotStack, shared_audio: Path) -> None:
    carl = tg_user(203, "Carl")
    clips = [SHORT, "en/LJ001-0003.wav", SHORT]
    voice_ids = []
    for name in clips:
        data, duration = voice_note(shared_audio / name)
        voice_ids.append(await send_voice(stack, carl, data, duration))
    answers = [await transcript_for(stack, 203, voice_id, within=90) for voice_id in voice_ids]
    assert [a.message_id for a in answers] == sorted(a.message_id for a in answers)
    assert all(a.text for a in answers)


async def test_not_enough_minutes_answers_with_the_balance_and_buy(
    stack: BotStack, shared_audio: Path
) -> None:
    dora = tg_user(204, "Dora")
    data, _ = voice_note(shared_audio / SHORT)
    voice_id = await send_voice(stack, dora, data, 700)  # Telegram says 11 min 40 s; the balance is 10 min
    status = await stack.reply_to(204, voice_id)
    await stack.emulator.wait_for(lambda: status.edits, what="the status message edited")
    assert (
        status.text == "Not enough minutes: this needs 11 min 40 s, your balance is 10 min. Top up with /buy."
    )
    assert status.buttons == [("⭐ Buy minutes", "buy")]
    assert await stack.balance(204) == 600


@pytest.mark.parametrize(
    ("media_extra", "expected"),
    [
        ({"duration": 20000}, "This recording is too long (333 min 20 s); the limit is 240 min."),
        # The emulator is not api.telegram.org, so the bot allows a self-hosted server's 2000 MB.
        (
            {"file_size": 2100 * 1024 * 1024},
            "This file is 2100.0 MB, but bots can download at most 2000 MB from Telegram.",
        ),
        (
            {"kind": "document", "mime_type": "application/pdf", "file_name": "a.pdf"},
            "I can only transcribe audio and video. This file (application/pdf) is neither.",
        ),
    ],
)
async def test_files_that_cannot_work_are_refused_with_a_reason(
    stack: BotStack, shared_audio: Path, media_extra: dict[str, object], expected: str
) -> None:
    user = tg_user(205 + len(str(media_extra)), "Ed")
    data, duration = voice_note(shared_audio / SHORT)
    extra = dict(media_extra)
    kind = str(extra.pop("kind", "voice"))
    duration = int(extra.pop("duration", duration))  # type: ignore[call-overload]
    update = stack.emulator.message_update(
        user, media=stack.emulator.voice(data, duration, kind=kind, **extra)
    )
    await stack.send(update)
    await stack.text_containing(int(user["id"]), expected)  # type: ignore[call-overload]
    assert await stack.balance(int(user["id"])) == 600  # type: ignore[call-overload]


async def test_a_short_audio_document_is_measured_and_refused(stack: BotStack) -> None:
    fred = tg_user(230, "Fred")
    tone = (0.2 * np.sin(np.arange(6400) * 2 * np.pi * 440 / 16000)).astype(np.float32)  # 0.4 s
    data = encode(tone, 16000, "opus")
    media = stack.emulator.voice(data, 0, kind="document", mime_type="audio/ogg", file_name="beep.ogg")
    media[1].pop("duration", None)
    await stack.send(stack.emulator.message_update(fred, media=media))
    await stack.text_containing(230, "This recording is too short (0 s); send at least 1 s of speech.")


async def test_an_audio_document_without_duration_is_transcribed(
    stack: BotStack, shared_audio: Path, reference_clips: list[Clip]
) -> None:
    gina = tg_user(231, "Gina")
    data, _ = voice_note(shared_audio / SHORT)
    media = stack.emulator.voice(data, 0, kind="document", mime_type="audio/ogg", file_name="note.ogg")
    media[1].pop("duration", None)
    update = stack.emulator.message_update(gina, media=media)
    await stack.send(update)
    answer = await transcript_for(stack, 231, int(update["message"]["message_id"]))
    assert words(answer.text) & words(reference(reference_clips, SHORT))


async def test_a_broken_file_fails_clearly_and_the_minutes_come_back(stack: BotStack) -> None:
    hugo = tg_user(232, "Hugo")
    voice_id = await send_voice(stack, hugo, b"OggS" + bytes(range(256)) * 40, 5)
    answer = await transcript_for(stack, 232, voice_id)
    assert answer.text and answer.text.startswith("I could not read the audio in this file")
    assert await stack.balance(232) == 600


async def test_a_file_telegram_refuses_to_hand_out_fails_and_is_refunded(stack: BotStack) -> None:
    jill = tg_user(234, "Jill")
    too_big = bytes(21 * 1024 * 1024)  # getFile refuses over 20 MB; the size was not announced
    update = stack.emulator.message_update(jill, media=stack.emulator.voice(too_big, 30, file_size=None))
    update["message"]["voice"].pop("file_size")
    await stack.send(update)
    answer = await transcript_for(stack, 234, int(update["message"]["message_id"]))
    assert answer.text == "Sorry, that did not work: The file is larger than Telegram lets bots download."
    assert await stack.balance(234) == 600


async def test_delivery_waits_out_flood_control_and_sends_once(stack: BotStack, shared_audio: Path) -> None:
    ivan = tg_user(233, "Ivan")
    data, duration = voice_note(shared_audio / SHORT)
    voice_id = await send_voice(stack, ivan, data, duration)
    await stack.reply_to(233, voice_id)  # the status message is out; the next send is the delivery
    stack.emulator.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    answer = await transcript_for(stack, 233, voice_id)
    assert answer.text
    replies = [m for m in stack.emulator.sent(233) if m.reply_to == voice_id]
    assert replies == [answer]  # delivered exactly once, after the 429
    refused = [c for c in stack.emulator.called("sendMessage") if c.params.get("chat_id") in (233, "233")]
    assert len(refused) == 3  # status, the refused attempt, the retry
