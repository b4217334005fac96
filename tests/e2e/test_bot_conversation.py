"""The conversation through the real aiogram and python-telegram-bot clients, against the Bot API
emulator: /start, /help, /balance, languages, settings, /apikey, /history, repeated updates."""

from __future__ import annotations

import re

import pytest

from core.services.api_keys import authenticate
from core.services.user_directory import find_user
from tests.e2e.bot_harness import BotStack, tg_user

# One running stack per framework for the whole module (the fixture in conftest.py).
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def command(stack: BotStack, user: dict[str, object], text: str) -> None:
    await stack.send(stack.emulator.message_update(user, text=text))


async def test_start_creates_the_account_and_grants_free_minutes_once(stack: BotStack) -> None:
    anna = tg_user(101)
    await command(stack, anna, "/start")
    welcome = await stack.text_containing(101, "10 min free")
    assert welcome.text is not None and welcome.text.startswith("Hi, Anna!")
    assert await stack.balance(101) == 600

    await command(stack, anna, "/start")
    await stack.text_containing(101, "Welcome back, Anna! Your balance is 10 min.")
    assert await stack.balance(101) == 600  # the free minutes came once

    await command(stack, anna, "/balance")
    balance = await stack.text_containing(101, "Balance:")
    assert balance.text is not None and "Balance: 10 min" in balance.text and "Used: 0 s" in balance.text

    await command(stack, anna, "/help")
    help_text = await stack.text_containing(101, "/apikey")
    assert help_text.text is not None and "/speak" in help_text.text and "/buy" in help_text.text


async def test_russian_speakers_are_answered_in_russian_and_can_switch(stack: BotStack) -> None:
    boris = tg_user(102, "Борис", "ru")
    await command(stack, boris, "/start")
    await stack.text_containing(102, "Привет, Борис!")

    await command(stack, boris, "/lang")
    menu = await stack.text_containing(102, "Язык распознавания: Авто")
    assert ("🌐 English", "ui:en") in menu.buttons
    assert ("Русский", "lang:ru") in menu.buttons

    await stack.send(stack.emulator.callback_update(boris, menu, "ui:en"))
    await stack.text_containing(102, "Interface language: English.")
    await command(stack, boris, "/balance")
    await stack.text_containing(102, "Balance: 10 min")

    await stack.send(stack.emulator.callback_update(boris, menu, "lang:ru"))
    await stack.text_containing(102, "Recognition language: Русский.")
    user = await stack.account(102)
    assert user is not None and (user.ui_language, user.asr_language) == ("en", "ru")


async def test_voice_and_mode_are_chosen_with_buttons(stack: BotStack) -> None:
    cara = tg_user(103, "Cara")
    answered_before = len(stack.emulator.called("answerCallbackQuery"))
    await command(stack, cara, "/voice")
    menu = await stack.text_containing(103, "Choose the voice")
    voices = [data for _, data in menu.buttons]
    assert len(voices) == 7 and all(d.startswith("voice:") for d in voices)
    await stack.send(stack.emulator.callback_update(cara, menu, "voice:nova"))
    await stack.text_containing(103, "Voice: ")

    await command(stack, cara, "/mode")
    mode_menu = await stack.text_containing(103, "When you send text")
    await stack.send(stack.emulator.callback_update(cara, mode_menu, "mode:voice"))
    await stack.text_containing(103, "I reply with: a voice note.")

    user = await stack.account(103)
    assert user is not None and (user.voice, user.reply_mode) == ("nova", "voice")
    # Every button press is acknowledged (Telegram shows a spinner until it is).
    assert len(stack.emulator.called("answerCallbackQuery")) - answered_before == 2


async def test_apikey_is_shown_once_and_works_on_the_same_account(stack: BotStack) -> None:
    dan = tg_user(104, "Dan")
    await command(stack, dan, "/apikey")
    shown = await stack.text_containing(104, "nag_")
    call = next(c for c in stack.emulator.called("sendMessage") if "nag_" in str(c.params.get("text")))
    assert call.params.get("parse_mode") == "HTML"
    match = re.search(r"<code>(nag_[A-Za-z0-9_-]+)</code>", str(shown.text))
    assert match is not None
    secret = match.group(1)
    user = await authenticate(stack.platform, secret)
    account = await stack.account(104)
    assert account is not None and user.id == account.id


async def test_plain_text_in_text_mode_gets_a_hint_and_history_starts_empty(stack: BotStack) -> None:
    eve = tg_user(105, "Eve")
    await command(stack, eve, "hello bot")
    await stack.text_containing(105, "Send me a voice note and I will write it down.")
    await command(stack, eve, "/history")
    await stack.text_containing(105, "No transcriptions yet.")


async def test_a_repeated_update_is_handled_once(stack: BotStack) -> None:
    fay = tg_user(106, "Fay")
    update = stack.emulator.message_update(fay, text="/help")
    await stack.send(update)
    await stack.text_containing(106, "/apikey")
    await stack.send(update)  # Telegram repeats an update after a restart or webhook time-out
    await command(stack, fay, "/balance")
    await stack.text_containing(106, "Balance:")
    helps = [m for m in stack.emulator.sent(106) if m.text and "/apikey" in m.text]
    assert len(helps) == 1


async def test_operators_find_a_bot_user_by_their_telegram_username(stack: BotStack) -> None:
    boris = {**tg_user(131, "Boris"), "username": "Boris_K"}
    await command(stack, boris, "/start")
    await stack.text_containing(131, "10 min free")
    found = await find_user(stack.platform.db, "@boris_k")  # any case, as `nagovori users show` takes it
    assert found.telegram_id == 131

    await command(
        stack, {**boris, "username": "boris_new"}, "/balance"
    )  # a renamed user is found by the new name
    await stack.text_containing(131, "Balance:")
    assert (await find_user(stack.platform.db, "@boris_new")).telegram_id == 131
