"""Webhooks: endpoints (the secret shown once), deliveries with their attempts, the callback secret."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Name, QueryParams, RequestBody, Timestamp
from core.services.webhooks import DeliveryRecord, NewCallbackSecret, WebhookAttempt, WebhookEndpoint

EventType = Literal["transcription.completed", "transcription.failed", "speech.completed", "speech.failed"]
CALLBACK_URL_DESCRIPTION = (
    "Also deliver this job's `*.completed` / `*.failed` event to this URL (Standard Webhooks, signed "
    "with your callback secret: `POST /v1/webhooks/callback-secret`). Public http(s) addresses only"
)


class CreateWebhook(RequestBody):
    """Where to send which events."""

    url: str = Field(
        min_length=1,
        max_length=2048,
        description="A public http(s) URL that answers a POST with a 2xx within the timeout (10 s)",
    )
    events: list[EventType] = Field(min_length=1, max_length=4)
    description: Name | None = Field(None, max_length=200)


class Webhook(BaseModel):
    """A webhook endpoint (its secret is only in the answer that created it)."""

    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str
    events: list[str]
    description: str | None
    created_at: Timestamp


class WebhookCreated(Webhook):
    secret: str = Field(
        description="`whsec_` + base64: verifies the `webhook-signature` of every delivery. Shown only "
        "this once: store it now",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class WebhookList(BaseModel):
    items: list[Webhook]


class Attempt(BaseModel):
    number: int = Field(description="1 for the first attempt")
    attempted_at: Timestamp
    status_code: int | None = Field(description="The receiver's HTTP status; null when it gave none")
    error: str | None = Field(description="Why the attempt failed (timeout, refused, HTTP 500, …)")
    duration_ms: int


class Delivery(BaseModel):
    """One event on its way to one receiver; ``id`` is the ``webhook-id`` header of every attempt."""

    id: str
    object: Literal["webhook_delivery"] = "webhook_delivery"
    endpoint_id: str | None = Field(description="null: a job's own `callback_url`")
    job_id: str | None
    event_type: str
    url: str
    status: Literal["pending", "succeeded", "failed"] = Field(
        description='"failed": every scheduled attempt failed; it can still be retried by hand'
    )
    attempt_count: int
    next_attempt_at: Timestamp | None
    last_status_code: int | None
    created_at: Timestamp
    finished_at: Timestamp | None
    attempts: list[Attempt] = Field(description="Newest first")


class DeliveryList(BaseModel):
    items: list[Delivery]
    count: int = Field(description="All deliveries of the endpoint, not only this page")
    limit: int
    offset: int


class ListDeliveries(QueryParams):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


class CallbackSecretCreated(BaseModel):
    """The secret that signs deliveries to jobs' ``callback_url``s."""

    secret: str = Field(description="Shown only this once; a new one replaces it at once")
    created_at: Timestamp


def webhook_view(endpoint: WebhookEndpoint) -> Webhook:
    return Webhook.model_validate(endpoint, from_attributes=True)


def attempt_view(attempt: WebhookAttempt) -> Attempt:
    return Attempt.model_validate(attempt, from_attributes=True)


def delivery_view(record: DeliveryRecord) -> Delivery:
    d = record.delivery
    return Delivery(
        id=d.id,
        endpoint_id=d.endpoint_id,
        job_id=d.job_id,
        event_type=d.event_type,
        url=d.url,
        status=d.status,
        attempt_count=d.attempts,
        next_attempt_at=d.next_attempt_at,
        last_status_code=d.last_status_code,
        created_at=d.created_at,
        finished_at=d.finished_at,
        attempts=[attempt_view(a) for a in record.attempts],
    )


def callback_secret_view(new: NewCallbackSecret) -> CallbackSecretCreated:
    return CallbackSecretCreated(secret=new.secret, created_at=new.created_at)
