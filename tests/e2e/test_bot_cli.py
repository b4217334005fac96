"""``nagovori bot`` and ``nagovori serve`` run the bot as a real process against the emulator,
with their own embedded workers; without a token, ``bot`` says what to set."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.db.migrate import upgrade_async
from tests.e2e.bot_harness import TOKEN, free_port, tg_user
from tests.e2e.telegram_emulator import TelegramEmulator

NAGOVORI = [sys.executable, "-m", "cli"]


def test_bot_without_a_token_says_what_to_set(tmp_path: Path) -> None:
    env = {**os.environ, "NAGOVORI_DATA_DIR": str(tmp_path), "NAGOVORI_TELEGRAM_TOKEN": ""}
    done = subprocess.run([*NAGOVORI, "bot"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "NAGOVORI_TELEGRAM_TOKEN" in done.stderr and "BotFather" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "framework"), [(["bot", "--framework", "ptb"], "ptb"), (["serve"], "aiogram")]
)
async def test_the_bot_process_answers_and_stops_cleanly(
    tmp_path: Path, command: list[str], framework: str
) -> None:
    emulator = TelegramEmulator(TOKEN)
    await emulator.start()
    database = f"sqlite+aiosqlite:///{tmp_path / 'nagovori.db'}"
    await upgrade_async(database)
    env = {
        **os.environ,
        "NO_PROXY": "127.0.0.1,localhost",
        "NAGOVORI_DATA_DIR": str(tmp_path / "data"),
        "NAGOVORI_DATABASE_URL": database,
        "NAGOVORI_REDIS_URL": "",
        "NAGOVORI_TELEGRAM_TOKEN": TOKEN,
        "NAGOVORI_TELEGRAM_API_URL": emulator.url,
        "NAGOVORI_TELEGRAM_WEBHOOK_SECRET": "",
        "NAGOVORI_ASR_ENGINE": "pocketsphinx",
        "NAGOVORI_TTS_ENGINE": "espeak",
        "NAGOVORI_PORT": str(free_port()),
    }
    process = await asyncio.create_subprocess_exec(
        *NAGOVORI, *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        await emulator.wait_for(lambda: emulator.called("getUpdates"), within=60, what="polling to start")
        await emulator.push(emulator.message_update(tg_user(801, "Zoe"), text="/start"))
        await emulator.wait_for(
            lambda: [m for m in emulator.sent(801) if m.text and m.text.startswith("Hi, Zoe!")],
            within=30,
            what="the welcome",
        )
        process.send_signal(signal.SIGINT)
        stdout, _stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0
        assert f"Telegram bot running ({framework}" in stdout.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await emulator.stop()
