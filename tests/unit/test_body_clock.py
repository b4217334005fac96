"""The body deadlines of api/protocol.py: idle, total earned by the minimum rate, paused time free.
(The live server's behaviour is in tests/integration/test_api_slow_clients.py.)"""

from __future__ import annotations

from typing import Any, cast

from aiohttp.streams import StreamReader

from api.protocol import ConnectionLimits, _BodyClock
from core.settings import Settings

LIMITS = ConnectionLimits(body_idle_timeout=10, body_timeout=30, body_min_rate=64 * 1024)


class Payload:
    total_bytes = 0


def clock(payload: Any) -> _BodyClock:
    return _BodyClock(cast(StreamReader, payload), 100.0, LIMITS)


def test_a_byte_every_5_s_is_cut_by_the_total_deadline_at_30_s() -> None:
    payload = Payload()
    body = clock(payload)
    for t in range(105, 130, 5):
        payload.total_bytes += 1
        body.progress(t)
        assert body.overdue(t) is None
    assert body.overdue(130.1) is not None and "within 30 s" in str(body.overdue(130.1))


def test_silence_is_cut_by_the_idle_timeout() -> None:
    body = clock(Payload())
    assert body.overdue(109.9) is None
    assert "no byte" in str(body.overdue(110))


def test_a_client_keeping_the_minimum_rate_earns_time() -> None:
    payload = Payload()
    body = clock(payload)
    payload.total_bytes = 64 * 1024 * 100  # 100 s worth at the minimum rate
    body.progress(129)
    assert body.overdue(135) is None
    assert body.next_check() == 139  # the idle deadline comes first now


def test_time_the_server_held_the_client_back_does_not_count() -> None:
    body = clock(Payload())
    body.pause(101)
    body.resume(140)  # the handler did not read for 39 s
    assert body.overdue(145) is None  # idle counts from the resume, the total moved by 39 s
    assert body.next_check() == 150


def test_limits_come_from_settings(tmp_path: Any) -> None:
    settings = Settings.load(
        data_dir=tmp_path,
        header_timeout_seconds=5,
        body_idle_timeout_seconds=6,
        body_timeout_seconds=0,
        body_min_rate_kb=8,
        max_pending_connections_per_ip=0,
    )
    limits = ConnectionLimits.from_settings(settings)
    assert (limits.header_timeout, limits.body_idle_timeout, limits.body_timeout) == (5, 6, 0)
    assert (limits.body_min_rate, limits.max_pending_per_ip) == (8 * 1024, 0)


def test_the_pending_cap_admits_bursts_but_not_stalled_connections() -> None:
    from api.protocol import BURST_FACTOR, PendingConnections

    now = [0.0]
    pending = PendingConnections(2, grace=1.0, clock=lambda: now[0])
    burst = [pending.admit("10.0.0.1", token) for token in range(2 * BURST_FACTOR + 1)]
    assert burst == [True] * (2 * BURST_FACTOR) + [False]  # young ones: ten times the cap
    assert pending.admit("10.0.0.2", 0)  # another address has its own count
    now[0] = 1.5  # all of them stalled now
    assert not pending.admit("10.0.0.1", 100)
    for token in range(2 * BURST_FACTOR - 1):
        pending.release("10.0.0.1", token)
    assert pending.admit("10.0.0.1", 101)  # one stalled left, under the cap
    now[0] = 3.0  # 101 has stalled too: two stalled, at the cap
    assert not pending.admit("10.0.0.1", 102)
