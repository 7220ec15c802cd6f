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


class BrokenClock:
    """A clock whose failure stands in for any unexpected internal error."""

    def now(self) -> datetime:
        raise RuntimeError("secret internal detail: connection string postgres://user:pw@db")


class StillQueries:
    """A `projections.queries.SchedulingQueries` whose read model never moves and holds nothing."""

    def __init__(self, position: int = 0) -> None:
        self._position = position

    def wait_for(self, position: int, timeout: float) -> bool:
        return self._position >= position

    def position(self) -> int:
        return self._position

    def appointment(self, appointment_id: object) -> None:
        return None

    def appointments(self, wanted: object, now: datetime) -> object:
        from projections.queries import Page

        return Page(items=[], limit=50, offset=0, next_offset=None)

    def available_slots(self, wanted: object, now: datetime) -> object:
        from projections.queries import Page

        return Page(items=[], limit=50, offset=0, next_offset=None)

    def schedule(self, provider_id: object, first: object, last: object, now: datetime) -> None:
        return None

    def no_shows(self, start_from: datetime, start_to: datetime) -> list[object]:
        return []

    def expired_holds(self, now: datetime, limit: int) -> list[object]:
        return []
