"""Billing errors. Same shape as ``core.errors`` (``code``, ``message``, ``details``), own root,
because ``billing`` depends on nothing else in the project.

    BillingError
     ├── InsufficientMinutes    the balance cannot cover a hold (402)
     └── UnknownHold            settle or release for a job that holds nothing
"""

from __future__ import annotations

from typing import Any


class BillingError(Exception):
    """Root of the ledger's errors."""

    code = "billing_error"
    default_message = "Billing failed."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}


class InsufficientMinutes(BillingError):
    """The hold asked for more seconds than the balance has."""

    code = "insufficient_minutes"

    def __init__(self, required_seconds: int, available_seconds: int) -> None:
        super().__init__(
            f"Not enough minutes: this needs {required_seconds} s, the balance has {available_seconds} s.",
            required_seconds=required_seconds,
            available_seconds=available_seconds,
        )


class UnknownHold(BillingError):
    """A capture or release named a job that never held minutes."""

    code = "unknown_hold"
