"""Bot round trip: from a voice note's update to the transcript's ``sendMessage``, minus the engine's
time, through the Telegram Bot API emulation of the end-to-end tests.

The real bot (aiogram, long polling) runs against ``tests/e2e/telegram_emulator.py`` with the
embedded platform (SQLite, worker threads, PocketSphinx) in this process, as ``nagovori serve``
runs them. For each clip, sent as an OGG/Opus voice note: the time from pushing the update to the
emulator receiving the transcript (its own clock), and the bare engine time for the same note
(decode + recognize in this process). The difference is what the bot and the platform add:
getUpdates, the status message, queueing, getFile and the download, the job's bookkeeping, the
progress edits and the delivery. Target: under 300 ms.

    .venv/bin/python -m bench.bench_bot [--repeats N]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import SHARED_AUDIO, median, verdict, workdir  # noqa: E402

if TYPE_CHECKING:
    from asr.engines.pocketsphinx import PocketSphinxEngine
    from tests.e2e.bot_harness import BotStack

CLIPS = ["en/LJ001-0002.wav", "en/s2p-cancel_all_timers.wav", "en/LJ001-0008.wav", "en/LJ001-0004.wav"]
CHAT = 4242


@functools.cache
def asr_engine() -> PocketSphinxEngine:
    from asr.engines.pocketsphinx import PocketSphinxEngine

    return PocketSphinxEngine()


def bare_engine_seconds(note: bytes) -> float:
    """Decode the voice note and recognize it in this process (the engine already loaded)."""
    from asr.base import TranscriptionOptions
    from asr.transcribe import transcribe_audio
    from core.audio.decode import pcm_from_bytes

    start = time.perf_counter()
    pcm = pcm_from_bytes(note)
    transcribe_audio(
        asr_engine(), lambda _mode: [pcm], duration=pcm.size / 16000, options=TranscriptionOptions()
    )
    return time.perf_counter() - start


async def round_trip(stack: BotStack, user: dict[str, object], note: bytes, duration: int) -> float:
    """Seconds from pushing the voice update to the emulator receiving the transcript."""
    emulator = stack.emulator
    update = emulator.message_update(user, media=emulator.voice(note, duration))
    voice_id = int(update["message"]["message_id"])
    pushed = time.monotonic()
    await stack.send(update)

    def answered() -> str | None:
        replies = [m for m in emulator.sent(CHAT, include_deleted=True) if m.reply_to == voice_id]
        return replies[-1].text if len(replies) >= 2 and replies[0].deleted else None

    text = await emulator.wait_for(answered, within=60, what="the transcript")
    sent_at = next(
        c.at for c in reversed(emulator.called("sendMessage")) if str(c.params.get("text")) == text
    )
    return sent_at - pushed


async def measure(
    directory: Path, notes: dict[str, tuple[bytes, int]], repeats: int
) -> dict[str, list[float]]:
    from tests.e2e.bot_harness import bot_stack, migrated_template, tg_user

    trips: dict[str, list[float]] = {name: [] for name in notes}
    async with bot_stack(directory, await migrated_template(directory), framework="aiogram") as stack:
        user = tg_user(CHAT, "Bench")
        first = next(iter(notes.values()))
        await round_trip(stack, user, *first)  # creates the account, loads the engine
        for _ in range(repeats):
            for name, (note, duration) in notes.items():
                trips[name].append(await round_trip(stack, user, note, duration))
    return trips


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_bot")
    parser.add_argument("--repeats", type=int, default=3, help="round trips per clip (default: 3)")
    args = parser.parse_args()
    from tests.e2e.bot_harness import voice_note

    notes = {Path(name).name: voice_note(SHARED_AUDIO / name) for name in CLIPS}
    with workdir("bot") as directory:
        trips = asyncio.run(measure(directory, notes, args.repeats))
    bare_engine_seconds(next(iter(notes.values()))[0])  # loads the engine
    engine = {
        name: median([bare_engine_seconds(note) for _ in range(args.repeats)])
        for name, (note, _) in notes.items()
    }

    print(
        f"aiogram + Bot API emulator + embedded PocketSphinx; median of {args.repeats}; target: round trip - engine < 300 ms"
    )
    print(f"{'clip':<28} {'audio s':>7} {'round trip':>11} {'engine':>8} {'added':>8}  target")
    added_all = []
    for name, (_, duration) in notes.items():
        trip = median(trips[name])
        added = trip - engine[name]
        added_all.append(added)
        print(
            f"{name:<28} {duration:>7} {trip * 1000:>9.0f}ms {engine[name] * 1000:>6.0f}ms "
            f"{added * 1000:>6.0f}ms  {verdict(added < 0.300)}"
        )
    print(
        f"median added over all clips: {median(added_all) * 1000:.0f} ms (target < 300 ms): {verdict(median(added_all) < 0.300)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
