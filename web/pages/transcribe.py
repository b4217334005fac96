"""Transcribe: upload a file (drag and drop or a picker) through a presigned URL with a progress bar,
choose language, preset and model, then watch the text arrive live; copy it, download TXT, SRT,
VTT or JSON, and play any segment of the audio. Or dictate: the microphone's audio streams to the
API's realtime WebSocket and the text appears while the person speaks.

The page's script talks to small endpoints of its own under ``/web/transcribe`` (session cookie,
CSRF header on POSTs), which call the same core services as the API; no key or token ever enters
the HTML. The upload itself goes to the app's own signed ``/objects`` URL (same origin, so the
CSP's ``connect-src 'self'`` holds with every store; with S3 the app streams the bytes on).
Dictation opens ``/v1/stt/realtime`` (same origin too) with a one-time session token that
``/web/transcribe/realtime-token`` issues to the signed-in person: a WebSocket cannot carry the
CSRF header, and the token is what the API accepts from a browser instead of a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from core import errors as core_errors
from core.errors import DomainError
from core.services import accounts, eta, job_audio, job_feed, transcript_exports, transcriptions, uploads
from core.services.catalog import Catalog
from core.services.realtime_tokens import tokens_of
from core.services.transcriptions import TranscriptionJob, TranscriptionRequest
from web import errors, i18n
from web.page import page, render
from web.state import WEB_CATALOG, WEB_PLATFORM
from web.viewer import VIEWER, Viewer, csrf_ok, identify

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

QUIET_SECONDS = 5.0  # a re-read (and a keep-alive comment) at least this often while nothing happens
AUDIO_CHUNK = 256 * 1024
MAX_JSON_BYTES = 16 * 1024
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
Endpoint = Callable[[web.Request, Viewer], Awaitable[web.StreamResponse]]


# --- the page ---------------------------------------------------------------------------------


@routes.get("/transcribe")
@page(signed_in=True)
async def transcribe_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return await _render(request, viewer, job=None)


@routes.get("/transcribe/{id}")
@page(signed_in=True)
async def job_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    job = await _owned(request, viewer)
    return await _render(request, viewer, job=job)


async def _owned(request: web.Request, viewer: Viewer) -> TranscriptionJob:
    """The viewer's job of the URL; anyone else's is the page-not-found page in the viewer's language."""
    assert viewer.user is not None
    try:
        return await transcriptions.get_transcription(
            request.app[WEB_PLATFORM], viewer.user.id, request.match_info["id"]
        )
    except core_errors.NotFound:
        raise web.HTTPNotFound() from None


async def _render(request: web.Request, viewer: Viewer, *, job: TranscriptionJob | None) -> web.Response:
    models, languages = await _choices(request)
    context = {
        "job": job,
        "models": models,
        "asr_languages": languages,
        "presets": transcript_exports.PRESETS,
        "formats": transcript_exports.FORMATS,
        "texts": _script_texts(viewer.lang),
    }
    return render(request, viewer, "transcribe.html", context)


async def _choices(request: web.Request) -> tuple[list[tuple[str, bool]], list[str]]:
    """The ASR models (id, is the default) and every language one of them knows."""
    catalog = _catalog(request.app)
    if catalog is None:
        return [], []
    views = [m for m in await asyncio.to_thread(catalog.models) if m.kind == "asr"]
    languages = sorted({code for m in views for code in m.languages if LANGUAGE_CODE.match(code)})
    return [(m.id, m.default) for m in views], languages


def _catalog(app: web.Application) -> Catalog | None:
    """The engines' catalog (absent when the app was built without engines)."""
    return app.get(WEB_CATALOG)


