"""Webhook delivery retention: the expiry sweep deletes deliveries that finished (a 2xx, or given up)
longer than ``WEBHOOK_DELIVERY_RETENTION_DAYS`` ago, with their attempts, in batches — never one
still pending or being retried, never a recent one; 0 keeps them all — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from cli.bootstrap import build_platform
from core.db.base import utcnow
from core.db.webhook_tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from core.jobs import retention
from core.jobs.retention import SweepReport, sweep
from core.jobs.webhook_task import DeliveryStatus
from core.platform import Platform
from core.services import webhooks
from core.services.users import create_user
from tests.api_harness import api_settings

PlatformFactory = Callable[..., Any]


@pytest.fixture
def platform_with(tmp_path: Path, database_url: str) -> PlatformFactory:
    """A platform on the test's database with the given settings (several may share it)."""

    @asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[Platform]:
        built = build_platform(api_settings(tmp_path, database_url, **overrides))
        try:
            yield built
        finally:
            await built.events.close()
            await built.close()

    return build


async def add_delivery(
    platform: Platform,
    user_id: str,
    endpoint_id: str | None,
    *,
    status: DeliveryStatus,
    age: timedelta,
    finished: bool,
    attempts: int = 2,
) -> str:
    """A delivery created ``age`` ago with ``attempts`` attempt rows; finished at its last attempt
    when ``finished`` (a succeeded or failed one), else due again (pending: retrying or re-sent)."""
    at = utcnow() - age
    delivery = WebhookDelivery(
        user_id=user_id,
        endpoint_id=endpoint_id,
        event_type="transcription.completed",
        url="https://example.com/hook",
        body="{}",
        status=status,
        attempts=attempts,
        next_attempt_at=None if finished else utcnow() + timedelta(minutes=5),
        last_status_code=204 if status == DeliveryStatus.SUCCEEDED else 503,
        created_at=at,
        finished_at=at + timedelta(minutes=attempts) if finished else None,
    )
    async with platform.db.write() as session:
        session.add(delivery)
        await session.flush()
        for number in range(1, attempts + 1):
            session.add(
                WebhookAttempt(
                    delivery_id=delivery.id,
                    number=number,
                    attempted_at=at + timedelta(minutes=number),
                    status_code=204 if number == attempts and status == DeliveryStatus.SUCCEEDED else 503,
                    duration_ms=40,
                )
            )
        return delivery.id


async def add_endpoint(platform: Platform, user_id: str) -> str:
    async with platform.db.write() as session:
        endpoint = WebhookEndpoint(
            user_id=user_id, url="https://example.com/hook", events=[], secret_sealed="x"
        )
        session.add(endpoint)
        await session.flush()
        return endpoint.id


async def delivery_ids(platform: Platform) -> set[str]:
    async with platform.db.read() as session:
        return set((await session.scalars(select(WebhookDelivery.id))).all())


async def attempts_of(platform: Platform, ids: set[str]) -> int:
    async with platform.db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids))
        )
    return count or 0


OLD = timedelta(days=40)
RECENT = timedelta(days=3)


async def test_finished_deliveries_past_retention_go_with_their_attempts_and_unfinished_ones_stay(
    platform_with: PlatformFactory,
) -> None:
    async with platform_with(webhook_delivery_retention_days=30) as platform:
        alice = (await create_user(platform.db)).id
        bob = (await create_user(platform.db)).id
        hook = await add_endpoint(platform, alice)
        S, F, P = DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.PENDING
        gone = {
            await add_delivery(platform, alice, hook, status=S, age=OLD, finished=True),
            await add_delivery(platform, alice, hook, status=F, age=OLD, finished=True, attempts=8),
            await add_delivery(platform, alice, None, status=S, age=OLD, finished=True),  # a callback_url's
            await add_delivery(platform, bob, None, status=F, age=OLD, finished=True),
        }
        kept = {
            # still being retried, and given up then re-sent by hand: pending however old
            await add_delivery(platform, alice, hook, status=P, age=OLD, finished=False, attempts=3),
            await add_delivery(platform, alice, hook, status=P, age=OLD, finished=False, attempts=9),
            await add_delivery(platform, alice, hook, status=S, age=RECENT, finished=True),
            await add_delivery(platform, alice, hook, status=F, age=RECENT, finished=True),
            await add_delivery(platform, bob, None, status=S, age=RECENT, finished=True),
            await add_delivery(platform, bob, None, status=P, age=OLD, finished=False),
        }
        attempts_kept = await attempts_of(platform, kept)
        _, listed = await webhooks.list_deliveries(platform, alice, hook)
        assert listed == 6  # the endpoint's: 2 old finished, 2 pending, 2 recent
        assert await attempts_of(platform, gone) == 2 + 8 + 2 + 2

        report = await sweep(platform)

        assert report == SweepReport(deliveries_deleted=len(gone))
        assert await delivery_ids(platform) == kept
        assert await attempts_of(platform, gone) == 0  # the cascade took them
        assert await attempts_of(platform, kept) == attempts_kept
        records, count = await webhooks.list_deliveries(platform, alice, hook)
        assert count == 4 and all(r.delivery.id in kept for r in records)
        assert all(len(r.attempts) == r.delivery.attempts for r in records)
        assert await sweep(platform) == SweepReport()  # done once


async def test_a_pass_deletes_one_batch_and_the_next_takes_the_rest(
    platform_with: PlatformFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "BATCH", 2)
    async with platform_with(webhook_delivery_retention_days=30) as platform:
        user = (await create_user(platform.db)).id
        for _ in range(5):
            await add_delivery(platform, user, None, status=DeliveryStatus.SUCCEEDED, age=OLD, finished=True)
        counts = [(await sweep(platform)).deliveries_deleted for _ in range(4)]
        assert counts == [2, 2, 1, 0]
        assert await delivery_ids(platform) == set()


async def test_zero_days_keeps_every_delivery_and_retention_counts_from_the_finish(
    platform_with: PlatformFactory,
) -> None:
    async with platform_with(webhook_delivery_retention_days=0) as forever:
        user = (await create_user(forever.db)).id
        ancient = await add_delivery(
            forever, user, None, status=DeliveryStatus.SUCCEEDED, age=timedelta(days=4000), finished=True
        )
        assert await sweep(forever) == SweepReport()
        assert await delivery_ids(forever) == {ancient}
    async with platform_with(webhook_delivery_retention_days=7) as weekly:
        # created 9 days ago, retried for days, given up 2 days ago: kept until 7 days after that
        async with weekly.db.write() as session:
            row = await session.get(WebhookDelivery, ancient)
            assert row is not None
            row.status = DeliveryStatus.FAILED
            row.created_at = utcnow() - timedelta(days=9)
            row.finished_at = utcnow() - timedelta(days=2)
        assert await sweep(weekly) == SweepReport()
        assert await sweep(weekly, now=utcnow() + timedelta(days=4)) == SweepReport()
        assert await sweep(weekly, now=utcnow() + timedelta(days=6)) == SweepReport(deliveries_deleted=1)
        assert await delivery_ids(weekly) == set()
