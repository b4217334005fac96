"""/lang (recognition and interface language), /voice (one of the seven voices), /mode."""

from __future__ import annotations

import functools

from bots.conversation.context import Turn
from bots.model import Button, Callback, Keyboard, Message
from bots.texts import say
from core.services import users
from core.services.catalog import DEFAULT_VOICE, voices

# Recognition languages offered as buttons ("auto" detects per recording).
ASR_LANGUAGES = {
    "auto": None,
    "en": "English",
    "ru": "Русский",
    "uk": "Українська",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
}
UI_LANGUAGES = {"en": "English", "ru": "Русский"}


def _asr_name(code: str, lang: str) -> str:
    return ASR_LANGUAGES.get(code) or say(lang, "auto")


def _mark(text: str, chosen: bool) -> str:
    return f"✓ {text}" if chosen else text


def lang_keyboard(turn: Turn) -> Keyboard:
    current = turn.user.asr_language or "auto"
    codes = list(ASR_LANGUAGES)
    rows = [
        [Button(_mark(_asr_name(c, turn.lang), c == current), f"lang:{c}") for c in codes[i : i + 4]]
        for i in range(0, len(codes), 4)
    ]
    rows.append(
        [Button(_mark(f"🌐 {name}", code == turn.lang), f"ui:{code}") for code, name in UI_LANGUAGES.items()]
    )
    return rows


async def lang(turn: Turn, message: Message, args: str) -> None:
    """``/lang`` shows the choices; ``/lang ru`` sets the recognition language directly."""
    if args and args.split()[0].lower() in ASR_LANGUAGES:
        await set_asr_language(turn, args.split()[0].lower())
        return
    await turn.say(
        "lang_choose",
        asr=_asr_name(turn.user.asr_language or "auto", turn.lang),
        ui=UI_LANGUAGES[turn.lang],
        buttons=lang_keyboard(turn),
    )


async def set_asr_language(turn: Turn, code: str) -> None:
    turn.user = await users.update_preferences(turn.deps.platform, turn.user.id, asr_language=code)
    await turn.say("lang_set", asr=_asr_name(code, turn.lang))


async def on_lang(turn: Turn, callback: Callback, value: str) -> None:
    if value in ASR_LANGUAGES:
        await set_asr_language(turn, value)


async def on_ui(turn: Turn, callback: Callback, value: str) -> None:
    if value in UI_LANGUAGES:
        turn.user = await users.update_preferences(turn.deps.platform, turn.user.id, ui_language=value)
        turn.lang = value
        await turn.say("ui_set")


@functools.cache
def voice_labels() -> dict[str, str]:
    """Button labels (``Nova (f)``) by voice id, in the catalog's order."""
    return {v["id"]: f"{v['name']} ({v['gender'][:1]})" if v["gender"] else v["name"] for v in voices()}


def _voice_label(voice_id: str) -> str:
    return voice_labels().get(voice_id, voice_id)


def voice_keyboard(current: str) -> Keyboard:
    buttons = [Button(_mark(label, v == current), f"voice:{v}") for v, label in voice_labels().items()]
    return [buttons[i : i + 3] for i in range(0, len(buttons), 3)]


async def voice(turn: Turn, message: Message, args: str) -> None:
    """``/voice`` shows the seven voices; ``/voice nova`` picks one directly."""
    if args and args.split()[0].lower() in voice_labels():
        await set_voice(turn, args.split()[0].lower())
        return
    current = turn.user.voice or DEFAULT_VOICE
    await turn.say("voice_choose", voice=_voice_label(current), buttons=voice_keyboard(current))


async def set_voice(turn: Turn, voice_id: str) -> None:
    turn.user = await users.update_preferences(turn.deps.platform, turn.user.id, voice=voice_id)
    await turn.say("voice_set", voice=_voice_label(voice_id))


async def on_voice(turn: Turn, callback: Callback, value: str) -> None:
    if value in voice_labels():
        await set_voice(turn, value)


def mode_keyboard(turn: Turn) -> Keyboard:
    current = turn.user.reply_mode or "text"
    return [
        [
            Button(_mark(say(turn.lang, "mode_button_voice"), current == "voice"), "mode:voice"),
            Button(_mark(say(turn.lang, "mode_button_text"), current == "text"), "mode:text"),
        ]
    ]


async def mode(turn: Turn, message: Message, args: str) -> None:
    """``/mode`` shows the choice; ``/mode voice`` or ``/mode text`` sets it."""
    if args.lower() in ("voice", "text"):
        await set_mode(turn, args.lower())
        return
    current = turn.user.reply_mode or "text"
    await turn.say("mode_choose", mode=say(turn.lang, f"mode_{current}"), buttons=mode_keyboard(turn))


async def set_mode(turn: Turn, value: str) -> None:
    turn.user = await users.update_preferences(turn.deps.platform, turn.user.id, reply_mode=value)
    await turn.say("mode_choose", mode=say(turn.lang, f"mode_{value}"))


async def on_mode(turn: Turn, callback: Callback, value: str) -> None:
    if value in ("voice", "text"):
        await set_mode(turn, value)
