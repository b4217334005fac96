"""Job states and the transitions between them.

queued ──► processing ──► completed
  │  ▲          │
  │  └──────────┤ (worker lost: back to the queue)
  ▼             ▼
cancelled     failed          (cancelled also from processing)
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})

QUEUES = ("asr", "tts", "deliver")
"""Where queued work waits: a job's kind names its queue; finished jobs wait in "deliver"."""

_ALLOWED: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.PROCESSING, JobStatus.CANCELLED, JobStatus.FAILED}),
    JobStatus.PROCESSING: frozenset(
        {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}
    ),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


def can_transition(current: str, target: str) -> bool:
    """True when a job in ``current`` may move to ``target``."""
    return JobStatus(target) in _ALLOWED[JobStatus(current)]


def is_terminal(status: str) -> bool:
    return JobStatus(status) in TERMINAL


def sources_for(target: JobStatus) -> tuple[str, ...]:
    """The states a job may be in to move to ``target`` (for conditional UPDATEs)."""
    return tuple(s.value for s, targets in _ALLOWED.items() if target in targets)
