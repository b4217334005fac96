"""Group commit for upload grants: the presigns of one process that arrive together share one write.

A grant is a durable write decided exactly against the user's storage total (``core.services.quota``).
Each in a transaction of its own, they queue: SQLite has one writer, and on PostgreSQL the grants
of one user wait for one another on that user's total row, so 50 concurrent presigns of one account
take turns of a millisecond or two. Here a grant joins its process's queue and awaits the answer;
one drain task takes everything queued (up to ``BATCH_LIMIT``) and decides it:

* a grant queued alone goes at once, as the one conditional statement ``quota.insert_if_room``: no
  timer waits for company; batches form from the grants that arrive while a write is running;
* a batch is one transaction: it locks its users' rows, then their totals (each sorted by user id:
  the platform's lock order, a user before a total, and one order in every process), reads each
  total once, decides each grant in arrival order against the running figures
  (``quota.require_room``), inserts those that fit with one executemany (the triggers count every
  row, as for single inserts), commits, and only then answers: a grant is durable before its URL;
* a grant refused for the object count is decided again alone (``quota.insert_within_quota``,
  which drops the user's expired grants first), and so is one whose user has no total (gone);
* a failed write fails every grant of its batch (none of them was made).

A waiter cancelled while its grant is queued leaves it out of every batch (never inserted); one
cancelled later leaves it to commit with its batch, an unused grant that expires like any other.

One batcher per ``Database`` (one per event loop), made on first use; idle it holds no task (the
drain task ends when the queue is empty), so closing the platform needs nothing from it.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, insert, select

from core.db.database import Database
from core.db.models import Upload, User
from core.db.storage_tables import StorageTotal
from core.errors import ServiceUnavailable, StorageQuotaExceeded, TooManyObjects
from core.platform import Platform
from core.services.quota import (
    StorageUsage,
    bytes_left,
    insert_if_room,
    insert_within_quota,
    require_room,
)

BATCH_LIMIT = 256  # grants per transaction: bounds the transaction's time and the statement's size


async def grant_upload(
    platform: Platform, user_id: str, values: dict[str, Any], *, size_bytes: int | None
) -> int:
    """Insert the user's new upload row (``values``: ``quota.upload_values``) if it fits in the
    storage quota (``size_bytes``: its declared size, if any), or raise the refusal
    (``StorageQuotaExceeded``, ``TooManyObjects``); returns the bytes the upload may take: its
    declared size, else what the quota has left."""
    decision = await _batcher(platform.db).decide(platform, user_id, values, size_bytes)
    if not decision.inserted:
        return await insert_within_quota(platform, user_id, values, size_bytes=size_bytes, refused=True)
    if decision.limit is not None:
        return decision.limit
    return await bytes_left(platform, user_id)  # read after the insert: a PUT decides exactly


@dataclass(frozen=True)
class Decision:
    """What the batch did with a grant."""

    inserted: bool  # False: not inserted, to be decided alone (``insert_within_quota``)
    limit: int | None = None  # the bytes the upload may take, when the batch knows it


@dataclass
class _Grant:
    platform: Platform
    user_id: str
    values: dict[str, Any]
    size_bytes: int | None
    answer: asyncio.Future[Decision] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GrantBatcher:
    """The queue of one database's pending grants and the task that decides them."""

    def __init__(self) -> None:
        self._queue: list[_Grant] = []
        self._drain: asyncio.Task[None] | None = None

    async def decide(
        self, platform: Platform, user_id: str, values: dict[str, Any], size_bytes: int | None
    ) -> Decision:
        grant = _Grant(platform, user_id, values, size_bytes)
        self._queue.append(grant)
        if self._drain is None:  # a context of its own: it serves every request, not the first one's
            self._drain = asyncio.create_task(
                self._drain_queue(), name="upload grants", context=contextvars.Context()
            )
        return await grant.answer  # cancelled: cancels the answer, which drops a queued grant

    async def _drain_queue(self) -> None:
        try:
            while self._queue:
                taken, self._queue = self._queue[:BATCH_LIMIT], self._queue[BATCH_LIMIT:]
                batch = [grant for grant in taken if not grant.answer.done()]  # done: cancelled
                if batch:
                    await self._decide(batch)
        finally:
            self._drain = None
            # Only when the drain itself was cancelled (the loop is closing): nobody decides these.
            for grant in self._queue:
                if not grant.answer.done():
                    grant.answer.set_exception(ServiceUnavailable("Upload grants are not being decided."))
            self._queue = []

    async def _decide(self, batch: list[_Grant]) -> None:
        try:
            outcomes = await (_alone(batch[0]) if len(batch) == 1 else _together(batch))
        except BaseException as exc:  # the transaction failed (rolled back): so do all its grants
            failure = exc if isinstance(exc, Exception) else ServiceUnavailable("The grant was not made.")
            for grant in batch:
                if not grant.answer.done():
                    grant.answer.set_exception(failure)
            if failure is not exc:
                raise
            return
        for grant, outcome in zip(batch, outcomes, strict=True):
            if grant.answer.done():
                continue  # its waiter was cancelled: the grant, if made, expires unused
            if isinstance(outcome, Exception):
                grant.answer.set_exception(outcome)
            else:
                grant.answer.set_result(outcome)


