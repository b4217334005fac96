"""/start, /help, /balance, /history, /apikey and /paysupport."""

from __future__ import annotations

import html

from bots.conversation import payments
from bots.conversation.context import Turn
from bots.model import Message
from bots.texts import duration, say
from core.services import accounts, api_keys, transcriptions

HISTORY_SIZE = 10
SNIPPET_CHARS = 80


def _name(turn: Turn) -> str:
    first = (turn.sender.name or "").split(" ")[0]
    return f", {first}" if first else ""


async def start(turn: Turn, message: Message, args: str) -> None:
    """Welcome; the account (and its free minutes) was made when this turn began, if new."""
    balance = duration(await accounts.balance_seconds(turn.deps.platform.db, turn.user.id), turn.lang)
    key = "welcome_new" if turn.created else "welcome_back"
    await turn.say(key, name=_name(turn), balance=balance)
    if args == "buy":  # deep link t.me/<bot>?start=buy
        await payments.buy(turn, message, "")


async def help_(turn: Turn, message: Message, args: str) -> None:
    await turn.say("help")


async def balance(turn: Turn, message: Message, args: str) -> None:
    report = await accounts.usage(turn.deps.platform.db, turn.user.id)
    lang = turn.lang
    held = say(lang, "balance_held", held=duration(report.held_seconds, lang)) if report.held_seconds else ""
    await turn.say(
        "balance",
        left=duration(report.remaining_seconds, lang),
        used=duration(report.used_seconds, lang),
        asr=duration(report.by_kind.get("asr", 0), lang),
        tts=duration(report.by_kind.get("tts", 0), lang),
        held=held,
    )


async def history(turn: Turn, message: Message, args: str) -> None:
    jobs, _total = await transcriptions.list_transcriptions(
        turn.deps.platform, turn.user.id, limit=HISTORY_SIZE
    )
    if not jobs:
        await turn.say("history_empty")
        return
    lines = [say(turn.lang, "history_header")]
    for job in jobs:
        when = job.created_at.strftime("%d.%m %H:%M")
        length = duration(job.duration_seconds or 0, turn.lang)
        if job.status == "completed":
            text = " ".join((job.transcript_text or "").split())
            snippet = text[:SNIPPET_CHARS] + ("…" if len(text) > SNIPPET_CHARS else "") or "—"
        elif job.status == "failed":
            snippet = "❌ " + (job.error_message or "")
        else:
            snippet = "⏳"
        lines.append(f"• {when} · {length} · {snippet}")
    await turn.send("\n".join(lines))


async def apikey(turn: Turn, message: Message, args: str) -> None:
    """A new API key on the same account, shown once; only in private, never in a group."""
    if not message.is_private:
        await turn.say("private_only")
        return
    created = await api_keys.create_key(turn.deps.platform.db, turn.user.id, name="telegram")
    text = say(
        turn.lang,
        "apikey_html",
        key=html.escape(created.secret),
        url=html.escape(turn.deps.settings.effective_public_url),
    )
    await turn.send(text, html=True)


async def paysupport(turn: Turn, message: Message, args: str) -> None:
    await turn.say("paysupport")
