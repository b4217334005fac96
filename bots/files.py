"""The worker's file source for Telegram jobs: getFile, then download from the file URL."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from bots.errors import TelegramFileTooBig, TelegramFileUnavailable
from bots.messenger import BadRequest, FileTooBig, MessengerFactory


class TelegramInput(Protocol):
    """What the source reads of a transcription job (``TranscriptionJob`` has both)."""

    @property
    def telegram_file_id(self) -> str | None: ...

    @property
    def size_bytes(self) -> int | None: ...


class TelegramFileSource:
    """Implements ``core.jobs.runtime.FileSource`` for jobs with a ``telegram_file_id``.

    Telegram's refusals (too big, unknown file) are final and fail the job with a clear message
    (refunding it); network trouble and 429s propagate, and the job is retried."""

    def __init__(self, open_messenger: MessengerFactory, *, download_limit: int) -> None:
        self._open = open_messenger
        self._limit = download_limit

    async def fetch(self, job: TelegramInput, directory: Path) -> Path:
        assert job.telegram_file_id is not None
        try:
            async with self._open() as messenger:
                return await messenger.download(job.telegram_file_id, directory / "telegram-input")
        except FileTooBig as exc:
            raise TelegramFileTooBig(size_bytes=job.size_bytes or 0, limit_bytes=self._limit) from exc
        except BadRequest as exc:
            raise TelegramFileUnavailable() from exc
