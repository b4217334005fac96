"""How seconds become charges, and the minute packages sold for Telegram Stars."""

from __future__ import annotations

import math
from dataclasses import dataclass


def round_up(seconds: float, quantum: int) -> int:
    """Charged seconds: ``seconds`` rounded up to a whole number of ``quantum``-second steps."""
    if quantum < 1:
        raise ValueError("the billing quantum is at least one second")
    if seconds <= 0:
        return 0
    # Float noise (3.0000000001 s) must not cost a whole extra quantum.
    steps = math.ceil(round(seconds / quantum, 6))
    return steps * quantum


def minutes_to_seconds(minutes: float) -> int:
    """Whole seconds for a (possibly fractional) number of minutes."""
    return round(minutes * 60)


@dataclass(frozen=True)
class Package:
    """Minutes sold as one purchase."""

    id: str
    minutes: int
    stars: int  # price in Telegram Stars (currency XTR)

    @property
    def seconds(self) -> int:
        return self.minutes * 60


PACKAGES: tuple[Package, ...] = (
    Package("m60", 60, 50),
    Package("m300", 300, 200),
    Package("m1200", 1200, 700),
)


def find_package(package_id: str) -> Package | None:
    return next((p for p in PACKAGES if p.id == package_id), None)
