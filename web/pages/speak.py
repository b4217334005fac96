"""Speak: type a text, pick one of the seven voices (each with a free preview), a speed and a
format, and hear it while it is synthesized; then download it.

The page's own endpoints, all behind the session cookie:

* ``POST /web/speak/stream`` (CSRF in the form or ``X-CSRF-Token``) — the same live synthesis as
  ``POST /v1/tts/stream`` (``core.services.speech_stream``): one job, held before the first byte
  and billed by the seconds of audio sent. ``speak.js`` reads it with ``fetch`` and plays it as it
  arrives; without JavaScript the form posts here and the browser plays the answer itself.
* ``GET /web/speak/preview/{voice}?lang=en|ru`` — a few fixed words, free and cached
  (``core.services.voice_previews``).
* ``GET /web/speak/jobs/{id}`` — what a finished stream was billed, and the balance now.

Errors are said in the page's language: as JSON ``{"error": {"code", "message"}, ...}`` to the
script (402 adds the balance and the Buy minutes link), or as the page again, text kept, to a form.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from aiohttp import web

from core.audio.encode import FILE_EXTENSIONS
from core.errors import DomainError, InvalidInput, ServiceUnavailable
from core.services import accounts
from core.services.catalog import DEFAULT_VOICE, Catalog, voices
from core.services.speech import MAX_TEXT_CHARS, SpeechRequest, get_speech
from core.services.speech_stream import LiveSpeech, start_stream
from core.services.voice_previews import PREVIEW_CONTENT_TYPE
from web import errors, i18n
from web.page import form_of, page, render
from web.state import WEB_CATALOG, WEB_PLATFORM, WEB_VOICE_PREVIEWS
from web.viewer import Viewer

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

# What a browser can play and a person may want to keep (raw PCM is for programs: not offered).
FORMATS = ("mp3", "opus", "aac", "flac", "wav")
SPEEDS = ("0.5", "0.75", "0.9", "1", "1.1", "1.25", "1.5", "1.75", "2", "3")
LANGUAGES = ("auto", "en", "ru")
STATUS_BY_CODE = {"model_not_available": 503, "engine_failure": 503, "model_download_failed": 503}


@routes.get("/speak")
@page(signed_in=True)
async def speak_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return await _speak_page(request, viewer)


@routes.post("/web/speak/stream")
@page(signed_in=True)
async def stream_speech(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Synthesize the form's text and stream the audio as it is made (errors before any byte)."""
    assert viewer.user is not None
    form = await form_of(request)
    platform = request.app[WEB_PLATFORM]
    try:
        text = form.get("text", "").replace("\r\n", "\n")  # a form sends line breaks as CRLF
        if len(text) > MAX_TEXT_CHARS:  # said before anything else: the person's text is kept
            raise _TooLong(len(text))
        speech = SpeechRequest(
            text=text,
            voice=form.get("voice") or DEFAULT_VOICE,
            audio_format=form.get("format") or "mp3",
            speed=_number(form.get("speed")),
            language=form.get("language") or "auto",
            source="web",
        )
        live = await start_stream(platform, _catalog(request).engines.tts, viewer.user.id, speech)
    except Exception as exc:
        if not isinstance(exc, DomainError):
            raise
        return await _refused(request, viewer, exc, form)
    return await _send(request, live)


