"""Reading commands: ``/cmd@bot args``, and whether a message is addressed to this bot."""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,64}))?(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Command:
    name: str  # lower case, without the slash
    args: str  # the rest of the text, stripped
    for_us: bool  # False when addressed to another bot (/cmd@other_bot)


def parse_command(text: str | None, username: str) -> Command | None:
    """The command at the start of ``text``, or None when the text is not a command."""
    match = _COMMAND.match((text or "").strip())
    if match is None:
        return None
    name, target, args = match.group(1), match.group(2), match.group(3)
    for_us = target is None or target.lower() == username.lower()
    return Command(name.lower(), (args or "").strip(), for_us)


def mentions(text: str | None, username: str) -> bool:
    """True when the text mentions ``@username`` (Telegram usernames are case-insensitive)."""
    if not text or not username:
        return False
    return re.search(rf"@{re.escape(username)}\b", text, re.IGNORECASE) is not None


def without_mention(text: str, username: str) -> str:
    return re.sub(rf"@{re.escape(username)}\b", "", text, flags=re.IGNORECASE).strip()
