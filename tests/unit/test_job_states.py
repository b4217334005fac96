"""The job state machine."""

from __future__ import annotations

import pytest

from core.jobs.states import JobStatus, can_transition, is_terminal, sources_for


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("queued", "processing"),
        ("queued", "cancelled"),
        ("processing", "completed"),
        ("processing", "failed"),
        ("processing", "cancelled"),
        ("processing", "queued"),
        ("queued", "failed"),
    ],
)
def test_allowed_transitions(current: str, target: str) -> None:
    assert can_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("completed", "processing"),
        ("failed", "queued"),
        ("cancelled", "processing"),
        ("queued", "completed"),
        ("completed", "failed"),
    ],
)
def test_forbidden_transitions(current: str, target: str) -> None:
    assert not can_transition(current, target)


def test_terminal_states() -> None:
    assert {s for s in JobStatus if is_terminal(s)} == {"completed", "failed", "cancelled"}


def test_only_live_jobs_can_complete() -> None:
    assert sources_for(JobStatus.COMPLETED) == ("processing",)
    assert set(sources_for(JobStatus.CANCELLED)) == {"queued", "processing"}


def test_unknown_state_is_an_error() -> None:
    with pytest.raises(ValueError):
        can_transition("exploded", "queued")
