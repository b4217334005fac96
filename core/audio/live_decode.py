"""Incremental decode of a live encoded stream (WebM/Opus or OGG/Opus as a browser's
MediaRecorder sends it) to 16 kHz mono s16le, chunk by chunk as it arrives.

FFmpeg's demuxers pull their input; a live stream is pushed. So the demuxer runs in a thread of
its own and reads from a buffer that blocks until the next chunk comes: ``feed`` appends a chunk,
waits until the demuxer has used everything it was given (it is blocked for more again, or done),
and returns the PCM decoded so far. A container split across chunks anywhere (mid-cluster,
mid-page) therefore decodes exactly as the whole file would. ``finish`` ends the input and returns
the rest. Data FFmpeg cannot read as audio is an AudioError (the caller's invalid-input path).
"""

from __future__ import annotations

import threading
from typing import Any

import av
from av.audio.resampler import AudioResampler

from core.audio.errors import AudioError

SAMPLE_RATE = 16000
# Probe little: a live stream's headers come first (WebM's EBML header, OGG's "OggS" page), and
# FFmpeg's defaults (up to 1 MB to guess the format, 5 MB or 5 s to study the streams) would hold
# back the first words, or keep waiting on garbage instead of refusing it.
OPEN_OPTIONS = {"formatprobesize": "4096", "probesize": "8192", "analyzeduration": "200000"}
WAIT_SECONDS = 30.0  # the demuxer thread should never take this long for one chunk


class LiveDecoder:
    """One stream's decoder; ``feed``/``finish`` from one thread at a time (blocking: run them in a
    worker thread)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._input = bytearray()
        self._output = bytearray()
        self._ended = False  # no more input will come
        self._starving = False  # the demuxer is blocked waiting for input
        self._done = False  # the demuxer thread has returned
        self._error: AudioError | None = None
        self._thread: threading.Thread | None = None

    def feed(self, data: bytes) -> bytes:
        """Take the next encoded chunk; the PCM it completed (maybe none yet)."""
        with self._changed:
            self._input += data
            self._changed.notify_all()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="live-decode", daemon=True)
            self._thread.start()
        with self._changed:
            settled = self._changed.wait_for(
                lambda: self._done or (self._starving and not self._input), timeout=WAIT_SECONDS
            )
            if not settled:
                raise AudioError("The audio could not be decoded in time.", reason="unsupported_format")
            return self._take()

    def finish(self) -> bytes:
        """No more input: the rest of the PCM."""
        self._end()
        if self._thread is not None:
            self._thread.join(WAIT_SECONDS)
        with self._changed:
            return self._take()

    def close(self) -> None:
        """Stop the demuxer thread (idempotent)."""
        self._end()

    def _end(self) -> None:
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def _take(self) -> bytes:
        if self._error is not None:
            raise self._error
        out = bytes(self._output)
        self._output.clear()
        return out

    def read(self, size: int) -> bytes:
        """FFmpeg's input (the demuxer thread): what has arrived, blocking until something has."""
        with self._changed:
            while not self._input and not self._ended:
                self._starving = True
                self._changed.notify_all()
                self._changed.wait()
            self._starving = False
            chunk = bytes(self._input[:size])
            del self._input[:size]
            return chunk

    def _run(self) -> None:
        try:
            self._demux()
        except AudioError as exc:
            self._error = exc
        except (av.FFmpegError, ValueError, OSError) as exc:
            self._error = AudioError(
                "The audio is not WebM/Opus or OGG/Opus (or is damaged); send the chunks "
                "MediaRecorder produces, in order, starting with the first.",
                reason="not_audio",
            )
            self._error.__cause__ = exc
        finally:
            with self._changed:
                self._done = True
                self._input.clear()
                self._changed.notify_all()

    def _demux(self) -> None:
        with av.open(self, mode="r", options=OPEN_OPTIONS) as container:
            if not container.streams.audio:
                raise AudioError("The stream has no audio track.", reason="no_audio_stream")
            stream = container.streams.audio[0]
            resampler = AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    continue  # one corrupt packet should not end the session (as file decodes)
                for frame in frames:
                    frame.pts = None  # gaps in timestamps must not make the resampler pad
                    self._emit(resampler.resample(frame))
            self._emit(resampler.resample(None))

    def _emit(self, frames: list[Any]) -> None:
        pcm = b"".join(f.to_ndarray().tobytes() for f in frames)
        if pcm:
            with self._changed:
                self._output += pcm
