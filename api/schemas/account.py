"""The account: who am I, balance and usage, API keys."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import Balance, Name, QueryParams, RequestBody, Timestamp
from core.services.accounts import User
from core.services.api_keys import ApiKey


class Preferences(BaseModel):
    language: str
    voice: str
    reply_mode: str


class Account(BaseModel):
    """Who an account is: what ``GET /v1/me`` and the administrators' views of a user start with."""

    id: str
    name: str | None
    email: str | None
    telegram_id: int | None
    is_admin: bool
    created_at: Timestamp


def account_fields(user: User) -> dict[str, Any]:
    """The ``Account`` fields of a user, for a view that adds its own."""
    return Account.model_validate(user, from_attributes=True).model_dump()


class Me(Account):
    balance: Balance
    preferences: Preferences


class UsageQuery(QueryParams):
    since: datetime | date | None = Field(
        None, description="Period start (default: the 1st of this month, UTC)"
    )
    until: datetime | date | None = Field(None, description="Period end, exclusive (default: now)")
    recent: int = Field(20, ge=0, le=200, description="How many recent ledger entries to list")


class Period(BaseModel):
    since: Timestamp
    until: Timestamp


class UsedInPeriod(BaseModel):
    seconds: int
    minutes: float
    by_channel: dict[str, int] = Field(description="Seconds charged per channel (api, telegram, …)")
    by_kind: dict[str, int] = Field(description="Seconds charged per kind of work (asr, tts)")


class LedgerEntryView(BaseModel):
    kind: str = Field(description="grant | hold | capture | release")
    seconds: int
    channel: str | None
    usage_kind: str | None
    job_id: str | None
    reason: str | None
    created_at: Timestamp


class StorageView(BaseModel):
    """Files kept for the user: uploads and TTS results, against the storage quota."""

    bytes_used: int
    objects: int = Field(description="Uploads (pending or completed) and TTS results kept")
    quota_bytes: int = Field(description="STORAGE_QUOTA_MB in bytes: over it, uploads are a 413")
    quota_objects: int = Field(description="STORAGE_QUOTA_OBJECTS: at it, new uploads are a 429")
    upload_ttl_hours: float = Field(description="Uploads no job uses are deleted after this (0: never)")
    retention_days: float = Field(description="Finished jobs' audio is deleted after this (0: never)")


class Usage(BaseModel):
    period: Period
    remaining: Balance
    held_seconds: int = Field(description="Reserved by jobs still running")
    used: UsedInPeriod
    granted_seconds: int
    recent: list[LedgerEntryView]
    storage: StorageView


class CreateApiKey(RequestBody):
    name: Name = Field("default", min_length=1, max_length=100, examples=["production"])


class ApiKeyView(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="The key's first characters, to recognize it")
    created_at: Timestamp
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None


class ApiKeyCreated(ApiKeyView):
    key: str = Field(description="The secret: shown this once, store it now")


class ApiKeyList(BaseModel):
    items: list[ApiKeyView]


def key_view(key: ApiKey) -> ApiKeyView:
    return ApiKeyView.model_validate(key, from_attributes=True)
