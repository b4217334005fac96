"""Paying as the work goes: a running job's hold is kept ahead of the seconds it processes.

The hold placed when a job is created is an estimate — from the file's header, Telegram's metadata
or the text's length — and all three can be wrong or forged. So the worker asks the meter before it
hands the engine audio up to a point (or sends speech up to a point): ``cover(seconds)`` extends the
hold while the balance lasts, in growing steps so a long file costs a handful of writes, and
answers how many of those seconds are paid for. The worker stops there; the capture is then the
seconds actually processed, which the hold covers. Nothing is ever done on credit.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from billing.pricing import round_up
from core.db.database import Database
from core.jobs import lifecycle
from core.jobs.lifecycle import Claim
from core.jobs.progress import JobAbandoned

if TYPE_CHECKING:
    from core.platform import Platform

MIN_STEP_SECONDS = 30
MAX_STEP_SECONDS = 600
"""An extension asks for at least this much (few writes) and at most this much (the rest of the
balance stays usable by the user's other jobs while this one runs)."""


class Meter:
    """The paid-for seconds of one job attempt. ``cover`` may be called from an engine thread."""

    def __init__(
        self,
        db: Database,
        claim: Claim,
        *,
        held_seconds: int,
        quantum: int,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._db = db
        self._claim = claim
        self._quantum = quantum
        self._loop = loop
        self.held_seconds = held_seconds
        self.exhausted = False  # the balance could not cover the next step
        self.cut_at: float | None = None  # set by the caller when it stopped at the paid limit

    @classmethod
    def in_worker(cls, platform: Platform, claim: Claim, *, held_seconds: int) -> Meter:
        """The meter of a worker's attempt, whose engine thread calls ``cover``: it keeps the
        running loop, so call this on the worker's loop."""
        return cls(
            platform.db,
            claim,
            held_seconds=held_seconds,
            quantum=platform.settings.billing_quantum_seconds,
            loop=asyncio.get_running_loop(),
        )

    @property
    def paid_seconds(self) -> int:
        """Seconds of work the hold pays for (whole quanta: 7 s held at a 5 s quantum pays 5 s)."""
        return self.held_seconds - self.held_seconds % self._quantum

    def cover(self, seconds: float) -> float:
        """From a thread other than the loop's: make the first ``seconds`` paid for if the balance
        allows; returns how many of them are (``seconds`` itself, or less once the money ends)."""
        while self._short_of(seconds):
            assert self._loop is not None, "a Meter used from a thread needs the worker's loop"
            step = self._step(seconds)
            added = asyncio.run_coroutine_threadsafe(self._extend(step), self._loop).result()
            self._record(step, added)
        return min(seconds, float(self.paid_seconds))

    async def cover_async(self, seconds: float) -> float:
        """``cover`` for code running on the event loop."""
        while self._short_of(seconds):
            step = self._step(seconds)
            self._record(step, await self._extend(step))
        return min(seconds, float(self.paid_seconds))

    def _short_of(self, seconds: float) -> bool:
        return not self.exhausted and round_up(seconds, self._quantum) > self.paid_seconds

    def _step(self, seconds: float) -> int:
        missing = round_up(seconds, self._quantum) - self.paid_seconds
        growth = min(max(self.held_seconds, MIN_STEP_SECONDS), MAX_STEP_SECONDS)
        return round_up(max(missing, growth), self._quantum)

    async def _extend(self, step: int) -> int | None:
        return await lifecycle.extend_hold(self._db, self._claim, step, quantum=self._quantum)

    def _record(self, step: int, added: int | None) -> None:
        if added is None:
            raise JobAbandoned(self._claim.job_id)
        self.held_seconds += added
        if added < step:
            self.exhausted = True
