"""Realtime speech to text: one WebSocket session's config, recognizer, job row and bill.

A session is a transcription job like any other — a row in ``jobs`` (``options.stream`` and
``options.realtime`` set), one of the user's ``MAX_ACTIVE_JOBS`` slots taken at once (or refused),
and a hold placed before any audio is accepted: one minute, or the balance if less (a balance
below one billing quantum is refused at once). As audio arrives the job's ``Meter`` keeps the
hold ahead of the seconds received; when the balance cannot cover the next frame, the session
accepts the paid part only, finalizes, and the caller tells the client ``insufficient_minutes``.
The capture is the seconds of audio received (rounded up to the billing quantum), whether the
client finished cleanly or went away; an engine failure releases everything. Heartbeats record
the seconds received, so a crashed process's session can be settled by the reconciler.

Recognition runs in a thread (``asyncio.to_thread``), one call at a time per session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from asr.presets import apply_terms
from billing import ledger
from billing.errors import InsufficientMinutes
from core.audio.live_decode import LiveDecoder
from core.db.base import utcnow
from core.db.models import TranscriptionJob
from core.errors import DomainError, InvalidInput, public_message
from core.jobs import lifecycle
from core.jobs.admission import start_live
from core.jobs.lifecycle import Claim
from core.jobs.meter import Meter
from core.jobs.progress import JobAbandoned
from core.jobs.states import JobStatus
from core.platform import Platform

if TYPE_CHECKING:
    from asr.streaming import Recognizer, Result

log = logging.getLogger(__name__)

BYTES_PER_SECOND = 16000 * 2  # 16 kHz mono s16le, what every streaming engine reads
FIRST_HOLD_SECONDS = 60  # a hold per started minute (the meter extends it as the stream goes)
HEARTBEAT_SECONDS = 2.0
AUDIO_FORMATS = ("pcm_s16le", "auto")


@dataclass(frozen=True)
class RealtimeConfig:
    """The client's first message, checked."""

    language: str = "auto"
    model: str | None = None
    enable_endpoint_detection: bool = True
    save: bool = False
    audio_format: str = "pcm_s16le"  # or "auto": WebM/OGG Opus chunks, decoded by the session
    terms: tuple[str, ...] = ()  # spelled as given in the text; Whisper's hotwords (as file jobs)


