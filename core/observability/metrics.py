"""The platform's Prometheus metrics, defined once here and moved where things happen.

Importing this module only defines the metric objects (prometheus-client keeps them in its default
registry, or in ``PROMETHEUS_MULTIPROC_DIR``'s files when a supervisor set that variable before
this process started: see docs/operations.md). Who moves what:

* the API's middleware (``api/observability.py``): ``http_requests_total`` and the latency histogram,
  labelled by the route's *pattern* (``/v1/transcriptions/{id}``), never the raw path;
* ``job_metrics`` (the database's commit hooks): jobs created, jobs finished, audio seconds and
  real-time factor, ledger seconds — counted when their transaction commits, never for a rollback;
* ``core.jobs.lifecycle.heartbeat``: worker heartbeats; ``bots/``: updates and deliveries;
* ``queue_gauges``: queue depth and waits, measured in the database at scrape time.

Label values come from small fixed sets (kinds, engines, statuses, route patterns); anything
else a client could choose becomes ``other`` (``label``), so no request can add series.
"""

from __future__ import annotations

import re
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

_LABEL = re.compile(r"[A-Za-z0-9._\-]{1,48}")


def label(value: str | None, default: str = "none") -> str:
    """``value`` as a label value when it is short and plain, ``other`` when not."""
    if not value:
        return default
    return value if _LABEL.fullmatch(value) else "other"


HTTP_REQUESTS = Counter(
    "nagovori_http_requests",
    "HTTP requests answered, by route pattern and status.",
    ("method", "route", "status"),
)
HTTP_DURATION = Histogram(
    "nagovori_http_request_duration_seconds",
    "Time from the request's arrival until its handler returned (a stream: its whole length), by route pattern.",
    ("route",),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
JOBS_CREATED = Counter(
    "nagovori_jobs_created", "Jobs accepted (held and stored).", ("kind", "engine", "source")
)
JOBS_FINISHED = Counter(
    "nagovori_jobs_finished",
    "Jobs that reached an end: outcome completed, failed or cancelled.",
    ("kind", "engine", "outcome"),
)
AUDIO_SECONDS = Counter(
    "nagovori_audio_processed_seconds",
    "Seconds of audio of completed jobs: recognized (asr) or synthesized (tts).",
    ("kind", "engine", "model"),
)
REAL_TIME_FACTOR = Histogram(
    "nagovori_job_real_time_factor",
    "A completed job's wall time from claim to completion per second of audio (below 1: faster than real time).",
    ("kind", "engine", "model"),
    buckets=(0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10),
)
LEDGER_SECONDS = Counter(
    "nagovori_ledger_seconds",
    "Seconds moved by the ledger: grant, hold, extend (more held), capture (charged), release (given back).",
    ("movement", "channel"),
)
BOT_UPDATES = Counter("nagovori_bot_updates", "Telegram updates taken in, by kind.", ("kind",))
BOT_DELIVERIES = Counter(
    "nagovori_bot_deliveries",
    "Telegram delivery attempts: sent, retry (Telegram asked to wait), unreachable (chat gone), error.",
    ("outcome",),
)
JOB_HEARTBEATS = Counter("nagovori_job_heartbeats", "Heartbeats written by running jobs in this process.")
LAST_HEARTBEAT = Gauge(
    "nagovori_worker_last_heartbeat_timestamp_seconds",
    "When a running job in this process last wrote its heartbeat (Unix time).",
    multiprocess_mode="max",
)


_REQUEST_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}  # (method, route, status) → children


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    """One answered request: a counter and a histogram update (their children looked up once per
    label set: this runs on every request)."""
    key = (method, route, status)
    series = _REQUEST_SERIES.get(key)
    if series is None:
        series = _REQUEST_SERIES[key] = (
            HTTP_REQUESTS.labels(method, route, str(status)),
            HTTP_DURATION.labels(route),
        )
    series[0].inc()
    series[1].observe(seconds)


def worker_heartbeat() -> None:
    JOB_HEARTBEATS.inc()
    LAST_HEARTBEAT.set_to_current_time()
