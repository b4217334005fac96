"""History: the account's transcriptions and speech, newest first, with a search over their texts,
status, kind and date filters and pages whose links keep the filters; a job's own page (text,
segments, billing, downloads); cancel and delete (POST forms with CSRF and a confirmation).

Everything goes through ``core.services.job_history``; another user's job, a deleted or a missing
one is "no such page" alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from yarl import URL

from core import errors as core_errors
from core.errors import DomainError, NagovoriError
from core.jobs.states import JobStatus, is_terminal
from core.services import job_history, speech, subtitles, transcriptions
from core.services.job_history import HistoryFilter
from web import errors, i18n
from web.page import form_of, local_path, page, redirect, render
from web.state import WEB_PLATFORM
from web.viewer import Viewer

routes = web.RouteTableDef()
PAGE_SIZES = (10, 20, 50, 100)
DEFAULT_PAGE_SIZE = 20
STATUSES = tuple(s.value for s in JobStatus)
KINDS = ("asr", "tts")
DONE_NOTICES = {"cancelled": "history_cancelled", "deleted": "history_deleted"}


@dataclass(frozen=True)
class ListQuery:
    """The list's query string, read leniently: what cannot be understood is reported, not obeyed."""

    text: str
    status: str
    kind: str
    date_from: str
    date_to: str
    size: int
    page: int
    problem: str | None  # an i18n key

    def params(self, **changes: Any) -> dict[str, str]:
        """The non-default parameters (for links that keep the filters), with ``changes``."""
        values: dict[str, Any] = {
            "q": self.text,
            "status": self.status,
            "kind": self.kind,
            "from": self.date_from,
            "to": self.date_to,
            "size": self.size,
            "page": self.page,
            **changes,
        }
        defaults = {"size": DEFAULT_PAGE_SIZE, "page": 1}
        return {k: str(v) for k, v in values.items() if v != "" and v != defaults.get(k)}

    def url(self, **changes: Any) -> str:
        query = urlencode(self.params(**changes))
        return f"/history?{query}" if query else "/history"


