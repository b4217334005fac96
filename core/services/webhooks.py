"""Webhooks as users manage them: endpoints (the secret shown once), the account's callback secret
for per-job ``callback_url``s, and the deliveries made with their attempts.

Secrets are kept sealed (``webhook_signing.SecretBox``) — the platform must be able to sign with
them, so a hash would not do — and are never returned after the answer that created them. URLs pass
``core.net.check_public_url`` when given (IP literals); names are checked against what they resolve
to at each delivery. The edges get rows from here to read, never to write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from core.db.base import utcnow
from core.db.models import Job
from core.db.webhook_tables import (
    URL_LENGTH,
    CallbackSecret,
    JobCallback,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from core.errors import Conflict, InvalidInput, NotFound
from core.jobs.admission import lock_user
from core.jobs.webhook_task import EVENT_TYPES, ROUTE, record_callback, resend_now
from core.net import NetworkPolicy, check_public_url
from core.platform import Platform
from core.services.webhook_signing import SecretBox, new_secret

__all__ = [
    "CALLBACK",
    "EVENT_TYPES",
    "CallbackSecret",
    "CallbackSecretRequired",
    "DeliveryRecord",
    "NewCallbackSecret",
    "NewEndpoint",
    "TooManyWebhooks",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "attach_callback",
    "check_callback_url",
    "create_endpoint",
    "delete_endpoint",
    "get_endpoint",
    "list_deliveries",
    "list_endpoints",
    "retry_delivery",
    "rotate_callback_secret",
]

CALLBACK = "callback"  # the endpoint id under which a job's own callback_url deliveries are listed


class TooManyWebhooks(Conflict):
    """The account already has ``WEBHOOK_MAX_ENDPOINTS`` endpoints."""

    code = "too_many_webhooks"
    default_message = "You have as many webhook endpoints as allowed; delete one first."


class CallbackSecretRequired(InvalidInput):
    """A ``callback_url`` before the account has a callback secret to sign its deliveries with."""

    code = "callback_secret_required"
    default_message = (
        "Create your callback signing secret first (POST /v1/webhooks/callback-secret): "
        "deliveries to a callback_url are signed with it."
    )


@dataclass(frozen=True)
class NewEndpoint:
    """A freshly created endpoint: ``secret`` exists in the clear only here."""

    endpoint: WebhookEndpoint
    secret: str


@dataclass(frozen=True)
class NewCallbackSecret:
    """The account's new callback secret, in the clear only here."""

    secret: str
    created_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    """A delivery with its attempts, newest first."""

    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


def _box(platform: Platform) -> SecretBox:
    return SecretBox(platform.settings.secret_key.get_secret_value())


def _checked_url(platform: Platform, url: str, field: str) -> str:
    try:
        checked = str(check_public_url(url, NetworkPolicy.from_settings(platform.settings)))
    except InvalidInput as exc:
        exc.details.setdefault("field", field)
        raise
    if len(checked) > URL_LENGTH:  # percent-encoding and IDNA can lengthen what was short enough
        raise InvalidInput(f"The URL is longer than {URL_LENGTH} characters once encoded.", field=field)
    return checked


def _checked_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise InvalidInput(
            f"Events are one or more of {', '.join(EVENT_TYPES)}.", field="events", unknown=unknown
        )
    return [event for event in EVENT_TYPES if event in events]  # one order, no repeats


async def create_endpoint(
    platform: Platform, user_id: str, *, url: str, events: list[str], description: str | None = None
) -> NewEndpoint:
    """Register ``url`` for ``events``; the secret is generated here and returned this once."""
    checked = _checked_url(platform, url, "url")
    wanted = _checked_events(events)
    secret = new_secret()
    async with platform.db.write() as session:
        await lock_user(session, user_id)  # the count and the insert, one at a time per account
        count = await session.scalar(
            select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.user_id == user_id)
        )
        limit = platform.settings.webhook_max_endpoints
        if (count or 0) >= limit:
            raise TooManyWebhooks(limit=limit)
        endpoint = WebhookEndpoint(
            user_id=user_id,
            url=checked,
            events=wanted,
            description=description,
            secret_sealed=_box(platform).seal(secret),
        )
        session.add(endpoint)
        await session.flush()
    return NewEndpoint(endpoint, secret)


async def list_endpoints(platform: Platform, user_id: str) -> list[WebhookEndpoint]:
    async with platform.db.lookup() as session:
        return list(
            (
                await session.scalars(
                    select(WebhookEndpoint)
                    .where(WebhookEndpoint.user_id == user_id)
                    .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
                )
            ).all()
        )


