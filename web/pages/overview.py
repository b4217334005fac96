"""The Overview: balance, 30 days of usage as a chart, recent jobs, and where one is signed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web

from core.services import accounts, daily_usage, speech, transcriptions, web_sessions
from web import chart
from web.page import page, render
from web.state import WEB_PLATFORM
from web.viewer import Viewer

routes = web.RouteTableDef()
RECENT_JOBS = 8
PREVIEW_CHARS = 90


@dataclass(frozen=True)
class JobRow:
    """One recent job as the table shows it."""

    created_at: datetime
    kind: str  # asr | tts
    status: str
    billed_seconds: int | None
    preview: str


@routes.get("/")
@page(signed_in=True)
async def overview(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    platform = request.app[WEB_PLATFORM]
    assert viewer.user is not None
    user_id = viewer.user.id
    report = await accounts.usage(platform.db, user_id, since=datetime.now(UTC) - timedelta(days=30))
    usage = await daily_usage.daily_usage(platform.db, user_id, days=30)
    context = {
        "balance_seconds": report.remaining_seconds,
        "held_seconds": report.held_seconds,
        "used_seconds": usage.total(),
        "chart": chart.build(usage, viewer.lang),
        "jobs": await _recent_jobs(request, user_id),
        "sessions": await web_sessions.count(platform.db, user_id),
    }
    return render(request, viewer, "overview.html", context)


async def _recent_jobs(request: web.Request, user_id: str) -> list[JobRow]:
    platform = request.app[WEB_PLATFORM]
    asr, _ = await transcriptions.list_transcriptions(platform, user_id, limit=RECENT_JOBS)
    tts, _ = await speech.list_speech(platform, user_id, limit=RECENT_JOBS)
    rows = [
        JobRow(
            j.created_at, "asr", str(j.status), j.billed_seconds, _preview(j.transcript_text or j.filename)
        )
        for j in asr
    ] + [JobRow(j.created_at, "tts", str(j.status), j.billed_seconds, _preview(j.text)) for j in tts]
    rows.sort(key=lambda row: row.created_at, reverse=True)
    return rows[:RECENT_JOBS]


def _preview(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
