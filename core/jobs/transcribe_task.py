"""The transcription processor: fetch, probe, decode as a stream, recognize, report progress.

The file's header only estimates its length (and can lie): the decoded audio passes through the
job's meter on its way to the engine, which extends the hold as the audio runs on and cuts the
stream where the balance ends. The job is billed for the seconds decoded, and says ``truncated``
when the money ran out before the audio did.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import numpy as np

from asr.base import Segment, TranscriptionOptions
from asr.isolated import stop_when
from asr.transcribe import TranscriptResult, transcribe_audio
from core.audio.decode import SAMPLE_RATE, decode_pcm
from core.audio.probe import probe
from core.db.models import TranscriptionJob
from core.jobs.execute import Outcome
from core.jobs.fetch_input import fetch_input, url_of
from core.jobs.lifecycle import Claim
from core.jobs.meter import Meter
from core.jobs.progress import ProgressReporter
from core.jobs.runtime import WorkerRuntime
from core.services.transcriptions import check_duration
from core.settings import Settings


def options_for(job: TranscriptionJob) -> TranscriptionOptions:
    """Engine options from what the job asked for."""
    opts = job.options or {}
    return TranscriptionOptions(
        language=job.language or "auto",
        preset=opts.get("preset", "default"),
        prompt=opts.get("prompt"),
        terms=tuple(opts.get("terms") or ()),
        word_timestamps=bool(opts.get("word_timestamps", False)),
        task="translate" if opts.get("task") == "translate" else "transcribe",
    )


def segment_dict(segment: Segment) -> dict[str, Any]:
    data = asdict(segment)
    if not segment.words:
        data.pop("words")
    if segment.speaker is None:
        data.pop("speaker")
    return data


async def process_transcription(rt: WorkerRuntime, claim: Claim, reporter: ProgressReporter) -> Outcome:
    async with rt.platform.db.read() as session:
        job = await session.get(TranscriptionJob, claim.job_id)
    assert job is not None
    if url_of(job) is not None:  # an audio_url: fetched once, then the job's input like an upload
        job = await fetch_input(rt.platform, claim, job)
    with tempfile.TemporaryDirectory(prefix="nagovori-") as tmp:
        path = await rt.file_source(job).fetch(job, Path(tmp))
        info = await asyncio.to_thread(probe, path)
        # Telegram's duration was only metadata; the file itself decides (refunded if refused).
        check_duration(rt.platform.settings, info.duration_seconds)
        engine = await asyncio.to_thread(rt.asr.get, job.model)
        opts = job.options or {}
        channels: Literal["mix", "split"] = "split" if opts.get("channels") == "split" else "mix"
        labels = tuple(opts.get("speaker_labels") or ("Speaker 1", "Speaker 2"))

        decoded: list[int] = []  # samples of each complete pass over the file
        meter = Meter.in_worker(rt.platform, claim, held_seconds=job.hold_seconds)

        def open_audio(mode: Literal["mix", "split"]) -> Iterable[np.ndarray]:
            paid = _metered(decode_pcm(path, channels=mode), meter, rt.platform.settings)
            return _counted(paid, decoded, reporter.check)

        def on_segment(segment: Segment, fraction: float) -> None:
            reporter.report(
                fraction,
                {
                    "type": "token",
                    "text": segment.text,
                    "start": segment.start,
                    "end": segment.end,
                    **({"speaker": segment.speaker} if segment.speaker else {}),
                },
            )

        # A cancelled job stops between chunks and segments; an isolated engine also while it
        # decodes (its process is stopped).
        with stop_when(reporter.check):
            result: TranscriptResult = await asyncio.to_thread(
                transcribe_audio,
                engine,
                open_audio,
                duration=info.duration_seconds,
                options=options_for(job),
                channels=channels,
                speaker_labels=(str(labels[0]), str(labels[1])),
                on_segment=on_segment,
            )
    # A header can claim more or less than the file holds (a cut-off or forged file): the bill
    # is what was decoded and heard.
    seconds = max(decoded) / SAMPLE_RATE if decoded else info.duration_seconds
    return Outcome(
        billable_seconds=seconds,
        fields={
            "truncated": meter.cut_at is not None,
            "transcript_text": result.text,
            "segments": [segment_dict(s) for s in result.segments],
            "detected_language": result.language,
            "duration_seconds": seconds,
            "model": job.model or engine.model_id,
        },
    )


def _counted(
    chunks: Iterable[np.ndarray], totals: list[int], check: Callable[[], None]
) -> Iterator[np.ndarray]:
    """Pass ``chunks`` through (``check`` before each: it raises once the job is abandoned); once
    they are exhausted, append their sample count to ``totals``."""
    samples = 0
    for chunk in chunks:
        check()
        samples += chunk.shape[-1]
        yield chunk
    totals.append(samples)


def _metered(chunks: Iterable[np.ndarray], meter: Meter, settings: Settings) -> Iterator[np.ndarray]:
    """Pass on the audio the balance pays for and stop decoding where it ends (``meter.cut_at``).
    Audio longer than MAX_AUDIO_SECONDS, whatever its header said, fails the job as too long."""
    position = 0  # samples passed on
    for chunk in chunks:
        end = (position + chunk.shape[-1]) / SAMPLE_RATE
        if end > settings.max_audio_seconds:
            check_duration(settings, end)
        paid = meter.cover(end)
        if paid < end:
            keep = max(0, int(paid * SAMPLE_RATE) - position)
            if keep:
                yield chunk[..., :keep]
            meter.cut_at = (position + keep) / SAMPLE_RATE
            return  # closing the decoder here stops reading the file
        position += chunk.shape[-1]
        yield chunk
