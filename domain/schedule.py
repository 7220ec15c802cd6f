"""Bulk slot generation from weekly working hours, in the provider's IANA time zone.

Slots are laid out in the zone's local wall-clock time, one day at a time: each session starts
a cursor at its start time, emits a slot of ``slot_minutes``, then advances by the slot plus
``buffer_minutes``. Every wall time is then turned into an aware UTC instant. The rules:

* A slot whose wall end would pass the session end is not generated (no overrun).
* Excluded dates produce no slots; a weekday absent from the weekly hours produces none either.
* Spring forward: a slot is skipped when its wall start or its wall end does not exist on that
  day (it falls in the gap, e.g. 02:00-02:59 in America/New_York on 2026-03-08). A wall time
  exists when it survives a round trip through UTC unchanged. A slot ending exactly where the
  gap begins is skipped too, because that wall end (02:00) does not exist.
* Fall back: an ambiguous wall time (01:30 in America/New_York on 2026-11-01 happens twice)
  means its first occurrence (``fold=0``). A slot whose real UTC duration differs from
  ``slot_minutes`` straddles the transition and is skipped. So every slot lasts exactly
  ``slot_minutes`` in real time, and no two slots overlap in UTC.
* Output is sorted by UTC start and is a pure function of the request: running it twice over
  the same range gives equal lists, so callers can derive idempotent slot identities from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo

from domain.errors import ValidationError
from domain.limits import MAX_GENERATION_DAYS, MAX_SLOT_LENGTH, check_day
from domain.zone import zone_info


class ScheduleError(ValidationError):
    """Working hours or a generation request are not valid."""


@dataclass(frozen=True, slots=True)
class Session:
    """A working session on one weekday, e.g. 09:00-12:00 with 20 min slots and 5 min buffers.

    ``start`` and ``end`` are naive wall-clock times in the zone of the generation request.
    """

    start: time
    end: time
    slot_minutes: int
    buffer_minutes: int = 0

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ScheduleError("session times are wall-clock times and must not carry a zone")
        if self.slot_minutes <= 0:
            raise ScheduleError(f"slot length must be positive, got {self.slot_minutes} min")
        if self.buffer_minutes < 0:
            raise ScheduleError(f"buffer must not be negative, got {self.buffer_minutes} min")
        longest = int(MAX_SLOT_LENGTH.total_seconds()) // 60
        if self.slot_minutes > longest or self.buffer_minutes > longest:
            raise ScheduleError(f"slot length and buffer must be at most {longest} min")
        if self.start >= self.end:
            raise ScheduleError(
                f"session start {self.start.isoformat()} must be before its end "
                f"{self.end.isoformat()}"
            )
        if _on(date.min, self.end) - _on(date.min, self.start) < self.slot:
            raise ScheduleError(
                f"session {self.start.isoformat()}-{self.end.isoformat()} is shorter than "
                f"one {self.slot_minutes} min slot"
            )

    @property
    def slot(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)

    @property
    def step(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes + self.buffer_minutes)


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Sessions per ISO weekday (1 = Monday .. 7 = Sunday); sessions of a day must not overlap."""

    sessions: Mapping[int, Sequence[Session]]

    def __post_init__(self) -> None:
        normalised: dict[int, tuple[Session, ...]] = {}
        for weekday in sorted(self.sessions):
            if weekday not in range(1, 8):
                raise ScheduleError(f"weekday must be an ISO weekday 1-7, got {weekday}")
            day = tuple(sorted(self.sessions[weekday], key=lambda s: (s.start, s.end)))
            for earlier, later in pairwise(day):
                if later.start < earlier.end:
                    raise ScheduleError(
                        f"sessions overlap on weekday {weekday}: "
                        f"{earlier.start.isoformat()}-{earlier.end.isoformat()} and "
                        f"{later.start.isoformat()}-{later.end.isoformat()}"
                    )
            normalised[weekday] = day
        # A read-only copy: validation must not be bypassed by mutating the caller's dict later.
        object.__setattr__(self, "sessions", MappingProxyType(normalised))

    def on(self, weekday: int) -> Sequence[Session]:
        return self.sessions.get(weekday, ())


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """Generate slots from ``first_day`` to ``last_day`` (inclusive) in the IANA ``zone``."""

    zone: str
    first_day: date
    last_day: date
    weekly: WeeklyHours
    excluded_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        _zone(self.zone)
        try:
            check_day("first_day", self.first_day)
            check_day("last_day", self.last_day)
        except ValidationError as error:
            raise ScheduleError(str(error)) from None
        if self.first_day > self.last_day:
            raise ScheduleError(
                f"first day {self.first_day.isoformat()} is after last day "
                f"{self.last_day.isoformat()}"
            )
        days = (self.last_day - self.first_day).days + 1
        if days > MAX_GENERATION_DAYS:
            raise ScheduleError(
                f"date range covers {days} days; at most {MAX_GENERATION_DAYS} are allowed"
            )

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.zone)


def generate_slot_times(request: GenerationRequest) -> list[tuple[datetime, datetime]]:
    """Return the (start, end) pairs, aware in UTC and sorted by start, that the request yields.

    See the module docstring for the overrun, buffer, exclusion and DST rules.
    """
    tz = request.tz
    slots: list[tuple[datetime, datetime]] = []
    for day in _days(request.first_day, request.last_day):
        if day in request.excluded_dates:
            continue
        for session in request.weekly.on(day.isoweekday()):
            for wall_start, wall_end in _wall_slots(day, session):
                start = wall_to_utc(wall_start, tz)
                end = wall_to_utc(wall_end, tz)
                if start is None or end is None:
                    continue
                if end - start != session.slot:
                    continue
                slots.append((start, end))
    slots.sort()
    return slots


def _wall_slots(day: date, session: Session) -> Iterator[tuple[datetime, datetime]]:
    # Naive datetimes on purpose: arithmetic on them is pure wall-clock arithmetic.
    cursor = _on(day, session.start)
    session_end = _on(day, session.end)
    while cursor + session.slot <= session_end:
        yield cursor, cursor + session.slot
        cursor += session.step


def wall_to_utc(wall: datetime, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of the naive wall time `wall` in `tz` under the rules above: an
    ambiguous wall time is its first occurrence, a nonexistent one (in a gap) is None. Slot
    generation and recurring series (domain/recurrence.py) share it."""
    # Ambiguous wall times resolve to their first occurrence (fold=0).
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    # zoneinfo maps a wall time in the gap to a shifted one; only a real one round-trips.
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return instant


def _days(first: date, last: date) -> Iterator[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def _on(day: date, at: time) -> datetime:
    return datetime.combine(day, at)


def _zone(key: str) -> ZoneInfo:
    try:
        return zone_info(key, "zone")
    except ValidationError as error:
        raise ScheduleError(f"unknown time zone {key!r}") from error
