"""Framework objects → the conversation's records.

aiogram and python-telegram-bot both mirror the Bot API's field names (``message.voice.file_id``,
``message.from_user``, ``query.invoice_payload``), so one attribute-based translation serves both
adapters; each adapter passes its own objects in.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bots.model import MEDIA_KINDS, Callback, Media, Message, Payment, PreCheckout, Sender


def seconds(value: Any) -> float | None:
    """A duration that may be an int (aiogram, the Bot API) or a timedelta (newer PTB)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def sender(user: Any) -> Sender | None:
    if user is None:
        return None
    name = " ".join(p for p in (user.first_name, getattr(user, "last_name", None)) if p) or None
    return Sender(
        id=int(user.id),
        name=name,
        username=getattr(user, "username", None),
        language_code=getattr(user, "language_code", None),
        is_bot=bool(getattr(user, "is_bot", False)),
    )


def query_sender(query: Any) -> Sender:
    """Who sent a callback or pre-checkout query (Telegram always says)."""
    user = sender(query.from_user)
    assert user is not None
    return user


def media(message: Any) -> Media | None:
    for kind in MEDIA_KINDS:
        item = getattr(message, kind, None)
        if item is None:
            continue
        return Media(
            kind=kind,
            file_id=item.file_id,
            file_unique_id=getattr(item, "file_unique_id", "") or "",
            duration=seconds(getattr(item, "duration", None)),
            file_size=getattr(item, "file_size", None),
            mime_type=getattr(item, "mime_type", None),
            file_name=getattr(item, "file_name", None),
        )
    return None


def payment(message: Any) -> Payment | None:
    paid = getattr(message, "successful_payment", None)
    if paid is None:
        return None
    return Payment(
        charge_id=paid.telegram_payment_charge_id,
        payload=paid.invoice_payload,
        currency=paid.currency,
        total_amount=int(paid.total_amount),
    )


def message(obj: Any, update_id: int, *, depth: int = 0) -> Message:
    reply = getattr(obj, "reply_to_message", None)
    return Message(
        update_id=update_id,
        chat_id=int(obj.chat.id),
        message_id=int(obj.message_id),
        chat_type=str(obj.chat.type),
        sender=sender(getattr(obj, "from_user", None)),
        text=getattr(obj, "text", None) or getattr(obj, "caption", None),
        media=media(obj),
        reply_to=message(reply, update_id, depth=1) if reply is not None and depth == 0 else None,
        payment=payment(obj),
    )


def callback(query: Any, update_id: int) -> Callback:
    origin = getattr(query, "message", None)
    return Callback(
        update_id=update_id,
        id=str(query.id),
        sender=query_sender(query),
        data=query.data or "",
        chat_id=int(origin.chat.id) if origin is not None else None,
        message_id=int(origin.message_id) if origin is not None else None,
        chat_type=str(origin.chat.type) if origin is not None else "private",
    )


def pre_checkout(query: Any, update_id: int) -> PreCheckout:
    return PreCheckout(
        update_id=update_id,
        id=str(query.id),
        sender=query_sender(query),
        currency=query.currency,
        total_amount=int(query.total_amount),
        payload=query.invoice_payload,
    )
