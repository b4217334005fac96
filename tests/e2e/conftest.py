"""Fixtures of the end-to-end tests: the bot's running stack, and the ``openai`` client of a module's
``server``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from tests.e2e.bot_harness import FRAMEWORKS, BotStack, module_stack

if TYPE_CHECKING:
    import openai

    from tests.api_harness import ServerProcess


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=FRAMEWORKS)
async def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotStack]:
    """One running stack per framework for the whole module (each test is its own Telegram user);
    the module runs on one loop: ``pytestmark = pytest.mark.asyncio(loop_scope="module")``."""
    async with module_stack(tmp_path_factory, request.param) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> openai.OpenAI:
    """The official ``openai`` package against the module's live ``server``."""
    import openai

    return openai.OpenAI(base_url=f"{server.base}/v1", api_key=server.key, max_retries=0, timeout=120)
