"""Pure time policies: check-in window, late cancellation, no-show grace, booking window.

Every function takes ``now`` explicitly and only aware datetimes. Both instants are compared in
UTC: arithmetic between two datetimes sharing one ``ZoneInfo`` is wall-clock arithmetic in
Python, which would be an hour off across a DST transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.errors import ValidationError


class NaiveDatetimeError(ValidationError):
    """A datetime without a UTC offset was given where an instant is required."""


class PolicySettingsError(ValidationError):
    """A policy was configured with values that make no sense (e.g. a negative duration)."""


class BookingWindowError(ValidationError):
    """The appointment starts too soon or too far ahead to be booked now."""


@dataclass(frozen=True, slots=True)
class CheckInWindow:
    """Check-in is open from ``before`` the start until ``after`` it, both bounds included."""

    before: timedelta = timedelta(minutes=30)
    after: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        _require_not_negative(before=self.before, after=self.after)

    def opens_at(self, start: datetime) -> datetime:
        return _utc("start", start) - self.before

    def closes_at(self, start: datetime) -> datetime:
        return _utc("start", start) + self.after


@dataclass(frozen=True, slots=True)
class CancellationPolicy:
    """Cancelling with less than ``notice`` before the start is a late cancellation."""

    notice: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        _require_not_negative(notice=self.notice)


@dataclass(frozen=True, slots=True)
class NoShowPolicy:
    """A patient may be marked no-show only once ``grace`` has passed after the start."""

    grace: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        _require_not_negative(grace=self.grace)


@dataclass(frozen=True, slots=True)
class BookingWindow:
    """Bookable starts lie between ``minimum_notice`` and ``horizon`` from now, both included."""

    minimum_notice: timedelta = timedelta(hours=0)
    horizon: timedelta = timedelta(days=180)

    def __post_init__(self) -> None:
        _require_not_negative(minimum_notice=self.minimum_notice, horizon=self.horizon)
        if self.horizon < self.minimum_notice:
            raise PolicySettingsError(
                f"booking horizon {self.horizon} is shorter than the minimum notice "
                f"{self.minimum_notice}"
            )


def check_in_allowed(start: datetime, now: datetime, window: CheckInWindow) -> bool:
    """Whether a patient may check in at ``now`` for an appointment starting at ``start``."""
    return window.opens_at(start) <= _utc("now", now) <= window.closes_at(start)


def is_late_cancellation(start: datetime, now: datetime, policy: CancellationPolicy) -> bool:
    """Whether cancelling at ``now`` is late: less than the notice before start, or after it."""
    # notice is never negative, so a start already in the past always counts as late.
    return _utc("start", start) - _utc("now", now) < policy.notice


def no_show_allowed(start: datetime, now: datetime, policy: NoShowPolicy) -> bool:
    """Whether the appointment may be marked no-show at ``now`` (from start + grace on)."""
    return _utc("now", now) >= _utc("start", start) + policy.grace


def booking_allowed(start: datetime, now: datetime, window: BookingWindow) -> bool:
    """Whether an appointment starting at ``start`` may be booked at ``now``."""
    lead = _utc("start", start) - _utc("now", now)
    return window.minimum_notice <= lead <= window.horizon


def check_booking_window(start: datetime, now: datetime, window: BookingWindow) -> None:
    """Raise ``BookingWindowError`` saying why ``start`` cannot be booked at ``now``, if so."""
    lead = _utc("start", start) - _utc("now", now)
    if lead < window.minimum_notice:
        if lead < timedelta(0):
            raise BookingWindowError("too soon: the appointment has already started")
        raise BookingWindowError(
            f"too soon: bookings need at least {_describe(window.minimum_notice)} notice"
        )
    if lead > window.horizon:
        raise BookingWindowError(
            f"too far ahead: bookings open at most {_describe(window.horizon)} in advance"
        )


def _utc(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(f"{name} must be an aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


def _require_not_negative(**durations: timedelta) -> None:
    for name, duration in durations.items():
        if duration < timedelta(0):
            raise PolicySettingsError(f"{name} must not be negative, got {duration}")


def _describe(duration: timedelta) -> str:
    minutes = duration // timedelta(minutes=1)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    words = [f"{count} {unit}{'s' if count != 1 else ''}" for count, unit in parts if count]
    return " ".join(words) or "0 minutes"
