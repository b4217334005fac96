"""``pull``: the real download code, run against a loopback HTTP server and ``file://`` URLs.

The test server lays out the tiny model like models.silero.ai does (``/ru/v4_ru.pt``), so only the
base URL differs from production.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.tts_models import RU_SPEAKERS, decode, tiny_silero
from tts.errors import ModelDownloadFailed, UnknownEngine
from tts.registry import TtsConfig, TtsEngines
from tts.silero_pull import is_torch_package, pull
from tts.synthesize import synthesize


class _Handler(BaseHTTPRequestHandler):
    """Serves ``files`` by path; ``short_by`` makes a response announce more bytes than it sends."""

    files: ClassVar[dict[str, bytes]] = {}
    short_by: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) + self.short_by.get(self.path, 0)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def server(test_cache: Path) -> Iterator[tuple[str, type[_Handler]]]:
    class Handler(_Handler):  # a class per test: its files do not leak into the next test
        files: ClassVar[dict[str, bytes]] = {}
        short_by: ClassVar[dict[str, int]] = {}

    Handler.files["/ru/v4_ru.pt"] = tiny_silero(test_cache, "v4_ru", RU_SPEAKERS).read_bytes()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", Handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_pull_downloads_verifies_and_the_engine_loads_it(
    tmp_path: Path, server: tuple[str, type[_Handler]]
) -> None:
    base_url, _ = server
    seen: list[tuple[int, int | None]] = []
    path = pull(
        "silero-v4_ru", tmp_path, base_url=base_url, progress=lambda done, total: seen.append((done, total))
    )
    assert path == tmp_path / "silero" / "v4_ru.pt"
    assert is_torch_package(path)
    assert seen and seen[-1][0] == seen[-1][1] == path.stat().st_size
    assert list((tmp_path / "silero").iterdir()) == [path]  # no .part left behind
    engines = TtsEngines(TtsConfig(models_dir=tmp_path))
    (chunk,) = synthesize(engines.get(), "Скачано.")
    assert decode(chunk.pcm, chunk.sample_rate).text == "скачано."


def test_a_model_already_present_is_kept(tmp_path: Path, server: tuple[str, type[_Handler]]) -> None:
    base_url, handler = server
    path = pull("v4_ru", tmp_path, base_url=base_url)
    before = path.stat().st_mtime_ns
    handler.files.clear()  # the server would now answer 404
    assert pull("v4_ru", tmp_path, base_url=base_url) == path
    assert path.stat().st_mtime_ns == before
    with pytest.raises(ModelDownloadFailed):
        pull("v4_ru", tmp_path, base_url=base_url, force=True)
    assert is_torch_package(path)  # a failed forced download leaves the good file alone


def test_http_errors(tmp_path: Path, server: tuple[str, type[_Handler]]) -> None:
    base_url, _ = server
    with pytest.raises(ModelDownloadFailed) as caught:
        pull("v3_en", tmp_path, base_url=base_url)
    assert "HTTP 404" in caught.value.message
    assert caught.value.details["status"] == 404
    assert not (tmp_path / "silero" / "v3_en.pt").exists()
    assert not (tmp_path / "silero" / "v3_en.pt.part").exists()


def test_something_that_is_not_a_model_is_not_saved(
    tmp_path: Path, server: tuple[str, type[_Handler]]
) -> None:
    base_url, handler = server
    handler.files["/en/v3_en.pt"] = b"<html>Please log in</html>"
    with pytest.raises(ModelDownloadFailed) as caught:
        pull("v3_en", tmp_path, base_url=base_url)
    assert "not a Silero model" in caught.value.message
    assert list((tmp_path / "silero").iterdir()) == []


def test_a_cut_connection_is_reported(tmp_path: Path, server: tuple[str, type[_Handler]]) -> None:
    base_url, handler = server
    handler.short_by["/ru/v4_ru.pt"] = 1000  # announces more bytes than it sends
    with pytest.raises(ModelDownloadFailed):
        pull("v4_ru", tmp_path, base_url=base_url)
    assert list((tmp_path / "silero").iterdir()) == []


def test_unreachable_host(tmp_path: Path) -> None:
    with pytest.raises(ModelDownloadFailed) as caught:
        pull("v4_ru", tmp_path, base_url="http://127.0.0.1:9", timeout=5)
    assert "internet" in caught.value.message


def test_file_urls_work_as_a_local_mirror(tmp_path: Path, test_cache: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "ru").mkdir(parents=True)
    (mirror / "ru" / "v4_ru.pt").write_bytes(tiny_silero(test_cache, "v4_ru", RU_SPEAKERS).read_bytes())
    path = pull("v4_ru", tmp_path / "models", base_url=mirror.as_uri())
    assert is_torch_package(path)


def test_unknown_model(tmp_path: Path) -> None:
    with pytest.raises(UnknownEngine) as caught:
        pull("v9_klingon", tmp_path)
    assert "silero-v4_ru" in caught.value.details["allowed"]


def test_registry_pull_uses_the_configured_models_dir(tmp_path: Path) -> None:
    engines = TtsEngines(TtsConfig(models_dir=tmp_path))
    with pytest.raises(UnknownEngine):
        engines.pull("nonsense")
