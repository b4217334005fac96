"""Errors of the bot's own making, in the core's shape (so the job pipeline treats them as final).

core.errors.InvalidInput
 ├── TelegramFileTooBig        over the Bot API server's download limit ("file_too_big")
 ├── UnsupportedFile           not audio or video ("unsupported_file")
 └── TelegramFileUnavailable   Telegram would not hand the file out ("telegram_file_unavailable")
"""

from __future__ import annotations

from core.errors import InvalidInput


class TelegramFileTooBig(InvalidInput):
    code = "file_too_big"
    default_message = "The file is larger than Telegram lets bots download."


class UnsupportedFile(InvalidInput):
    code = "unsupported_file"
    default_message = "This file is neither audio nor video."


class TelegramFileUnavailable(InvalidInput):
    code = "telegram_file_unavailable"
    default_message = "Telegram could not provide this file; please send it again."
