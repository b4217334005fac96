"""Both adapters translate the same Bot API update into the same conversation record, and sort
Telegram's refusals the same way."""

from __future__ import annotations

from typing import Any

import pytest
import telegram
from aiogram import types

from bots.adapters import ptb_bot
from bots.adapters.aiogram_bot import build_router
from bots.adapters.convert import callback, message, pre_checkout
from bots.adapters.errors import classify_refusal
from bots.messenger import BadRequest, ChatUnavailable, FileTooBig, MessageGone
from bots.model import Callback, Media, Message, Payment, PreCheckout, Sender

USER = {
    "id": 42,
    "is_bot": False,
    "first_name": "Анна",
    "last_name": "К",
    "username": "anna",
    "language_code": "ru",
}
CHAT = {"id": -100, "type": "supergroup", "title": "Team"}

VOICE_UPDATE: dict[str, Any] = {
    "update_id": 9,
    "message": {
        "message_id": 7,
        "date": 1700000000,
        "chat": CHAT,
        "from": USER,
        "caption": "@nagovori_bot",
        "voice": {
            "file_id": "F1",
            "file_unique_id": "U1",
            "duration": 12,
            "mime_type": "audio/ogg",
            "file_size": 3456,
        },
        "reply_to_message": {
            "message_id": 3,
            "date": 1700000000,
            "chat": CHAT,
            "from": USER,
            "text": "earlier",
        },
    },
}
PAYMENT_UPDATE: dict[str, Any] = {
    "update_id": 10,
    "message": {
        "message_id": 8,
        "date": 1700000000,
        "chat": {"id": 42, "type": "private", "first_name": "Анна"},
        "from": USER,
        "successful_payment": {
            "currency": "XTR",
            "total_amount": 50,
            "invoice_payload": "m60:user",
            "telegram_payment_charge_id": "ch1",
            "provider_payment_charge_id": "",
        },
    },
}
CALLBACK_UPDATE: dict[str, Any] = {
    "update_id": 11,
    "callback_query": {
        "id": "cb1",
        "from": USER,
        "chat_instance": "x",
        "data": "voice:nova",
        "message": {"message_id": 5, "date": 1700000000, "chat": CHAT, "text": "pick"},
    },
}
PRE_CHECKOUT_UPDATE: dict[str, Any] = {
    "update_id": 12,
    "pre_checkout_query": {
        "id": "pq",
        "from": USER,
        "currency": "XTR",
        "total_amount": 50,
        "invoice_payload": "m60:u",
    },
}

SENDER = Sender(42, "Анна К", "anna", "ru", False)


def both(update: dict[str, Any]) -> tuple[Any, Any]:
    """The update as aiogram and as python-telegram-bot parse it."""
    return types.Update.model_validate(update), telegram.Update.de_json(update, None)


def test_a_voice_message_in_a_group_translates_identically() -> None:
    aio, ptb = both(VOICE_UPDATE)
    expected = Message(
        update_id=9,
        chat_id=-100,
        message_id=7,
        chat_type="supergroup",
        sender=SENDER,
        text="@nagovori_bot",
        media=Media("voice", "F1", "U1", 12.0, 3456, "audio/ogg", None),
        reply_to=Message(
            update_id=9, chat_id=-100, message_id=3, chat_type="supergroup", sender=SENDER, text="earlier"
        ),
    )
    assert message(aio.message, aio.update_id) == expected
    assert ptb_bot.translate(ptb) == expected


def test_payments_buttons_and_pre_checkout_translate_identically() -> None:
    aio, ptb = both(PAYMENT_UPDATE)
    paid = message(aio.message, 10)
    assert paid.payment == Payment("ch1", "m60:user", "XTR", 50)
    assert ptb_bot.translate(ptb) == paid

    aio, ptb = both(CALLBACK_UPDATE)
    assert callback(aio.callback_query, 11) == Callback(
        11, "cb1", SENDER, "voice:nova", -100, 5, "supergroup"
    )
    assert ptb_bot.translate(ptb) == callback(aio.callback_query, 11)

    aio, ptb = both(PRE_CHECKOUT_UPDATE)
    assert pre_checkout(aio.pre_checkout_query, 12) == PreCheckout(12, "pq", SENDER, "XTR", 50, "m60:u")
    assert ptb_bot.translate(ptb) == pre_checkout(aio.pre_checkout_query, 12)


def test_documents_say_whether_they_hold_audio_or_video() -> None:
    assert Media("document", "f", mime_type="audio/mpeg").is_audio_or_video
    assert Media("document", "f", mime_type="video/mp4").is_audio_or_video
    assert not Media("document", "f", mime_type="application/pdf").is_audio_or_video
    assert not Media("document", "f").is_audio_or_video
    assert Media("video_note", "f").is_audio_or_video


@pytest.mark.parametrize(
    ("description", "kind"),
    [
        ("Bad Request: message to edit not found", MessageGone),
        ("Bad Request: message is not modified: specified new message content ...", MessageGone),
        ("Bad Request: file is too big", FileTooBig),
        ("Forbidden: bot was blocked by the user", ChatUnavailable),
        ("Bad Request: chat not found", ChatUnavailable),
        ("Bad Request: wrong file_id", BadRequest),
    ],
)
def test_refusals_are_sorted_by_their_description(description: str, kind: type[Exception]) -> None:
    assert type(classify_refusal(description)) is kind


def test_the_aiogram_router_registers_one_handler_per_update_kind() -> None:
    async def ignore(_update: object) -> None:
        return None

    router = build_router(ignore)
    assert [
        len(router.message.handlers),
        len(router.callback_query.handlers),
        len(router.pre_checkout_query.handlers),
    ] == [1, 1, 1]
