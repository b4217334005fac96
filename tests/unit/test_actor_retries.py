"""The retry policy at the actor boundary: a step's ``RetryLater`` becomes Dramatiq's retry."""

from __future__ import annotations

import dramatiq
import pytest

from core.errors import RetryLater
from core.jobs.actors import RETRY_MARGIN_MS, retry_when_asked


def test_a_retry_after_seconds_becomes_a_delayed_dramatiq_retry() -> None:
    with pytest.raises(dramatiq.Retry) as retry, retry_when_asked():
        raise RetryLater("flood control: retry in 2.0 s", seconds=2.0)
    assert retry.value.delay == 2000 + RETRY_MARGIN_MS
    assert isinstance(retry.value.__cause__, RetryLater)


def test_a_fraction_of_a_second_is_rounded_up_not_down() -> None:
    with pytest.raises(dramatiq.Retry) as retry, retry_when_asked():
        raise RetryLater(seconds=0.0004)
    assert retry.value.delay == 1 + RETRY_MARGIN_MS


def test_without_a_delay_the_error_reaches_dramatiq_for_its_backoff() -> None:
    with pytest.raises(RetryLater), retry_when_asked():
        raise RetryLater("try again")


def test_other_errors_pass_through() -> None:
    with pytest.raises(ConnectionError), retry_when_asked():
        raise ConnectionError("reset")
