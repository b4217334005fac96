"""``Conversation``: one entry point for every update, routing it to the feature handlers.

Updates are taken on once (their ids are recorded; Telegram repeats them after restarts and
webhook time-outs) except payments, which are idempotent by charge id and must never be lost.
Updates of one chat are handled one after another, so notes sent in a row are queued in order.
Nothing escapes as silence or a stack trace: unexpected errors are logged and answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bots.conversation import account, groups, payments, preferences, signin, speak, transcribe
from bots.conversation.commands import Command, mentions, parse_command, without_mention
from bots.conversation.context import BotDeps, Turn, language_of
from bots.conversation.context import account as account_of
from bots.messenger import TelegramError
from bots.model import Callback, Message, PreCheckout, Sender, Update
from bots.texts import say
from core.services import accounts, bot_records

log = logging.getLogger(__name__)

CommandHandler = Callable[[Turn, Message, str], Awaitable[None]]
CallbackHandler = Callable[[Turn, Callback, str], Awaitable[None]]

COMMANDS: dict[str, CommandHandler] = {
    "start": account.start,
    "help": account.help_,
    "balance": account.balance,
    "history": account.history,
    "apikey": account.apikey,
    "login": signin.login,
    "paysupport": account.paysupport,
    "buy": payments.buy,
    "lang": preferences.lang,
    "voice": preferences.voice,
    "mode": preferences.mode,
    "speak": speak.speak_command,
    "transcribe": transcribe.transcribe_command,
    "auto": groups.auto,
}

CALLBACKS: dict[str, CallbackHandler] = {
    "buy": payments.on_buy_button,
    "pkg": payments.on_package,
    "lang": preferences.on_lang,
    "ui": preferences.on_ui,
    "voice": preferences.on_voice,
    "mode": preferences.on_mode,
    "srt": transcribe.on_srt,
}


class ChatLocks:
    """One lock per chat, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def run(self, chat_id: int, work: Callable[[], Awaitable[None]]) -> None:
        lock, users = self._locks.get(chat_id, (asyncio.Lock(), 0))
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                await work()
        finally:
            lock, users = self._locks[chat_id]
            if users <= 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)


class Conversation:
    """What the bot says and does; adapters call ``handle`` with framework-free updates."""

    def __init__(self, deps: BotDeps) -> None:
        self.deps = deps
        self._locks = ChatLocks()

    async def handle(self, update: Update) -> None:
        if isinstance(update, PreCheckout):
            await self._guard(update.sender, update.sender.id, payments.pre_checkout(self.deps, update))
            return
        if isinstance(update, Message) and update.payment is not None:
            await self._guard(update.sender, update.chat_id, payments.successful_payment(self.deps, update))
            return
        kind = "callback" if isinstance(update, Callback) else "message"
        chat_id = (update.chat_id or update.sender.id) if isinstance(update, Callback) else update.chat_id

        async def work() -> None:
            if not await bot_records.claim_update(self.deps.platform.db, update.update_id, kind):
                log.info("update %s was handled already; skipping the repeat", update.update_id)
            elif isinstance(update, Callback):
                await self._guard(update.sender, chat_id, self._on_callback(update))
            else:
                await self._guard(update.sender, chat_id, self._on_message(update))

        # The chat's lock is taken before anything else awaits, so updates keep their order.
        await self._locks.run(chat_id, work)

    async def _guard(self, sender: Sender | None, chat_id: int, work: Awaitable[None]) -> None:
        try:
            await work
        except Exception:
            log.exception("update for chat %s failed", chat_id)
            try:
                await self.deps.messenger.send_text(chat_id, say(language_of(None, sender), "oops"))
            except TelegramError:
                log.warning("could not tell chat %s about the failure", chat_id)

    async def _turn(self, sender: Sender, chat_id: int, reply_to: int | None) -> Turn:
        user, created = await account_of(self.deps, sender)
        return Turn(self.deps, user, sender, chat_id, language_of(user, sender), reply_to, created)

    async def _on_message(self, message: Message) -> None:
        sender = message.sender
        if sender is None or sender.is_bot:
            return
        username = self.deps.username
        command = parse_command(message.text, username)
        if command is not None and not command.for_us:
            return
        if message.is_private:
            await self._private(message, sender, command)
        else:
            await self._group(message, sender, command)

    async def _private(self, message: Message, sender: Sender, command: Command | None) -> None:
        turn = await self._turn(sender, message.chat_id, None)
        if command is not None:
            handler = COMMANDS.get(command.name)
            await (handler(turn, message, command.args) if handler else turn.say("help"))
        elif message.media is not None:
            await transcribe.transcribe_media(turn, message.media, reply_to=message.message_id)
        elif message.text:
            if turn.user.reply_mode == "voice":
                await speak.speak_text(turn, message.text, reply_to=message.message_id)
            else:
                turn.reply_to = message.message_id
                await turn.say("text_hint")

    async def _group(self, message: Message, sender: Sender, command: Command | None) -> None:
        username = self.deps.username
        if command is not None:
            handler = COMMANDS.get(command.name)
            if handler is not None:
                turn = await self._turn(sender, message.chat_id, message.message_id)
                await handler(turn, message, command.args)
            return
        addressed = mentions(message.text, username)
        if message.media is not None:
            if addressed:
                turn = await self._turn(sender, message.chat_id, message.message_id)
                await transcribe.transcribe_media(turn, message.media, reply_to=message.message_id)
                return
            settings = await bot_records.chat_settings(self.deps.platform.db, message.chat_id)
            if settings.auto_transcribe and settings.payer_user_id:
                await self._auto_transcribe(message, sender, settings.payer_user_id)
            return
        if not addressed:
            return
        turn = await self._turn(sender, message.chat_id, message.message_id)
        replied = message.reply_to
        if replied is not None and replied.media is not None:
            await transcribe.transcribe_media(turn, replied.media, reply_to=replied.message_id)
        elif without_mention(message.text or "", username) and turn.user.reply_mode == "voice":
            await speak.speak_text(
                turn, without_mention(message.text or "", username), reply_to=message.message_id
            )
        else:
            await turn.say("group_hint")

    async def _auto_transcribe(self, message: Message, sender: Sender, payer_id: str) -> None:
        """Automatic mode: billed to the admin who turned it on, answered in the sender's language."""
        payer = await accounts.find_account(self.deps.platform.db, payer_id)
        if payer is None:
            return
        assert message.media is not None
        turn = Turn(self.deps, payer, sender, message.chat_id, language_of(None, sender), message.message_id)
        await transcribe.transcribe_media(turn, message.media, reply_to=message.message_id, payer=payer)

    async def _on_callback(self, callback: Callback) -> None:
        chat_id = callback.chat_id or callback.sender.id
        prefix, _, value = callback.data.partition(":")
        handler = CALLBACKS.get(prefix)
        # An old button's answer window may have closed; the action still runs.
        with contextlib.suppress(TelegramError):
            await self.deps.messenger.answer_callback(callback.id)
        if handler is None:
            return
        turn = await self._turn(callback.sender, chat_id, None)
        await handler(turn, callback, value)
