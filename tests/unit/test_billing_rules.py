"""Billing rules without I/O: rounding to the quantum, minutes, packages."""

from __future__ import annotations

import pytest

from billing.pricing import PACKAGES, find_package, minutes_to_seconds, round_up


@pytest.mark.parametrize(
    ("seconds", "quantum", "charged"),
    [
        (0, 1, 0),
        (0.2, 1, 1),
        (1.0, 1, 1),
        (1.0000001, 1, 1),
        (1.5, 1, 2),
        (59.1, 60, 60),
        (60, 60, 60),
        (61, 60, 120),
        (14.99, 15, 15),
        (-3, 1, 0),
    ],
)
def test_charged_seconds_round_up_to_the_quantum(seconds: float, quantum: int, charged: int) -> None:
    assert round_up(seconds, quantum) == charged


def test_quantum_must_be_positive() -> None:
    with pytest.raises(ValueError):
        round_up(10, 0)


def test_minutes_become_whole_seconds() -> None:
    assert minutes_to_seconds(2.5) == 150
    assert minutes_to_seconds(0.01) == 1


def test_packages_are_unique_and_priced() -> None:
    assert len({p.id for p in PACKAGES}) == len(PACKAGES)
    assert all(p.stars > 0 and p.seconds == p.minutes * 60 for p in PACKAGES)
    assert find_package(PACKAGES[0].id) is PACKAGES[0]
    assert find_package("nope") is None
