"""A half-open interval [start, end) of aware instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.errors import ValidationError
from domain.limits import MAX_DAY_BUCKETS, check_instant


def require_aware(value: datetime, name: str) -> datetime:
    """Return `value` in UTC, refusing naive datetimes and instants outside the supported range
    (domain/limits.py), so no arithmetic on a range can overflow."""
    return check_instant(name, value)


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", require_aware(self.start, "start"))
        object.__setattr__(self, "end", require_aware(self.end, "end"))
        if self.end <= self.start:
            msg = "end must be after start"
            raise ValidationError(msg)

    def overlaps(self, other: TimeRange) -> bool:
        # Half-open: a slot ending at 10:00 does not overlap one starting at 10:00.
        return self.start < other.end and other.start < self.end

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def utc_days(self) -> list[date]:
        """Every UTC calendar day this range touches; day-bucketed aggregates use it, since
        two overlapping ranges always share at least one of these days. Refused beyond
        MAX_DAY_BUCKETS days, so no command can fan out over an unbounded number of them."""
        first = self.start.date()
        last = (self.end - timedelta(microseconds=1)).date()
        if (last - first).days + 1 > MAX_DAY_BUCKETS:
            msg = (
                f"end is too far from start: a time range may touch at most {MAX_DAY_BUCKETS} days"
            )
            raise ValidationError(msg)
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]
