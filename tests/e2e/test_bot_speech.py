"""Text to voice through both adapters: real espeak-ng replies as OGG/Opus voice notes, decoded
back (and recognized by PocketSphinx), billed by their seconds."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import pytest

from asr.base import TranscriptionOptions
from asr.registry import AsrConfig, AsrEngines
from asr.transcribe import transcribe_audio
from billing import ledger
from core.audio.decode import decode_pcm, read_pcm
from core.audio.probe import probe
from core.db.models import SpeechJob
from tests.e2e.bot_harness import BotStack, tg_user
from tests.e2e.telegram_emulator import SentMessage

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def say_to_bot(stack: BotStack, user: dict[str, object], text: str) -> int:
    update = stack.emulator.message_update(user, text=text)
    await stack.send(update)
    return int(update["message"]["message_id"])


def check_voice_note(message: SentMessage, tmp_path: Path) -> float:
    """The voice note is OGG/Opus that decodes to sound; returns its length in seconds."""
    assert message.data
    info = probe(io.BytesIO(message.data))
    assert (info.format_name, info.codec) == ("ogg", "opus")
    path = tmp_path / "reply.ogg"
    path.write_bytes(message.data)
    pcm = read_pcm(path)
    assert len(pcm) / 16000 == pytest.approx(info.duration_seconds, abs=0.1)
    assert float(abs(pcm).max()) > 0.05  # not silence
    return info.duration_seconds


async def test_speak_answers_with_a_voice_note_billed_by_its_seconds(stack: BotStack, tmp_path: Path) -> None:
    kim = tg_user(301, "Kim")
    message_id = await say_to_bot(stack, kim, "/speak Hello world. This is a test of the speech engine.")
    voice = await stack.reply_to(301, message_id, kind="voice")
    seconds = check_voice_note(voice, tmp_path)
    assert 1.5 < seconds < 15
    assert int(voice.params["duration"]) == math.ceil(seconds)
    assert await stack.balance(301) == 600 - math.ceil(seconds)

    # The reply is real speech: PocketSphinx hears some of the words.
    recognized = recognize(voice.data or b"", tmp_path)
    assert {"hello", "world", "test", "speech"} & set(re.findall(r"[a-z]+", recognized.lower())), recognized


async def test_voice_mode_speaks_plain_text_in_the_chosen_voice(stack: BotStack, tmp_path: Path) -> None:
    lea = tg_user(302, "Lea", "ru")
    await say_to_bot(stack, lea, "/mode voice")
    await stack.text_containing(302, "голосовым сообщением")
    await say_to_bot(stack, lea, "/voice onyx")
    await stack.text_containing(302, "Голос:")
    message_id = await say_to_bot(stack, lea, "Привет! Это проверка синтеза речи.")
    voice = await stack.reply_to(302, message_id, kind="voice")
    check_voice_note(voice, tmp_path)
    actions = [c.params.get("action") for c in stack.emulator.called("sendChatAction")]
    assert "record_voice" in actions


async def test_speak_without_text_explains_how(stack: BotStack) -> None:
    max_ = tg_user(303, "Max")
    await say_to_bot(stack, max_, "/speak")
    await stack.text_containing(303, "Write the text after the command")


async def test_text_too_long_for_a_voice_note_is_refused(stack: BotStack) -> None:
    nia = tg_user(304, "Nia")
    await say_to_bot(stack, nia, "/speak " + "word " * 1100)
    await stack.text_containing(304, "The text is too long for one voice message")
    assert await stack.balance(304) == 600


def recognize(ogg: bytes, tmp_path: Path) -> str:
    """PocketSphinx (the real offline engine) on the decoded voice note."""
    path = tmp_path / "recognize.ogg"
    path.write_bytes(ogg)
    engines = AsrEngines(AsrConfig(models_dir=tmp_path / "models", default_engine="pocketsphinx"))
    engine = engines.get()
    result = transcribe_audio(
        engine,
        lambda mode: decode_pcm(path, channels=mode),
        duration=probe(path).duration_seconds,
        options=TranscriptionOptions(language="en"),
    )
    return str(result.text)


async def spend(stack: BotStack, telegram_id: int, seconds: int) -> None:
    """Record an earlier speech job of ``seconds``, held and captured like any other."""
    user = await stack.account(telegram_id)
    assert user is not None
    async with stack.platform.db.write() as session:
        job = SpeechJob(user_id=user.id, source="telegram", text="earlier", status="completed")
        job.billed_seconds = job.hold_seconds = seconds
        session.add(job)
        await session.flush()
        await ledger.hold(session, user.id, seconds, job_id=job.id, channel="telegram", usage_kind="tts")
        await ledger.settle(session, job.id, seconds)


async def test_speech_the_balance_cannot_finish_is_explained_and_costs_nothing(stack: BotStack) -> None:
    ola = tg_user(305, "Ola")
    await say_to_bot(stack, ola, "/start")
    await stack.text_containing(305, "Hi")
    await spend(stack, 305, 540)  # 60 s left: the estimate fits, the 79 s of speech do not
    message_id = await say_to_bot(stack, ola, "/speak " + "WWWWWWWWWW " * 40)
    answer = await stack.reply_to(305, message_id)
    assert answer.text and "ran out before the whole text was spoken" in answer.text, answer
    assert answer.reply_markup and "buy" in str(answer.reply_markup)
    assert not stack.emulator.sent(305, kind="voice")
    assert await stack.balance(305) == 60
