"""Webhook mode through both adapters: the route at a secret path in an aiohttp app, the
``X-Telegram-Bot-Api-Secret-Token`` check, and the conversation over POSTed updates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from tests.e2e.bot_harness import FRAMEWORKS, WEBHOOK_SECRET, BotStack, module_stack, tg_user, voice_note

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=FRAMEWORKS)
async def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotStack]:
    async with module_stack(tmp_path_factory, request.param, webhook=True) as running:
        yield running


async def test_the_webhook_is_registered_with_its_secret_instead_of_polling(stack: BotStack) -> None:
    assert stack.webhook_url is not None
    registered = stack.emulator.webhook
    assert registered is not None
    assert registered["url"] == stack.webhook_url
    assert registered["secret_token"] == WEBHOOK_SECRET
    assert (
        "/telegram/webhook/" in stack.webhook_url and "123456" not in stack.webhook_url
    )  # no token in the path
    assert not stack.emulator.called("getUpdates")


async def test_updates_without_the_secret_are_refused(stack: BotStack) -> None:
    assert stack.webhook_url is not None
    update = stack.emulator.message_update(tg_user(601), text="/start")
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with session.post(stack.webhook_url, json=update, headers=headers) as response:
                assert response.status == 401
    await stack.send(stack.emulator.message_update(tg_user(601), text="/help"))
    await stack.text_containing(601, "/apikey")
    assert not [m for m in stack.emulator.sent(601) if m.text and "free" in m.text]  # /start never ran


async def test_a_voice_note_by_webhook_is_transcribed(stack: BotStack, shared_audio: Path) -> None:
    vera = tg_user(602, "Vera")
    await stack.send(stack.emulator.message_update(vera, text="/start"))
    await stack.text_containing(602, "Hi, Vera!")
    data, duration = voice_note(shared_audio / "en/LJ001-0002.wav")
    update = stack.emulator.message_update(vera, media=stack.emulator.voice(data, duration))
    await stack.send(update)
    voice_id = update["message"]["message_id"]

    def answered() -> bool:
        replies = [m for m in stack.emulator.sent(602, include_deleted=True) if m.reply_to == voice_id]
        return len(replies) >= 2 and replies[0].deleted

    await stack.emulator.wait_for(answered, within=60, what="the transcript")
    answer = [m for m in stack.emulator.sent(602) if m.reply_to == voice_id][-1]
    assert {"being", "comparatively", "modern"} & set((answer.text or "").lower().replace(".", "").split())
