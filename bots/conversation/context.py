"""What every handler works with: the bot's dependencies, and one turn of the conversation."""

from __future__ import annotations

from dataclasses import dataclass

from bots.explain import explain_error
from bots.messenger import CLOUD_DOWNLOAD_LIMIT, LOCAL_DOWNLOAD_LIMIT, Messenger
from bots.model import Keyboard, Sender
from bots.progress import ProgressWatcher
from bots.texts import say
from core.platform import Platform
from core.services import accounts
from core.services.accounts import User
from core.settings import Settings

OFFICIAL_API = "https://api.telegram.org"


@dataclass
class BotDeps:
    """Built once per bot process and shared by every turn."""

    platform: Platform
    messenger: Messenger
    username: str  # the bot's @username, without the @
    watcher: ProgressWatcher

    @property
    def settings(self) -> Settings:
        return self.platform.settings

    @property
    def download_limit(self) -> int:
        return download_limit(self.settings)


def download_limit(settings: Settings) -> int:
    """getFile serves 20 MB on Telegram's cloud; a self-hosted Bot API server serves 2 GB."""
    return CLOUD_DOWNLOAD_LIMIT if settings.telegram_api_url == OFFICIAL_API else LOCAL_DOWNLOAD_LIMIT


@dataclass
class Turn:
    """One incoming update from one person in one chat, with their account and language."""

    deps: BotDeps
    user: User
    sender: Sender
    chat_id: int
    lang: str
    reply_to: int | None = None
    created: bool = False  # the account was made by this turn

    async def say(self, key: str, *, buttons: Keyboard | None = None, **values: object) -> int:
        return await self.send(say(self.lang, key, **values), buttons=buttons)

    async def send(self, text: str, *, buttons: Keyboard | None = None, html: bool = False) -> int:
        return await self.deps.messenger.send_text(
            self.chat_id, text, reply_to=self.reply_to, buttons=buttons, html=html
        )

    async def explain(self, exc: BaseException) -> int:
        answer = explain_error(exc, self.lang)
        return await self.send(answer.text, buttons=answer.buttons)


async def account(deps: BotDeps, sender: Sender) -> tuple[User, bool]:
    """The sender's account, made on first contact (with the free minutes, once)."""
    return await accounts.telegram_account(
        deps.platform.db,
        sender.id,
        name=sender.name,
        language=sender.language_code,
        free_minutes=deps.settings.free_minutes,
        username=sender.username,
    )


def language_of(user: User | None, sender: Sender | None) -> str:
    """The interface language: the user's choice, else their Telegram language."""
    if user is not None and user.ui_language in ("en", "ru"):
        return user.ui_language
    code = (sender.language_code if sender else "") or ""
    return "ru" if code.lower().startswith(("ru", "uk", "be", "kk")) else "en"