def _script_texts(lang: str) -> dict[str, str]:
    """What the script says, in the page's language (handed over as data, not as inline code)."""
    keys = (
        "tx_no_file",
        "tx_upload_failed",
        "tx_network_failed",
        "tx_starting",
        "tx_queued",
        "tx_queued_eta",
        "tx_processing",
        "tx_processing_eta",
        "tx_completed",
        "tx_failed",
        "tx_cancelled",
        "tx_connection_lost",
        "tx_balance",
        "buy_more",
        "copied",
        "copy_failed",
        "tx_no_speech",
        "tx_eta_seconds",
        "tx_eta_minutes",
        "tx_billed",
        "error_no_minutes",
        "tx_too_many_jobs",
        "minutes_seconds",
        "minutes_only",
        "seconds_only",
        "dx_unsupported",
        "dx_insecure",
        "dx_denied",
        "dx_no_device",
        "dx_mic_failed",
        "dx_asking",
        "dx_connecting",
        "dx_listening",
        "dx_finishing",
        "dx_finished",
        "dx_nothing_heard",
        "dx_billed",
        "dx_open_history",
        "dx_failed",
        "dx_idle",
        "dx_too_long",
        "dx_connection_lost",
    )
    return {key: i18n.say(lang, key) for key in keys}


# --- the page's own JSON, SSE and file endpoints -----------------------------------------------


