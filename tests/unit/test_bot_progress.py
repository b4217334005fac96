"""The status line's wording, and updates of one chat handled strictly in arrival order."""

from __future__ import annotations

import asyncio

from bots.conversation.dispatch import ChatLocks
from bots.progress import progress_text


def test_progress_shows_percent_and_an_eta_once_there_is_a_rate() -> None:
    assert progress_text("en", 0.0, None) == "✍️ Transcribing… 0%"
    assert progress_text("en", 0.5, 10.0) == "✍️ Transcribing… 50% · about 10 s left"
    assert progress_text("ru", 0.25, 30.0) == "✍️ Расшифровываю… 25% · осталось около 1 мин 30 с"
    assert progress_text("en", 0.01, 5.0) == "✍️ Transcribing… 1%"  # too early to guess
    assert progress_text("en", 1.0, 5.0).startswith("✍️ Transcribing… 99%")  # done means delivered


async def test_one_chat_is_served_in_arrival_order_while_others_run_alongside() -> None:
    locks = ChatLocks()
    order: list[str] = []

    async def work(name: str, delay: float) -> None:
        order.append(f"{name}+")
        await asyncio.sleep(delay)
        order.append(f"{name}-")

    # Chat 1's first update is slow; its second must still wait for it. Chat 2 is not held up.
    await asyncio.gather(
        locks.run(1, lambda: work("a1", 0.05)),
        locks.run(1, lambda: work("a2", 0.0)),
        locks.run(2, lambda: work("b1", 0.0)),
    )
    assert order.index("a1-") < order.index("a2+")
    assert order.index("b1-") < order.index("a1-")
    assert locks._locks == {}  # nothing kept once the chats are idle
