"""Buying minutes with Telegram Stars through both adapters: invoice in XTR, pre-checkout, and a
successful payment credited exactly once even when Telegram repeats it."""

from __future__ import annotations

import pytest

from billing.pricing import PACKAGES
from tests.e2e.bot_harness import BotStack, tg_user
from tests.e2e.telegram_emulator import SentMessage

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def invoice_for(stack: BotStack, user: dict[str, object], package_id: str) -> SentMessage:
    chat_id = int(user["id"])  # type: ignore[call-overload]
    await stack.send(stack.emulator.message_update(user, text="/buy"))
    menu = await stack.emulator.wait_for(
        lambda: next((m for m in stack.emulator.sent(chat_id) if m.buttons), None), what="the packages"
    )
    assert [data for _, data in menu.buttons] == [f"pkg:{p.id}" for p in PACKAGES]
    await stack.send(stack.emulator.callback_update(user, menu, f"pkg:{package_id}"))
    invoices = await stack.emulator.wait_for(
        lambda: stack.emulator.sent(chat_id, kind="invoice"), what="an invoice"
    )
    return invoices[-1]  # type: ignore[no-any-return]


async def pre_checkout_answer(stack: BotStack, update: dict[str, object]) -> dict[str, object]:
    await stack.send(update)
    query_id = update["pre_checkout_query"]["id"]  # type: ignore[index]
    answer = await stack.emulator.wait_for(
        lambda: stack.emulator.pre_checkout_answers.get(query_id), what="the pre-checkout answer"
    )
    return answer  # type: ignore[no-any-return]


async def test_a_package_is_paid_in_stars_and_credited_exactly_once(stack: BotStack) -> None:
    olga = tg_user(401, "Olga")
    package = PACKAGES[0]
    invoice = await invoice_for(stack, olga, package.id)
    assert invoice.params["currency"] == "XTR"
    assert [int(p["amount"]) for p in invoice.params["prices"]] == [package.stars]
    assert not invoice.params.get("provider_token")  # Stars need no payment provider

    answer = await pre_checkout_answer(stack, stack.emulator.pre_checkout_update(olga, invoice))
    assert answer["ok"] is True

    paid = stack.emulator.payment_update(olga, invoice, "charge-401")
    await stack.send(paid)
    await stack.text_containing(401, f"Thank you! {package.minutes} min added. Your balance: 70 min.")
    assert await stack.balance(401) == 600 + package.seconds

    # Telegram repeats the update (same id), and then sends the same charge in a new update.
    await stack.send(paid)
    await stack.send(stack.emulator.payment_update(olga, invoice, "charge-401"))
    await stack.send(stack.emulator.message_update(olga, text="/balance"))
    await stack.text_containing(401, "Balance: 70 min")
    assert await stack.balance(401) == 600 + package.seconds
    thanks = [m for m in stack.emulator.sent(401) if m.text and m.text.startswith("Thank you!")]
    assert len(thanks) == 1


async def test_a_pre_checkout_that_does_not_match_the_price_is_refused(stack: BotStack) -> None:
    pavel = tg_user(402, "Павел", "ru")
    invoice = await invoice_for(stack, pavel, PACKAGES[1].id)
    update = stack.emulator.pre_checkout_update(pavel, invoice)
    update["pre_checkout_query"]["total_amount"] = 1
    answer = await pre_checkout_answer(stack, update)
    assert answer["ok"] is False
    assert answer["error_message"] == "Этот счёт больше не действителен; откройте /buy ещё раз."


async def test_buy_with_a_package_id_and_the_buy_button_of_an_insufficient_balance(stack: BotStack) -> None:
    quinn = tg_user(403, "Quinn")
    await stack.send(stack.emulator.message_update(quinn, text="/buy m1200"))
    invoices = await stack.emulator.wait_for(
        lambda: stack.emulator.sent(403, kind="invoice"), what="an invoice"
    )
    assert invoices[0].params["payload"].startswith("m1200:")
    await stack.send(stack.emulator.message_update(quinn, text="/buy nothing"))
    await stack.text_containing(403, "There is no such package; see /buy.")
