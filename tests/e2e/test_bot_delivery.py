"""The deliver step against the Bot API emulator with both frameworks' clients: long texts split
on sentences or sent as .txt, voice notes from the object store, resuming after a failure without
sending anything twice, and answers kept in the order the recordings came in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from bots.delivery import TelegramDeliverer
from bots.formatting import split_message
from bots.messenger import TelegramNetworkError
from bots.wiring import messenger_factory
from cli.bootstrap import build_platform
from core.audio.encode import encode
from core.db.base import utcnow
from core.db.migrate import upgrade_async
from core.db.models import Job, SpeechJob, TranscriptionJob
from core.errors import RetryLater
from core.platform import Platform
from core.services.users import create_user
from core.settings import Settings
from tests.e2e.bot_harness import FRAMEWORKS, TOKEN
from tests.e2e.telegram_emulator import TelegramEmulator

CHAT = 777


@dataclass
class Env:
    emulator: TelegramEmulator
    platform: Platform
    deliverer: TelegramDeliverer
    user_id: str


@pytest.fixture(params=FRAMEWORKS)
async def env(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Env]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    emulator = TelegramEmulator(TOKEN)
    await emulator.start()
    database = f"sqlite+aiosqlite:///{tmp_path / 'nagovori.db'}"
    await upgrade_async(database)
    settings = Settings.load(
        data_dir=tmp_path / "data",
        database_url=database,
        telegram_token=TOKEN,
        telegram_api_url=emulator.url,
        bot_framework=request.param,
    )
    platform = build_platform(settings)
    user = await create_user(platform.db, starting_minutes=10)
    yield Env(emulator, platform, TelegramDeliverer(platform, messenger_factory(settings)), user.id)
    await platform.close()
    await emulator.stop()


async def finished(env: Env, job: Job, *, status: str = "completed") -> Job:
    job.user_id = env.user_id
    job.source = "telegram"
    job.status = status
    job.completed_at = utcnow()
    async with env.platform.db.write() as session:
        session.add(job)
    return job


def long_text(sentences: int) -> str:
    return " ".join(f"Sentence {i} of a long recording, spoken slowly and clearly." for i in range(sentences))


async def test_a_long_transcript_is_split_and_resumed_after_a_failure_without_repeats(env: Env) -> None:
    status = await env.emulator._m_sendmessage({"chat_id": CHAT, "text": "⏳"}, {})
    text = long_text(150)  # about 9 000 characters: three messages
    job = await finished(
        env,
        TranscriptionJob(
            transcript_text=text,
            segments=[{"start": 0.0, "end": 1.0, "text": "Sentence 0"}],
            delivery={
                "chat_id": CHAT,
                "reply_to": 5,
                "status_message_id": status["message_id"],
                "lang": "en",
            },
        ),
    )
    # The first part goes out, the second meets a server error (the worker dies or retries) ...
    env.emulator.fail("sendMessage", 502, "Bad Gateway", after=1)
    with pytest.raises(TelegramNetworkError):
        await env.deliverer.deliver(job)
    # ... the retry sends the rest, then flood control stops the clean-up ...
    env.emulator.fail("deleteMessage", 429, "Too Many Requests: retry after 2", retry_after=2)
    with pytest.raises(RetryLater) as retry:
        await env.deliverer.deliver(job)
    assert retry.value.seconds is not None and retry.value.seconds >= 2  # Telegram's retry_after honoured
    # ... and the last retry only removes the status message.
    await env.deliverer.deliver(job)

    parts = [m for m in env.emulator.sent(CHAT) if m.reply_to == 5]
    assert [p.text for p in parts] == split_message(text)
    assert len(parts) == 3
    assert all(len(p.text or "") <= 4096 for p in parts)
    assert parts[-1].buttons == [("🎬 Subtitles (SRT)", f"srt:{job.id}")]
    assert env.emulator.messages[(CHAT, status["message_id"])].deleted


async def test_a_very_long_transcript_comes_as_a_text_file(env: Env) -> None:
    text = long_text(600)  # about 37 000 characters
    job = await finished(
        env, TranscriptionJob(transcript_text=text, delivery={"chat_id": CHAT, "lang": "ru"})
    )
    await env.deliverer.deliver(job)
    (document,) = env.emulator.sent(CHAT, kind="document")
    assert document.filename and document.filename.endswith(".txt")
    assert (document.data or b"").decode() == text
    assert document.text and document.text.startswith("Текст длинный, поэтому присылаю файлом.")
    assert not env.emulator.sent(CHAT, kind="text")


async def test_a_speech_job_is_sent_as_a_voice_note_from_the_store(env: Env) -> None:
    tone = (0.3 * np.sin(np.arange(24000) * 2 * np.pi * 300 / 16000)).astype(np.float32)
    audio = encode(tone, 16000, "opus")
    key = f"results/{env.user_id}/speech.ogg"
    await env.platform.store.put_bytes(key, audio)
    job = await finished(
        env, SpeechJob(text="hi", result_key=key, audio_seconds=1.5, delivery={"chat_id": CHAT, "lang": "en"})
    )
    await env.deliverer.deliver(job)
    (voice,) = env.emulator.sent(CHAT, kind="voice")
    assert voice.data == audio
    assert int(voice.params["duration"]) == 2


async def test_a_failed_job_is_explained_and_an_earlier_answer_goes_first(env: Env) -> None:
    first = await finished(
        env, TranscriptionJob(transcript_text="First words.", delivery={"chat_id": CHAT, "lang": "en"})
    )
    second = await finished(
        env,
        TranscriptionJob(
            delivery={"chat_id": CHAT, "lang": "en"}, error_code="processing_failed", error_message="x"
        ),
        status="failed",
    )
    assert first.created_at < second.created_at
    await env.deliverer.deliver(second)  # the second job's message came first
    texts = [m.text for m in env.emulator.sent(CHAT)]
    assert texts == [
        "First words.",
        "Sorry, recognition failed this time. Your minutes were returned; please try again.",
    ]
    async with env.platform.db.read() as session:
        delivered = await session.get(Job, first.id)
    assert delivered is not None and delivered.delivered_at is not None