def endpoint(handler: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A script's endpoint: signed in (401), the CSRF header on POSTs (403), errors as JSON in words."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        viewer = await identify(request)
        request[VIEWER] = viewer  # the security headers go on these answers too
        if not viewer.signed_in:
            response: web.StreamResponse = _error(401, "signed_out", i18n.say(viewer.lang, "tx_signed_out"))
        elif request.method == "POST" and not csrf_ok(request, viewer, {}):
            response = _error(403, "csrf", i18n.say(viewer.lang, "error_csrf"))
        else:
            try:
                response = await handler(request, viewer)
            except job_audio.RangeNotSatisfiable as exc:
                response = web.Response(status=416, headers={"Content-Range": f"bytes */{exc.total}"})
            except Exception as exc:
                if not isinstance(exc, DomainError):
                    log.exception("web endpoint %s failed", request.path, exc_info=exc)
                    response = _error(500, "internal_error", errors.internal_message(viewer.lang))
                else:
                    response = await _domain_error(request, viewer, exc)
        if not response.prepared:
            response.headers["Cache-Control"] = "no-store"
        return response

    return wrapped


@routes.post("/web/transcribe/presign")
@endpoint
async def presign(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    assert viewer.user is not None
    platform = request.app[WEB_PLATFORM]
    body = await _json_body(request)
    size = body.get("size_bytes")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise core_errors.InvalidInput("size_bytes must be a whole number.", field="size_bytes")
    if size is not None and size > platform.settings.max_upload_bytes:
        raise core_errors.PayloadTooLarge(
            f"The file is {size} bytes; the limit is {platform.settings.max_upload_mb} MB.",
            limit_bytes=platform.settings.max_upload_bytes,
        )
    # No minutes: said before the file travels, not after.
    await transcriptions.require_some_minutes(platform, viewer.user.id)
    content_type = str(body.get("content_type") or "").strip()[:100] or None
    presigned = await uploads.presign(
        platform,
        viewer.user.id,
        filename=str(body.get("filename") or "audio")[:255],
        content_type=content_type,
    )
    return web.json_response(
        {
            "object_key": presigned.object_key,
            "upload_url": _same_origin(presigned.upload_url, platform.settings.effective_public_url),
            "upload_headers": presigned.upload_headers,
            "already_uploaded": presigned.already_uploaded,
        }
    )


def _same_origin(url: str, public_url: str) -> str:
    """The app's own ``/objects`` URL as a path, so the browser PUTs to the origin it is on (the
    signature covers the key, the method and the limits, not the host)."""
    parts, ours = urlsplit(url), urlsplit(public_url)
    if parts.netloc == ours.netloc and parts.path.startswith("/objects/"):
        return f"{parts.path}?{parts.query}"
    return url


@routes.post("/web/transcribe/realtime-token")
@endpoint
async def realtime_token(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """A one-time token (60 s) for the Dictate button's ``/v1/stt/realtime?token=…``: the API's
    session token, issued here on the session cookie and the CSRF header instead of a key."""
    assert viewer.user is not None
    platform = request.app[WEB_PLATFORM]
    # No minutes: said before the microphone is asked for (the session would refuse it anyway).
    await transcriptions.require_some_minutes(platform, viewer.user.id)
    issued = tokens_of(platform).issue(viewer.user.id, source="web")  # counted as the web's use
    return web.json_response(
        {"token": issued.token, "expires_at": issued.expires_at, "path": "/v1/stt/realtime"}, status=201
    )


@routes.get("/web/transcribe/balance")
@endpoint
async def balance(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The balance in words (and seconds), shown after a dictation and with its 402."""
    assert viewer.user is not None
    seconds = max(0, await accounts.balance_seconds(request.app[WEB_PLATFORM].db, viewer.user.id))
    words = i18n.say(viewer.lang, "tx_balance", balance=i18n.duration(viewer.lang, seconds))
    return web.json_response({"balance_seconds": seconds, "balance": words, "buy_url": "/buy"})


@routes.post("/web/transcribe/jobs")
@endpoint
async def create_job(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    assert viewer.user is not None
    platform = request.app[WEB_PLATFORM]
    body = await _json_body(request)
    object_key = str(body.get("object_key") or "")
    language = str(body.get("language") or "auto").strip().lower()
    if language != "auto" and not LANGUAGE_CODE.match(language):
        raise core_errors.InvalidInput("language must be 'auto' or a language code.", field="language")
    preset = str(body.get("preset") or "default")
    model: str | None = str(body.get("model") or "") or None
    catalog = _catalog(request.app)
    if catalog is not None:
        model = await asyncio.to_thread(catalog.check_asr_model, model, language, "transcribe")
    elif model is not None:
        raise core_errors.ServiceUnavailable("No speech engines are configured in this process.")
    job = await transcriptions.request_transcription(
        platform,
        viewer.user.id,
        TranscriptionRequest(
            object_key=object_key,
            filename=str(body.get("filename") or "")[:255] or None,
            language=language,
            model=model,
            preset=preset,
            source="web",
            options={"word_timestamps": False, "channels": "mix"},
        ),
    )
    return web.json_response({"id": job.id, "url": f"/transcribe/{job.id}"}, status=201)


@routes.get("/web/transcribe/{id}/events")
@endpoint
async def events(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Server-Sent Events of one job, from the same feed as the API's stream: ``state`` (status,
    progress %, queue position, ETA), ``token`` (one word), ``done`` (the finished job)."""
    assert viewer.user is not None
    platform = request.app[WEB_PLATFORM]
    feed = job_feed.follow(platform, viewer.user.id, request.match_info["id"], quiet_seconds=QUIET_SECONDS)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    async with contextlib.aclosing(feed):
        first = await anext(feed)  # someone else's job: 404 before the stream opens
        try:
            await response.prepare(request)
            shown = await _send(request, viewer, response, first, {})
            async for item in feed:
                shown = await _send(request, viewer, response, item, shown)
        except ConnectionResetError:
            return response  # the reader left
        except Exception:
            # The stream is open: no error answer fits any more. End it; the browser's EventSource
            # reconnects and the feed starts again from the stored job.
            log.exception("transcription events of %s failed", request.match_info["id"])
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


async def _send(
    request: web.Request,
    viewer: Viewer,
    response: web.StreamResponse,
    item: job_feed.FeedItem,
    shown: dict[str, Any],
) -> dict[str, Any]:
    """One feed item as events; returns the state the page now shows (unchanged re-reads become a
    keep-alive comment)."""
    platform = request.app[WEB_PLATFORM]
    if isinstance(item, job_feed.End):
        await _event(response, "done", _finished(viewer.lang, item.job))
    elif isinstance(item, job_feed.Tokens):
        for word in item.text.split():
            await _event(response, "token", {"text": word, "start": item.start, "end": item.end})
    elif isinstance(item, job_feed.Progress):
        percent = _percent(item.progress)
        if percent != shown.get("progress"):
            shown = {**shown, "progress": percent}
            await _event(response, "state", shown)
    else:
        job = item.job
        estimate = await eta.estimate(platform, job)
        state = {
            "status": str(job.status),
            "progress": _percent(job.progress or 0.0),
            "queue_position": item.queue_position,
            "eta_seconds": estimate.estimated_completion_seconds,
        }
        if item.quiet and state == shown:
            await response.write(b": keep-alive\n\n")
        else:
            shown = state
            await _event(response, "state", state)
    return shown


async def _event(response: web.StreamResponse, name: str, data: dict[str, Any]) -> None:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    await response.write(f"event: {name}\ndata: {payload}\n\n".encode())


def _percent(fraction: float) -> int:
    return max(0, min(100, round(float(fraction) * 100)))


def _finished(lang: str, job: TranscriptionJob) -> dict[str, Any]:
    """The finished job as the page shows it: text and segments, or why it failed."""
    done: dict[str, Any] = {"status": str(job.status), "billed": None, "error": None}
    if job.billed_seconds is not None:
        done["billed"] = i18n.duration(lang, job.billed_seconds)
    if job.status == "completed":
        exported = transcript_exports.as_json(job)
        done["text"] = exported["text"]
        done["segments"] = [
            {"start": s["start"], "end": s["end"], "text": s["text"]} for s in exported["segments"]
        ]
        done["language"] = exported["language"]
    elif job.status == "failed":
        done["error"] = i18n.say(lang, "tx_failed_reason", reason=job.error_message or job.error_code or "")
    return done


@routes.get("/web/transcribe/{id}/download/{format}")
@page(signed_in=True)
async def download(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    file = transcript_exports.export(await _owned(request, viewer), request.match_info["format"])
    return web.Response(
        text=file.text,
        content_type=file.content_type,
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )


@routes.get("/web/transcribe/{id}/audio")
@endpoint
async def audio(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The job's uploaded audio for the page's player, with byte ranges (seeking needs them)."""
    assert viewer.user is not None
    platform = request.app[WEB_PLATFORM]
    opened = await job_audio.open_input(
        platform, viewer.user.id, request.match_info["id"], request.headers.get("Range")
    )
    async with opened.reader:
        part = opened.part
        headers = {
            "Content-Type": opened.content_type,
            "Accept-Ranges": "bytes",
            "Content-Length": str(part.length if part else opened.size),
            "Cache-Control": "no-store",
        }
        if part is not None:
            headers["Content-Range"] = f"bytes {part.start}-{part.end}/{part.total}"
        response = web.StreamResponse(status=206 if part else 200, headers=headers)
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):
            async for chunk in opened.reader:
                await response.write(chunk)
            await response.write_eof()
    return response


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.content.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise core_errors.InvalidInput("The request is too large.")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise core_errors.InvalidInput("The request is not JSON.") from None
    if not isinstance(body, dict):
        raise core_errors.InvalidInput("The request is not a JSON object.")
    return body


def _error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, **extra}}, status=status)


async def _domain_error(request: web.Request, viewer: Viewer, exc: DomainError) -> web.Response:
    """A service's error in the page's words; 402 also tells the balance and where to buy."""
    status = errors.status_of(exc)
    if isinstance(exc, core_errors.PayloadTooLarge):
        status = 413
    elif isinstance(exc, core_errors.TooManyJobs | core_errors.TooManyObjects):
        status = 429
    if exc.code == "insufficient_minutes":
        assert viewer.user is not None
        balance = await accounts.balance_seconds(request.app[WEB_PLATFORM].db, viewer.user.id)
        return _error(
            402,
            exc.code,
            errors.message_of(viewer.lang, exc),
            balance=i18n.say(viewer.lang, "tx_balance", balance=i18n.duration(viewer.lang, max(0, balance))),
            buy_url="/buy",
        )
    return _error(status, exc.code, _message(viewer.lang, exc))


def _message(lang: str, exc: DomainError) -> str:
    """The few upload and audio errors this page meets that ``web.errors`` does not word itself."""
    if isinstance(exc, core_errors.StorageQuotaExceeded):
        return i18n.say(lang, "tx_quota")
    if isinstance(exc, core_errors.PayloadTooLarge):
        return i18n.say(lang, "tx_too_large", mb=exc.details.get("limit_bytes", 0) // (1024 * 1024))
    if isinstance(exc, core_errors.AudioTooLong | core_errors.AudioTooShort) or exc.code == "invalid_audio":
        return i18n.say(lang, "tx_bad_audio", reason=exc.message)
    if isinstance(exc, core_errors.TooManyJobs | core_errors.TooManyObjects):
        return i18n.say(lang, "tx_too_many_jobs")
    return errors.message_of(lang, exc)