def read_query(query: Any) -> ListQuery:
    problem = None
    text = " ".join(str(query.get("q", "")).split())[: job_history.MAX_QUERY_CHARS]
    status = str(query.get("status", ""))
    if status not in ("", *STATUSES):
        status, problem = "", "history_bad_filter"
    kind = str(query.get("kind", ""))
    if kind not in ("", *KINDS):
        kind, problem = "", "history_bad_filter"
    dates = []
    for name in ("from", "to"):
        value = str(query.get(name, "")).strip()
        if value and _day(value) is None:
            value, problem = "", "history_bad_date"
        dates.append(value)
    size = _number(query.get("size"), DEFAULT_PAGE_SIZE, job_history.MAX_PAGE_SIZE)
    page_number = _number(query.get("page"), 1, 1 + job_history.MAX_OFFSET // size)
    return ListQuery(text, status, kind, dates[0], dates[1], size, page_number, problem)


@routes.get("/history")
@page(signed_in=True)
async def history_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    assert viewer.user is not None
    asked = read_query(request.query)
    since, until = _day(asked.date_from), _day(asked.date_to)
    filters = HistoryFilter(
        text=asked.text,
        status=asked.status or None,
        kind=asked.kind or None,
        since=datetime.combine(since, datetime.min.time(), UTC) if since else None,
        # "to" is inclusive: up to the end of that day.
        until=datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC) if until else None,
    )
    found = await job_history.list_history(
        request.app[WEB_PLATFORM],
        viewer.user.id,
        filters,
        limit=asked.size,
        offset=(asked.page - 1) * asked.size,
    )
    pages = max(1, -(-found.total // asked.size))
    context = {
        "asked": asked,
        "found": found,
        "pages": pages,
        "page_links": _page_links(asked, pages),
        "statuses": STATUSES,
        "kinds": KINDS,
        "page_sizes": sorted({*PAGE_SIZES, asked.size}),
        "filtered": bool(asked.text or asked.status or asked.kind or asked.date_from or asked.date_to),
        "error": i18n.say(viewer.lang, asked.problem) if asked.problem else None,
        "notice": DONE_NOTICES.get(request.query.get("done", "")),
        "here_list": asked.url(),
        "is_terminal": is_terminal,
    }
    return render(request, viewer, "history.html", context)


@routes.get("/history/{job_id}")
@page(signed_in=True)
async def job_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    notice = DONE_NOTICES.get(request.query.get("done", ""))
    return await _job_page(request, viewer, notice=notice)


@routes.get("/history/{job_id}/transcript.{fmt}")
@page(signed_in=True)
async def transcript_download(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    job = await _own_job(request, viewer)
    fmt = request.match_info["fmt"]
    if not isinstance(job, transcriptions.TranscriptionJob) or fmt not in subtitles.FORMATS:
        raise web.HTTPNotFound()
    try:
        text = subtitles.render(job, fmt)
    except NagovoriError as exc:
        return await _job_page(request, viewer, error=_say(viewer.lang, exc), status=errors.status_of(exc))
    stem = "".join(c for c in (job.filename or job.id).rsplit(".", 1)[0] if c.isalnum() or c in "-_ ")
    return web.Response(
        text=text,
        content_type=subtitles.CONTENT_TYPES[fmt],
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{stem.strip() or job.id}.{fmt}"'},
    )


@routes.get("/history/{job_id}/audio")
@page(signed_in=True)
async def speech_audio(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The speech job's audio: a redirect to a short-lived signed link (the API serves the bytes)."""
    job = await _own_job(request, viewer)
    if not isinstance(job, speech.SpeechJob):
        raise web.HTTPNotFound()
    path = job_history.speech_audio_path(request.app[WEB_PLATFORM], job)
    if path is None:
        return await _job_page(request, viewer, error=i18n.say(viewer.lang, "history_no_audio"), status=409)
    return redirect(path)


@routes.post("/history/{job_id}/cancel")
@page(signed_in=True)
async def cancel(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    assert viewer.user is not None
    job_id = request.match_info["job_id"]
    try:
        await job_history.cancel_job(request.app[WEB_PLATFORM], viewer.user.id, job_id)
    except core_errors.NotFound:
        raise web.HTTPNotFound() from None
    except NagovoriError as exc:
        return await _job_page(request, viewer, error=_say(viewer.lang, exc), status=errors.status_of(exc))
    return redirect(_with_done(await _next(request, f"/history/{job_id}"), "cancelled"))


@routes.post("/history/{job_id}/delete")
@page(signed_in=True)
async def delete(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    assert viewer.user is not None
    job_id = request.match_info["job_id"]
    try:
        await job_history.delete_job(request.app[WEB_PLATFORM], viewer.user.id, job_id)
    except core_errors.NotFound:
        raise web.HTTPNotFound() from None
    except NagovoriError as exc:
        return await _job_page(request, viewer, error=_say(viewer.lang, exc), status=errors.status_of(exc))
    back = await _next(request, "/history")
    if not back.startswith("/history?") and back != "/history":
        back = "/history"  # the job's own page is gone
    return redirect(_with_done(back, "deleted"))


async def _job_page(
    request: web.Request,
    viewer: Viewer,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    job = await _own_job(request, viewer)
    platform = request.app[WEB_PLATFORM]
    context: dict[str, Any] = {
        "job": job,
        "kind": job.kind,
        "segments": [],
        "formats": (),
        "audio_url": None,
        "result_notice": None,
        "notice": notice,
        "error": error,
        "running": not is_terminal(job.status),
        "back": local_path(request.query.get("back"), "/history"),
    }
    if isinstance(job, transcriptions.TranscriptionJob):
        context["segments"] = subtitles.segments_of(job)
        if job.status == JobStatus.COMPLETED:
            context["formats"] = ("txt", "srt", "vtt")
            if job.truncated:
                context["result_notice"] = transcriptions.truncation_notice(job.duration_seconds)
    elif isinstance(job, speech.SpeechJob):
        if job_history.speech_audio_path(platform, job) is not None:
            context["audio_url"] = f"/history/{job.id}/audio"
        context["result_notice"] = speech.speech_notice(job)
    return render(request, viewer, "history_job.html", context, status=status)


async def _own_job(
    request: web.Request, viewer: Viewer
) -> transcriptions.TranscriptionJob | speech.SpeechJob:
    assert viewer.user is not None
    try:
        return await job_history.get_job(
            request.app[WEB_PLATFORM], viewer.user.id, request.match_info["job_id"]
        )
    except core_errors.NotFound:
        raise web.HTTPNotFound() from None  # said as "no such page", in the page's language


async def _next(request: web.Request, default: str) -> str:
    return local_path((await form_of(request)).get("next"), default)


def _with_done(path: str, done: str) -> str:
    return str(URL(path).without_query_params("done").update_query(done=done))


def _say(lang: str, exc: DomainError) -> str:
    if isinstance(exc, core_errors.Conflict):
        return i18n.say(
            lang,
            "history_running"
            if exc.details.get("status") in ("queued", "processing")
            else "history_finished",
        )
    return errors.message_of(lang, exc)


def _page_links(asked: ListQuery, pages: int) -> list[tuple[int, str] | None]:
    """Links to the first, last and nearby pages; None where pages are skipped (an ellipsis)."""
    wanted = sorted({1, pages, *range(max(1, asked.page - 2), min(pages, asked.page + 2) + 1)})
    links: list[tuple[int, str] | None] = []
    for number in wanted:
        if links and links[-1] is not None and number - links[-1][0] > 1:
            links.append(None)
        links.append((number, asked.url(page=number)))
    return links


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def _number(value: object, default: int, most: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        return default
    return min(max(number, 1), most)
