"""``POST /v1/stt/realtime/sessions``: a one-time token for opening the realtime WebSocket."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RealtimeSessionToken(BaseModel):
    """Pass ``token`` as ``?token=`` when opening ``/v1/stt/realtime`` (browsers cannot set headers)."""

    token: str = Field(description="Single use; valid until `expires_at`")
    expires_at: int = Field(description="Unix seconds (60 s after issue)")
