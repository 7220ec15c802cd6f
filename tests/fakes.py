"""Fakes of our own ports (commands/ports.py). The one place tests get them from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FixedClock:
    """A `commands.ports.Clock` that stands still until a test sets or advances it."""

    def __init__(self, at: datetime) -> None:
        self._now = self._aware(at)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        self._now = self._aware(at)

    def advance(self, by: timedelta | None = None, **units: float) -> datetime:
        """Move forward by `by` or by `timedelta(**units)`; returns the new instant."""
        step = by if by is not None else timedelta(**units)
        self._now += step
        return self._now

    @staticmethod
    def _aware(at: datetime) -> datetime:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"a clock tells aware instants only, got naive {at!r}")
        return at.astimezone(UTC)
