"""/login through the real aiogram and python-telegram-bot clients, against the Bot API emulator:
a one-time link into the web dashboard for the sender's own account — once, for ten minutes, only
in private, a few an hour. (Opening the link in a browser: tests/e2e/test_web_telegram_signin.py.)"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest

from core.services import signin_links
from core.services.signin_links import LinkState
from tests.e2e.bot_harness import BotStack, tg_user

pytestmark = pytest.mark.asyncio(loop_scope="module")

LINK = re.compile(r"(\S+/signin/telegram\?token=)([A-Za-z0-9_-]{43})\b")


async def command(
    stack: BotStack, user: dict[str, Any], text: str, chat: dict[str, Any] | None = None
) -> int:
    update = stack.emulator.message_update(user, text=text, chat=chat)
    await stack.send(update)
    return int(update["message"]["message_id"])


async def login_link(stack: BotStack, telegram_id: int, *, already: int = 0) -> tuple[str, str]:
    """The (address, token) of the link in the bot's next answer with one."""

    def found() -> re.Match[str] | None:
        matches = [LINK.search(m.text or "") for m in stack.emulator.sent(telegram_id)]
        links = [m for m in matches if m is not None]
        return links[already] if len(links) > already else None

    match: re.Match[str] = await stack.emulator.wait_for(found, within=30, what="a sign-in link")
    return match.group(1) + match.group(2), match.group(2)


async def test_login_answers_with_a_link_that_signs_in_the_same_account_once(stack: BotStack) -> None:
    await command(stack, tg_user(1301, "Lena"), "/login")
    url, token = await login_link(stack, 1301)
    assert url.startswith(stack.platform.settings.effective_public_url + "/signin/telegram?token=")
    answer = await stack.text_containing(1301, "works once, for 10 minutes")
    assert answer.params.get("parse_mode") in (None, "")  # plain text: the token is never mangled

    # Looking at the link (what a link preview does) does not use it up.
    assert await signin_links.inspect(stack.platform, token) is LinkState.VALID
    first = await signin_links.redeem(stack.platform, token)
    account = await stack.account(1301)
    assert first.state is LinkState.VALID
    assert first.user is not None and account is not None and first.user.id == account.id
    again = await signin_links.redeem(stack.platform, token)
    assert again.state is LinkState.USED and again.user is None
    assert await signin_links.inspect(stack.platform, token) is LinkState.USED
    # A token that was never issued, or one with a character changed, opens nothing.
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert (await signin_links.redeem(stack.platform, forged)).state is LinkState.UNKNOWN


async def test_two_clicks_at_once_sign_in_only_once(stack: BotStack) -> None:
    await command(stack, tg_user(1302, "Max"), "/login")
    _, token = await login_link(stack, 1302)
    outcomes = await asyncio.gather(*(signin_links.redeem(stack.platform, token) for _ in range(4)))
    assert sorted(o.state for o in outcomes) == sorted([LinkState.VALID] + [LinkState.USED] * 3)


async def test_an_expired_link_is_refused(stack: BotStack) -> None:
    await command(stack, tg_user(1303, "Olga"), "/start")
    await stack.text_containing(1303, "free to start")
    account = await stack.account(1303)
    assert account is not None
    link = await signin_links.issue(stack.platform, account.id, ttl=timedelta(milliseconds=50))
    await asyncio.sleep(0.2)
    assert await signin_links.inspect(stack.platform, link.token) is LinkState.EXPIRED
    refused = await signin_links.redeem(stack.platform, link.token)
    assert refused.state is LinkState.EXPIRED and refused.user is None


async def test_in_a_group_the_bot_sends_people_to_a_private_chat(stack: BotStack) -> None:
    group_id = -1001300
    chat = {"id": group_id, "type": "supergroup", "title": "Team"}
    asked = await command(stack, tg_user(1304, "Pavel"), f"/login@{stack.emulator.username}", chat=chat)
    answer = await stack.reply_to(group_id, asked)
    assert answer.text == "Please use this command in a private chat with me."
    for chat_id in (group_id, 1304):  # no link in the group, and none sent privately either
        assert not any("/signin/telegram" in (m.text or "") for m in stack.emulator.sent(chat_id))


async def test_links_are_limited_per_hour_and_help_lists_login(stack: BotStack) -> None:
    rita = tg_user(1305, "Rita", language_code="ru")
    for n in range(signin_links.ISSUE_LIMIT):
        await command(stack, rita, "/login")
        await login_link(stack, 1305, already=n)
    await command(stack, rita, "/login")
    refused = await stack.text_containing(1305, "За последний час вы запросили 5 ссылок")
    assert refused.text is not None and "/signin/telegram" not in refused.text
    await command(stack, rita, "/help")
    await stack.text_containing(1305, "/login — ссылка для входа в веб-кабинет")
