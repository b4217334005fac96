"""Queue depth, waits and running jobs, measured in the database when ``/metrics`` is scraped.

The database is the truth about what waits (a queue message only says "look at job X", and jobs
a user's fairness limit keeps back have no message yet), so two index-served queries
(``ix_jobs_status_created``) answer for the whole deployment, whichever process is scraped:
queued and processing jobs per kind, and finished Telegram jobs still waiting for delivery.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from core.db.base import utcnow
from core.db.database import Database
from core.db.models import Job
from core.jobs.states import QUEUES, JobStatus

DELIVERY_WINDOW = timedelta(days=1)
"""Undelivered answers older than this are the reconciler's business, not a queue (and bounding
the scan keeps it on the index)."""


@dataclass
class QueueSnapshot:
    """What waits and what runs, per queue (asr, tts, deliver) and per kind (asr, tts)."""

    depth: dict[str, int] = field(default_factory=lambda: dict.fromkeys(QUEUES, 0))
    oldest_wait: dict[str, float] = field(default_factory=lambda: dict.fromkeys(QUEUES, 0.0))
    processing: dict[str, int] = field(default_factory=dict)
    oldest_heartbeat_age: dict[str, float] = field(default_factory=dict)
    up: bool = True


async def measure(db: Database) -> QueueSnapshot:
    """One snapshot; ``up`` is False (and the rest zero) when the database does not answer."""
    snapshot = QueueSnapshot()
    now = utcnow()
    try:
        async with db.read() as session:
            rows = (
                await session.execute(
                    select(
                        Job.kind,
                        Job.status,
                        func.count(),
                        func.min(Job.created_at),
                        func.min(Job.heartbeat_at),
                    )
                    .where(Job.status.in_((JobStatus.QUEUED, JobStatus.PROCESSING)))
                    .group_by(Job.kind, Job.status)
                )
            ).all()
            undelivered = (
                await session.execute(
                    select(func.count(), func.min(Job.completed_at)).where(
                        Job.status.in_((JobStatus.COMPLETED, JobStatus.FAILED)),
                        Job.created_at > now - DELIVERY_WINDOW,
                        Job.delivery.is_not(None),
                        Job.delivered_at.is_(None),
                    )
                )
            ).one()
    except Exception:
        snapshot.up = False
        return snapshot
    for kind, status, count, oldest_created, oldest_heartbeat in rows:
        if status == JobStatus.QUEUED:
            snapshot.depth[kind] = int(count)
            snapshot.oldest_wait[kind] = _age(now, oldest_created)
        else:
            snapshot.processing[kind] = int(count)
            snapshot.oldest_heartbeat_age[kind] = _age(now, oldest_heartbeat)
    snapshot.depth["deliver"] = int(undelivered[0] or 0)
    snapshot.oldest_wait["deliver"] = _age(now, undelivered[1])
    return snapshot


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


class SnapshotCollector(Collector):
    """Presents one ``QueueSnapshot`` as gauges (a fresh collector per scrape)."""

    def __init__(self, snapshot: QueueSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily]:
        s = self.snapshot
        yield GaugeMetricFamily(
            "nagovori_queue_stats_up", "1 when the database answered the queue measurement.", value=int(s.up)
        )
        yield _by(
            "nagovori_queue_depth",
            "Jobs waiting per queue (deliver: finished, not yet sent).",
            "queue",
            s.depth,
        )
        yield _by(
            "nagovori_queue_oldest_wait_seconds",
            "Age of the oldest waiting job per queue (0: none waits).",
            "queue",
            s.oldest_wait,
        )
        yield _by("nagovori_jobs_processing", "Jobs running now, per kind.", "kind", s.processing)
        yield _by(
            "nagovori_jobs_oldest_heartbeat_age_seconds",
            "Seconds since the stalest running job's last heartbeat (above JOB_STALE_SECONDS: a worker is gone).",
            "kind",
            s.oldest_heartbeat_age,
        )


def _by(
    name: str, documentation: str, label: str, values: dict[str, int] | dict[str, float]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=(label,))
    for key, value in sorted(values.items()):
        family.add_metric((key,), value)
    return family