async def _alone(grant: _Grant) -> list[Decision | Exception]:
    """One grant: one conditional insert, committed as it runs."""
    settings = grant.platform.settings
    if await insert_if_room(grant.platform.db, settings, grant.user_id, grant.values, grant.size_bytes):
        return [Decision(True, grant.size_bytes)]
    return [Decision(False)]


async def _together(batch: list[_Grant]) -> list[Decision | Exception]:
    """Several grants in one transaction, each decided on its user's running total."""
    users = sorted({grant.user_id for grant in batch})
    outcomes: list[Decision | Exception] = []
    rows: list[dict[str, Any]] = []
    db = batch[0].platform.db
    async with db.write() as session:
        if not db.is_sqlite:  # SQLite locks no rows: its one writer's lock covers the transaction
            # The share of each user row the inserts' foreign keys take anyway, taken first (the
            # lock order); then the totals, read as committed once locked.
            await session.execute(
                select(User.id)
                .where(User.id.in_(users))
                .order_by(User.id)
                .with_for_update(read=True, key_share=True)
            )
        totals = {
            user_id: [int(bytes_used), int(objects)]
            for user_id, bytes_used, objects in await session.execute(
                select(StorageTotal.user_id, StorageTotal.bytes_used, StorageTotal.objects)
                .where(StorageTotal.user_id.in_(users))
                .order_by(StorageTotal.user_id)
                .with_for_update()
            )
        }
        for grant in batch:
            outcome = _decide_one(grant, totals.get(grant.user_id))
            if isinstance(outcome, Decision) and outcome.inserted:
                rows.append(grant.values)
            outcomes.append(outcome)
        if rows:  # Core, not the ORM's bulk insert: one executemany, NULLs sent as in the rows
            await session.execute(insert(cast(Table, Upload.__table__)), rows)
    return outcomes


def _decide_one(grant: _Grant, running: list[int] | None) -> Decision | Exception:
    """Whether the grant fits in its user's running total ``[bytes, objects]`` (counted in if so)."""
    if running is None:
        return Decision(False)  # no total: the user is gone; decided alone, as ever
    settings = grant.platform.settings
    usage = StorageUsage(running[0], running[1], settings.storage_quota_bytes, settings.storage_quota_objects)
    try:
        require_room(usage, size_bytes=grant.size_bytes, new_object=True)
    except TooManyObjects:
        return Decision(False)  # expired grants may give their place back: decided alone
    except StorageQuotaExceeded as refusal:
        return refusal
    running[0] += grant.values["size_bytes"] or 0  # what the trigger counts: a reserved size, or 0
    running[1] += 1
    if grant.size_bytes is not None:
        return Decision(True, grant.size_bytes)
    return Decision(True, max(0, settings.storage_quota_bytes - running[0]))


_batchers: weakref.WeakKeyDictionary[Database, GrantBatcher] = weakref.WeakKeyDictionary()


def _batcher(db: Database) -> GrantBatcher:
    """The database's batcher, made on first use (it lives as long as the database)."""
    found = _batchers.get(db)
    if found is None:
        found = _batchers[db] = GrantBatcher()
    return found