@routes.get("/web/speak/preview/{voice}")
@page(signed_in=True)
async def voice_preview(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    lang = request.query.get("lang") or viewer.lang
    previews = request.app[WEB_VOICE_PREVIEWS]
    audio = await previews.preview(_catalog(request).engines.tts, request.match_info["voice"], lang)
    return web.Response(body=audio, content_type=PREVIEW_CONTENT_TYPE)


@routes.get("/web/speak/jobs/{job_id}")
@page(signed_in=True)
async def speech_result(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """What the stream was billed and the balance after it (another user's job: 404, as JSON)."""
    assert viewer.user is not None
    platform = request.app[WEB_PLATFORM]
    try:
        job = await get_speech(platform, viewer.user.id, request.match_info["job_id"])
    except Exception as exc:
        if not isinstance(exc, DomainError):
            raise
        return _error_json(viewer, exc, errors.message_of(viewer.lang, exc))
    balance = await accounts.current_balance(platform, viewer.user.id)
    billed = job.billed_seconds
    return web.json_response(
        {
            "id": job.id,
            "status": str(job.status),
            "audio_seconds": job.audio_seconds,
            "billed_seconds": billed,
            "truncated": bool(job.truncated),
            "balance_seconds": balance,
            "balance_text": i18n.say(
                viewer.lang, "speak_balance", balance=i18n.duration(viewer.lang, balance)
            ),
            "summary": i18n.say(
                viewer.lang,
                "speak_billed_truncated" if job.truncated else "speak_billed",
                billed=i18n.duration(viewer.lang, billed or 0),
                balance=i18n.duration(viewer.lang, balance),
            ),
        }
    )


class _TooLong(InvalidInput):
    """The text as typed is over the limit (the core counts the cleaned text; a person counts
    what they typed, as the page's counter does)."""

    code = "text_too_long"

    def __init__(self, length: int) -> None:
        super().__init__(f"The text is {length} characters long.", field="text", length=length)


def _catalog(request: web.Request) -> Catalog:
    found = request.app.get(WEB_CATALOG)
    if found is None:
        raise ServiceUnavailable("No speech engines are configured in this process.")
    return found


def _number(value: str | None) -> float:
    """The speed as sent; nonsense becomes NaN, which the one speed check refuses in words."""
    try:
        return float(value) if value else 1.0
    except ValueError:
        return math.nan


async def _send(request: web.Request, live: LiveSpeech) -> web.StreamResponse:
    """The audio, chunked as it is encoded; closing the generator settles the bill (as the API's
    ``send_audio`` does — web/ may not import api/)."""
    name = f"nagovori-{live.job.id}{FILE_EXTENSIONS[live.job.audio_format or 'mp3']}"
    response = web.StreamResponse(
        headers={
            "Content-Type": live.content_type,
            "Content-Disposition": f'inline; filename="{name}"',
            "X-Nagovori-Job-Id": live.job.id,
        }
    )
    response.enable_chunked_encoding()
    try:
        await response.prepare(request)
        async for chunk in live.chunks:
            await response.write(chunk)
        await response.write_eof()
    except ConnectionResetError:
        pass  # the page was closed or stopped: what was synthesized is charged
    except Exception:
        log.exception("web speech stream %s failed", live.job.id)
        response.force_close()  # the browser sees the audio cut short (the job failed, refunded)
    finally:
        await live.chunks.aclose()
    return response


async def _refused(
    request: web.Request, viewer: Viewer, exc: DomainError, form: dict[str, str]
) -> web.StreamResponse:
    """The refusal in words: JSON to the page's script, the page again (text kept) to a plain form."""
    message = await _message(request, viewer, exc)
    if "application/json" in request.headers.get("Accept", ""):
        return _error_json(viewer, exc, message)
    return await _speak_page(request, viewer, error=message, form=form, status=_status(exc))


async def _message(request: web.Request, viewer: Viewer, exc: DomainError) -> str:
    lang, details = viewer.lang, exc.details
    if exc.code == "text_too_long":
        length = int(details.get("length") or 0)
        return i18n.say(
            lang, "speak_too_long", length=length, limit=MAX_TEXT_CHARS, over=length - MAX_TEXT_CHARS
        )
    if exc.code == "text_empty":
        return i18n.say(lang, "speak_empty")
    if exc.code == "invalid_speed":
        return i18n.say(lang, "speak_bad_speed", min=details.get("minimum"), max=details.get("maximum"))
    if exc.code == "unknown_voice":
        return i18n.say(lang, "speak_bad_voice")
    if exc.code == "unsupported_format" or details.get("field") == "format":
        return i18n.say(lang, "speak_bad_format")
    if exc.code == "too_many_active_jobs":
        return i18n.say(lang, "speak_busy")
    if exc.code == "insufficient_minutes":
        assert viewer.user is not None
        balance = await accounts.current_balance(request.app[WEB_PLATFORM], viewer.user.id)
        return i18n.say(lang, "speak_no_minutes", balance=i18n.duration(lang, balance))
    if exc.code in STATUS_BY_CODE:
        return i18n.say(lang, "error_unavailable")
    return errors.message_of(lang, exc)


def _status(exc: DomainError) -> int:
    return STATUS_BY_CODE.get(exc.code) or errors.status_of(exc)


def _error_json(viewer: Viewer, exc: DomainError, message: str) -> web.Response:
    body: dict[str, Any] = {"error": {"code": exc.code, "message": message}}
    if exc.code == "insufficient_minutes":
        body["buy"] = {"url": "/buy", "text": i18n.say(viewer.lang, "nav_buy")}
    return web.json_response(body, status=_status(exc))


async def _speak_page(
    request: web.Request,
    viewer: Viewer,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    assert viewer.user is not None
    platform = request.app[WEB_PLATFORM]
    form = form or {}
    listed = voices()  # the table only (no engine look-up): ids, names, genders, descriptions
    context = {
        "voices": [
            {
                "id": v["id"],
                "name": v["name"],
                "gender": i18n.say(viewer.lang, f"speak_gender_{v['gender']}"),
                "description": _voice_description(viewer.lang, v),
            }
            for v in listed
        ],
        "formats": FORMATS,
        "speeds": SPEEDS,
        "text_languages": LANGUAGES,
        "chosen": {
            "voice": form.get("voice") or DEFAULT_VOICE,
            "format": form.get("format") or "mp3",
            "speed": form.get("speed") or "1",
            "language": form.get("language") or "auto",
        },
        "text": form.get("text", ""),
        "max_chars": MAX_TEXT_CHARS,
        "preview_lang": viewer.lang if viewer.lang in ("en", "ru") else "en",
        "balance_seconds": await accounts.current_balance(platform, viewer.user.id),
        "error": error,
        "no_minutes": error is not None and status == 402,
    }
    return render(request, viewer, "speak.html", context, status=status)


def _voice_description(lang: str, voice: dict[str, Any]) -> str:
    key = f"speak_voice_{voice['id']}"
    return i18n.say(lang, key) if key in i18n.TEXTS else str(voice["description"])