def parse_config(text: str) -> RealtimeConfig:
    """The first message as a config, or InvalidInput saying what is wrong."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise InvalidInput("The first message must be a JSON object with the session's config.") from exc
    if not isinstance(raw, dict):
        raise InvalidInput("The first message must be a JSON object with the session's config.")
    known = {"audio_format", "sample_rate", "num_channels", "language", "language_hints", "model", "terms"}
    known |= {
        "enable_endpoint_detection",
        "enable_speaker_diarization",
        "enable_language_identification",
        "save",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidInput(f"Unknown config fields: {', '.join(unknown)}.", fields=unknown)
    audio_format = raw.get("audio_format")
    if audio_format not in AUDIO_FORMATS:
        raise InvalidInput(
            "audio_format must be 'pcm_s16le' or 'auto'.", field="audio_format", allowed=list(AUDIO_FORMATS)
        )
    if audio_format == "pcm_s16le":  # "auto": the container says (and the decoder resamples)
        if raw.get("sample_rate") != 16000 or isinstance(raw.get("sample_rate"), bool):
            raise InvalidInput("sample_rate must be 16000 (resample on the client).", field="sample_rate")
        if raw.get("num_channels", 1) != 1:
            raise InvalidInput("Only mono audio is accepted (num_channels 1).", field="num_channels")
    language = raw.get("language")
    hints = raw.get("language_hints")
    if language is None and isinstance(hints, list) and hints:
        language = hints[0]
    language = language if language is not None else "auto"
    if not isinstance(language, str) or not (language == "auto" or 2 <= len(language) <= 3):
        raise InvalidInput("language must be a language code like 'en' or 'auto'.", field="language")
    model = raw.get("model")
    if model is not None and (not isinstance(model, str) or len(model) > 64):
        raise InvalidInput("model must be a model id from GET /v1/models.", field="model")
    terms = raw.get("terms", [])
    if (
        not isinstance(terms, list)
        or len(terms) > 100
        or not all(isinstance(t, str) and len(t) <= 100 for t in terms)
    ):
        raise InvalidInput("terms must be a list of at most 100 short strings.", field="terms")
    for name in ("enable_speaker_diarization", "enable_language_identification"):
        if raw.get(name, False) is not False:
            raise InvalidInput(f"{name} is not available for realtime sessions yet.", field=name)
    flags = {
        name: raw.get(name, default)
        for name, default in (("enable_endpoint_detection", True), ("save", False))
    }
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise InvalidInput(f"{name} must be true or false.", field=name)
    if not flags["enable_endpoint_detection"]:
        raise InvalidInput(
            "enable_endpoint_detection false is not supported yet: the streaming engines always "
            "finalize at pauses.",
            field="enable_endpoint_detection",
        )
    return RealtimeConfig(
        language.lower(),
        model,
        flags["enable_endpoint_detection"],
        flags["save"],
        audio_format,
        tuple(dict.fromkeys(t.strip() for t in terms if t.strip())),
    )


@dataclass
class _Progress:
    """What the session received so far, shared with its heartbeat task."""

    bytes: int = 0
    lost: bool = False  # settled by the reconciler meanwhile: stop

    @property
    def seconds(self) -> float:
        return self.bytes / BYTES_PER_SECOND


@dataclass
class RealtimeSession:
    """A started session: feed it audio, then ``finish`` or ``abort`` it (exactly once)."""

    platform: Platform
    job: TranscriptionJob
    claim: Claim
    recognizer: Recognizer
    config: RealtimeConfig
    meter: Meter
    received: _Progress = field(default_factory=_Progress)
    max_seconds: int = 3600
    out_of_minutes: bool = False  # the balance ran out: the caller finishes and closes
    too_long: bool = False  # ``max_seconds`` of audio received: the caller finishes and closes
    finals: list[dict[str, Any]] = field(default_factory=list)
    decoder: LiveDecoder | None = None  # audio_format "auto": encoded chunks in, PCM out
    _beats: asyncio.Task[None] | None = None
    _done: bool = False

    @classmethod
    async def start(
        cls, platform: Platform, engines: Any, user_id: str, config: RealtimeConfig, *, source: str = "api"
    ) -> RealtimeSession:
        """Open the recognizer, take a slot and hold the first minute; errors come before any audio.
        ``source``: the channel the job is counted under (``api``, or ``web`` for the dashboard)."""
        from asr.streaming import open_stream

        recognizer = await asyncio.to_thread(
            open_stream, engines, config.model, config.language, config.terms
        )
        try:
            job, claim, held = await _open_job(platform, user_id, config, recognizer, source)
        except BaseException:
            recognizer.close()
            raise
        quantum = platform.settings.billing_quantum_seconds
        meter = Meter(platform.db, claim, held_seconds=held, quantum=quantum)
        longest = platform.settings.realtime_max_session_seconds
        session = cls(platform, job, claim, recognizer, config, meter, max_seconds=longest)
        if config.audio_format == "auto":
            session.decoder = LiveDecoder()
        session._beats = asyncio.create_task(session._heartbeats())
        return session

    @property
    def seconds(self) -> float:
        return self.received.seconds

    async def feed(self, data: bytes) -> list[Result]:
        """Recognize the next audio, as far as the balance pays for it."""
        if self.received.lost:
            raise JobAbandoned(self.job.id)
        if self.decoder is not None:  # billed by the seconds decoded, not by the bytes sent
            return await self._accept(await asyncio.to_thread(self.decoder.feed, data))
        return await self._accept(data)

    async def _accept(self, pcm: bytes) -> list[Result]:
        if len(pcm) % 2:
            raise InvalidInput("pcm_s16le frames carry whole 16-bit samples (an even number of bytes).")
        room = self.max_seconds * BYTES_PER_SECOND - self.received.bytes
        if len(pcm) >= room:
            self.too_long = True
            pcm = pcm[:room]
        end = (self.received.bytes + len(pcm)) / BYTES_PER_SECOND
        paid = await self.meter.cover_async(end)
        if paid < end:
            self.out_of_minutes = True
            pcm = pcm[: max(0, math.floor(paid * BYTES_PER_SECOND) // 2 * 2 - self.received.bytes)]
        self.received.bytes += len(pcm)
        results = await asyncio.to_thread(self.recognizer.accept, pcm) if pcm else []
        return self._keep(results)

    async def finish(self) -> tuple[list[Result], int, str | None]:
        """The last finals, the seconds billed and the saved job's id (None unless ``save``)."""
        tail: list[Result] = []
        if self.decoder is not None and not self.out_of_minutes and not self.too_long:
            tail = await self._accept(await asyncio.to_thread(self.decoder.finish))
        try:
            results = await asyncio.to_thread(self.recognizer.finish)
        except BaseException:
            await self.abort(failed=True)
            raise
        results = tail + self._keep(results)
        billed = await self._settle(whole=True)
        return results, billed, self.job.id if self.config.save else None

    async def abort(self, *, failed: bool = False) -> None:
        """The client went away (bill what was received) or the engine failed (release all)."""
        if failed:
            await self._stop()
            sends = await lifecycle.fail(
                self.platform.db,
                self.claim.job_id,
                code="engine_failure",
                message="Live recognition failed; your minutes were returned.",
                max_active=self.platform.settings.max_active_jobs,
                attempt=self.claim.attempt,
            )
            if sends:
                await self.platform.queue.send_all(sends)
            return
        await self._settle(whole=False)

    def _keep(self, results: list[Result]) -> list[Result]:
        """``results`` with the caller's terms spelled as given (as file jobs spell them); finals
        remembered for the saved job."""
        if self.config.terms:
            results = [replace(r, text=apply_terms(r.text, self.config.terms)) for r in results]
        if self.config.save:
            self.finals += [{"start": r.start, "end": r.end, "text": r.text} for r in results if r.is_final]
        return results

    async def _stop(self) -> bool:
        if self._done:
            return False
        self._done = True
        if self._beats is not None:
            self._beats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beats
        self.recognizer.close()
        if self.decoder is not None:
            self.decoder.close()
        return True

    async def _settle(self, *, whole: bool) -> int:
        if not await self._stop() or self.received.lost:
            return 0
        seconds = self.received.seconds
        settings = self.platform.settings
        fields: dict[str, Any] = {"duration_seconds": seconds}
        if self.config.save:
            fields["transcript_text"] = " ".join(s["text"] for s in self.finals)
            fields["segments"] = self.finals
        else:
            fields["archived_at"] = utcnow()  # billing record only: not kept in the history
        if not whole or self.out_of_minutes:
            fields["truncated"] = True
        sends = await asyncio.shield(
            lifecycle.complete(
                self.platform.db,
                self.claim,
                billable_seconds=seconds,
                quantum=settings.billing_quantum_seconds,
                max_active=settings.max_active_jobs,
                **fields,
            )
        )
        if sends:
            await self.platform.queue.send_all(sends)
        async with self.platform.db.read() as session:
            job = await session.get(TranscriptionJob, self.job.id)
            return int(job.billed_seconds or 0) if job is not None else 0

    async def _heartbeats(self) -> None:
        """Beat, recording the seconds received (what the reconciler bills if this process dies)."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                ours = await lifecycle.heartbeat(self.platform.db, self.claim, audio_seconds=self.seconds)
            except Exception:
                log.warning("heartbeat failed for realtime session %s", self.job.id, exc_info=True)
                continue
            if not ours:
                self.received.lost = True
                return


async def _open_job(
    platform: Platform, user_id: str, config: RealtimeConfig, recognizer: Recognizer, source: str
) -> tuple[TranscriptionJob, Claim, int]:
    settings = platform.settings
    quantum = settings.billing_quantum_seconds
    now = utcnow()
    job = TranscriptionJob(
        user_id=user_id,
        source=source,
        language=config.language,
        model=config.model,
        options={"stream": True, "realtime": True, "save": config.save},
        status=JobStatus.PROCESSING,
        attempts=1,
        created_at=now,
        dispatched_at=now,
        started_at=now,
        heartbeat_at=now,
    )
    async with platform.db.write() as session:
        balance = await ledger.balance(session, user_id)
        held = min(FIRST_HOLD_SECONDS - FIRST_HOLD_SECONDS % quantum or quantum, balance - balance % quantum)
        if held <= 0:
            raise InsufficientMinutes(required_seconds=quantum, available_seconds=balance)
        await start_live(session, job, hold_seconds=held, max_active=settings.max_active_jobs)
    return job, Claim(job.id, user_id, 1), held


def error_body(exc: BaseException) -> dict[str, Any]:
    """The ``{"error": ...}`` message for a failure, safe to show."""
    if isinstance(exc, DomainError):
        return {"error": {**exc.to_dict(), "message": public_message(exc)}}
    return {"error": {"code": "engine_failure", "message": "Live recognition failed."}}


def result_message(result: Result) -> dict[str, Any]:
    """A partial or final as the client receives it."""
    if not result.is_final:
        return {"text": result.text, "is_final": False}
    message: dict[str, Any] = {
        "text": result.text,
        "is_final": True,
        "start": result.start,
        "end": result.end,
    }
    if result.words:
        message["words"] = [
            {"text": w.text, "start": w.start, "end": w.end, "confidence": w.probability}
            for w in result.words
        ]
    return message
