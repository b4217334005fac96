"""Voice previews: a few fixed words in each voice, so a person can hear it before paying.

Who pays: nobody. The words are ours (one sentence per language), never the visitor's, so a
preview cannot be used to get speech for free; and each (voice, language) is synthesized once per
process and kept (MP3, a few KB; at most 7 voices x 2 languages), so clicking again and again costs
neither minutes nor engine time. Only signed-in people reach it (the page checks).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from core.audio.encode import CONTENT_TYPES, encode
from core.errors import InvalidInput

if TYPE_CHECKING:
    from core.services.catalog import TtsCatalog

PREVIEW_FORMAT = "mp3"
PREVIEW_CONTENT_TYPE = CONTENT_TYPES[PREVIEW_FORMAT]
PREVIEW_TEXTS = {
    "en": "Hello! This is how my voice sounds.",
    "ru": "Здравствуйте! Вот так звучит мой голос.",
}


class VoicePreviews:
    """The previews this process has made, made on first request (one synthesis per key, even
    when many clicks arrive together)."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, str], bytes] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def preview(self, engines: TtsCatalog, voice: str, language: str) -> bytes:
        """The MP3 of the preview sentence in ``voice`` and ``language`` (``en`` or ``ru``)."""
        from tts.voices import get_voice  # the voice table is data: read when first asked

        if language not in PREVIEW_TEXTS:
            raise InvalidInput(
                f"Previews are in {' or '.join(PREVIEW_TEXTS)}, not '{language}'.",
                field="language",
                allowed=list(PREVIEW_TEXTS),
            )
        key = (get_voice(voice).id, language)  # UnknownVoice (a 400) for a voice we do not have
        made = self._made.get(key)
        if made is not None:
            return made
        async with self._locks.setdefault(key, asyncio.Lock()):
            made = self._made.get(key)
            if made is None:
                made = self._made[key] = await asyncio.to_thread(_synthesize, engines, *key)
        return made


def _synthesize(engines: TtsCatalog, voice: str, language: str) -> bytes:
    import numpy as np

    from tts.synthesize import synthesize

    chunks = list(synthesize(engines.get(None), PREVIEW_TEXTS[language], voice=voice, language=language))
    pcm = np.concatenate([c.pcm for c in chunks])
    return encode(pcm, chunks[0].sample_rate, PREVIEW_FORMAT)
