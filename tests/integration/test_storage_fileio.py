"""The thread-safe descriptor under the local store: closing never pulls a file from under a thread."""

from __future__ import annotations

import os
import threading

from core.storage._fileio import ThreadFile


def test_close_waits_for_the_operation_in_flight() -> None:
    # Given a read blocked in a worker thread on an empty pipe
    read_end, write_end = os.pipe()
    file = ThreadFile()
    file.open(lambda: read_end)
    result: list[bytes] = []
    reader = threading.Thread(target=lambda: result.append(file.read(5)))
    reader.start()
    while not file._lock.locked():  # the reader holds the lock once it is inside os.read
        threading.Event().wait(0.001)

    # When the event loop closes the file meanwhile
    closer = threading.Thread(target=file.close)
    closer.start()
    closer.join(timeout=0.2)

    # Then the close waits, and the read completes on its own, still-open descriptor
    assert closer.is_alive()
    os.write(write_end, b"hello")
    reader.join(timeout=10)
    closer.join(timeout=10)
    assert result == [b"hello"]
    os.close(write_end)


def test_open_after_close_does_not_open() -> None:
    file = ThreadFile()
    file.close()
    opened: list[int] = []

    def opener() -> int:
        opened.append(1)
        return 0

    assert file.open(opener) is False
    assert opened == []
