"""Administration: accounts, grants and the ledger audit (admin users only)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.account import Account
from api.schemas.common import Balance, Name, RequestBody


class CreateUser(RequestBody):
    """A new account; company fields as in Speech7's account creation are kept in its profile."""

    starting_minutes: float = Field(0, ge=0, le=10_000_000, description="The balance it starts with")
    is_admin: bool = False
    telegram_id: int | None = Field(None, ge=1, le=2**63 - 1)  # the column is a signed 64-bit integer
    email: str | None = Field(None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: Name | None = Field(None, max_length=200)
    company_id: str | None = Field(None, max_length=200)
    company_name: Name | None = Field(None, max_length=200)
    contact_name: Name | None = Field(None, max_length=200)
    contact_phone: str | None = Field(None, max_length=50)
    company_address: str | None = Field(None, max_length=500)
    company_vat_id: str | None = Field(None, max_length=100)
    company_registration_number: str | None = Field(None, max_length=100)
    create_api_key: bool = Field(True, description="Also create a first API key and return it once")
    api_key_name: Name = Field("default", min_length=1, max_length=100)


class AdminUser(Account):
    profile: dict[str, str]
    balance: Balance


class UserCreated(BaseModel):
    user: AdminUser
    api_key: str | None = Field(description="The new user's first key (shown once)")


class CreateGrant(RequestBody):
    minutes: float = Field(gt=0, le=10_000_000)
    reason: str | None = Field(None, max_length=200)
    idempotency_key: str | None = Field(
        None, min_length=1, max_length=100, description="Repeat a grant safely: the same key grants once"
    )


class GrantResult(BaseModel):
    user_id: str
    granted_seconds: int
    balance: Balance


class LedgerViolation(BaseModel):
    kind: str = Field(description="Which invariant, e.g. `balance_mismatch`, `open_hold`, `billed_mismatch`")
    account_id: str | None = None
    job_id: str | None = None
    detail: str


class LedgerCheck(BaseModel):
    """The ledger audit: every balance equals its entries, no finished job holds minutes, every
    settled job captured and released exactly what it held, no job was charged twice or for less
    than it processed."""

    ok: bool
    checked_accounts: int
    checked_jobs: int
    violations: list[LedgerViolation]