async def get_endpoint(platform: Platform, user_id: str, endpoint_id: str) -> WebhookEndpoint:
    """The user's endpoint; someone else's is the same NotFound as a missing one."""
    async with platform.db.lookup() as session:
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.user_id != user_id:
        raise NotFound("Webhook endpoint not found.", id=endpoint_id)
    return endpoint


async def delete_endpoint(platform: Platform, user_id: str, endpoint_id: str) -> None:
    """Remove the endpoint with its deliveries; a delivery in flight is not retried."""
    endpoint = await get_endpoint(platform, user_id, endpoint_id)
    async with platform.db.write() as session:
        row = await session.get(WebhookEndpoint, endpoint.id)
        if row is not None:
            await session.delete(row)


async def list_deliveries(
    platform: Platform, user_id: str, endpoint_id: str, *, limit: int = 20, offset: int = 0
) -> tuple[list[DeliveryRecord], int]:
    """An endpoint's deliveries (``"callback"``: those to jobs' own callback URLs), newest first,
    each with its attempts; and how many there are in all."""
    belongs: ColumnElement[bool]
    if endpoint_id == CALLBACK:
        belongs = WebhookDelivery.endpoint_id.is_(None)
    else:
        await get_endpoint(platform, user_id, endpoint_id)
        belongs = WebhookDelivery.endpoint_id == endpoint_id
    conditions = (WebhookDelivery.user_id == user_id, belongs)
    async with platform.db.read() as session:
        count = await session.scalar(select(func.count()).select_from(WebhookDelivery).where(*conditions))
        deliveries = (
            await session.scalars(
                select(WebhookDelivery)
                .where(*conditions)
                .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
                .limit(limit)
                .offset(offset)
            )
        ).all()
        attempts: dict[str, list[WebhookAttempt]] = {d.id: [] for d in deliveries}
        if deliveries:
            for attempt in await session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_(list(attempts)))
                .order_by(WebhookAttempt.number.desc())
            ):
                attempts[attempt.delivery_id].append(attempt)
    return [DeliveryRecord(d, attempts[d.id]) for d in deliveries], count or 0


async def retry_delivery(
    platform: Platform, user_id: str, endpoint_id: str, delivery_id: str
) -> DeliveryRecord:
    """Send the delivery again now: the same ``webhook-id`` and body, a new attempt (also after
    it succeeded, or was given up — then it is this one attempt)."""
    if endpoint_id != CALLBACK:
        await get_endpoint(platform, user_id, endpoint_id)
    async with platform.db.write() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        if (
            delivery is None
            or delivery.user_id != user_id
            or delivery.endpoint_id != (None if endpoint_id == CALLBACK else endpoint_id)
        ):
            raise NotFound("Delivery not found.", id=delivery_id)
        resend_now(delivery)
        attempts = (
            await session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery.id)
                .order_by(WebhookAttempt.number.desc())
            )
        ).all()
    await platform.queue.send(ROUTE, delivery.id)
    return DeliveryRecord(delivery, list(attempts))


async def rotate_callback_secret(platform: Platform, user_id: str) -> NewCallbackSecret:
    """Create the account's callback secret, or replace it (the old one stops signing at once);
    returned in the clear this once."""
    secret = new_secret()
    async with platform.db.write() as session:
        await lock_user(session, user_id)
        row = await session.get(CallbackSecret, user_id)
        if row is None:
            row = CallbackSecret(user_id=user_id)
            session.add(row)
        row.secret_sealed = _box(platform).seal(secret)
        row.created_at = utcnow()
        created_at = row.created_at
    return NewCallbackSecret(secret, created_at)


async def check_callback_url(platform: Platform, user_id: str, url: str) -> str:
    """Before a job is created with a ``callback_url``: the URL is acceptable and the account has
    a secret to sign with. Returns the URL as it will be called."""
    checked = _checked_url(platform, url, "callback_url")
    async with platform.db.lookup() as session:
        if await session.get(CallbackSecret, user_id) is None:
            raise CallbackSecretRequired(field="callback_url")
    return checked


async def attach_callback(platform: Platform, user_id: str, job_id: str, url: str) -> None:
    """Give a just-created job its callback URL. Under the user's lock, as every finishing step
    takes it: a job that already finished (a short one may) gets its delivery made here instead."""
    async with platform.db.write() as session:
        await lock_user(session, user_id)
        session.add(JobCallback(job_id=job_id, url=url))
        await session.flush()
        job = await session.get(Job, job_id)
        sends = await record_callback(session, job, url) if job is not None else []
    await platform.queue.send_all(sends)
