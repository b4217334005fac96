"""/buy: minute packages paid in Telegram Stars (currency XTR).

The invoice payload names the package and the account. ``pre_checkout_query`` is checked against
the package price; ``successful_payment`` credits the package keyed by Telegram's charge id, so a
repeated update never credits twice.
"""

from __future__ import annotations

import logging

from bots.conversation.context import BotDeps, Turn, account, language_of
from bots.model import Button, Callback, Keyboard, Message, PreCheckout
from bots.texts import duration, say
from core.services import accounts
from core.services.purchases import PACKAGES, STARS, Package, credit_stars_payment, find_package

log = logging.getLogger(__name__)

CURRENCY = STARS


def packages_keyboard(lang: str) -> Keyboard:
    return [
        [Button(say(lang, "package_button", minutes=p.minutes, stars=p.stars), f"pkg:{p.id}")]
        for p in PACKAGES
    ]


async def buy(turn: Turn, message: Message, args: str) -> None:
    """``/buy`` shows the packages; ``/buy m60`` sends that invoice at once."""
    if args:
        package = find_package(args.split()[0])
        if package is None:
            await turn.say("unknown_package")
            return
        await send_invoice(turn, package)
        return
    balance = await accounts.balance_seconds(turn.deps.platform.db, turn.user.id)
    await turn.say("buy_choose", balance=duration(balance, turn.lang), buttons=packages_keyboard(turn.lang))


async def on_package(turn: Turn, callback: Callback, value: str) -> None:
    package = find_package(value)
    if package is None:
        await turn.say("unknown_package")
        return
    await send_invoice(turn, package)


async def on_buy_button(turn: Turn, callback: Callback, value: str) -> None:
    await buy(turn, _as_message(callback), "")


async def send_invoice(turn: Turn, package: Package) -> None:
    lang = turn.lang
    await turn.deps.messenger.send_invoice(
        turn.chat_id,
        title=say(lang, "invoice_title", minutes=package.minutes),
        description=say(lang, "invoice_description", minutes=package.minutes),
        payload=f"{package.id}:{turn.user.id}",
        label=say(lang, "invoice_title", minutes=package.minutes),
        stars=package.stars,
    )


def _package_of(payload: str) -> tuple[Package | None, str | None]:
    package_id, _, user_id = payload.partition(":")
    return find_package(package_id), user_id or None


async def pre_checkout(deps: BotDeps, query: PreCheckout) -> None:
    """Approve only an invoice we could have issued: a known package, in Stars, at its price."""
    package, _user_id = _package_of(query.payload)
    ok = package is not None and query.currency == CURRENCY and query.total_amount == package.stars
    lang = language_of(None, query.sender)
    await deps.messenger.answer_pre_checkout(
        query.id, ok=ok, error=None if ok else say(lang, "precheckout_bad")
    )


async def successful_payment(deps: BotDeps, message: Message) -> None:
    """Credit the package once per charge id; a repeat is logged and stays silent."""
    payment = message.payment
    assert payment is not None and message.sender is not None
    package, user_id = _package_of(payment.payload)
    user, _created = await account(deps, message.sender)
    if package is None or payment.currency != CURRENCY:
        log.error("payment %s for an unknown package %r", payment.charge_id, payment.payload)
        return
    credit = await credit_stars_payment(
        deps.platform.db,
        payment.charge_id,
        package,
        stars=payment.total_amount,
        account_id=user_id,
        payer_id=user.id,
    )
    if not credit.credited:
        log.info("payment %s was credited already; ignoring the repeat", payment.charge_id)
        return
    lang = language_of(user, message.sender)
    balance = duration(credit.balance_seconds, lang)
    await deps.messenger.send_text(
        message.chat_id, say(lang, "payment_thanks", minutes=package.minutes, balance=balance)
    )


def _as_message(callback: Callback) -> Message:
    return Message(
        update_id=callback.update_id,
        chat_id=callback.chat_id or callback.sender.id,
        message_id=callback.message_id or 0,
        chat_type=callback.chat_type,
        sender=callback.sender,
    )
