"""Quiet hours defer, never drop: same-day windows, windows across midnight, DST days, and a
deferral that would pass the appointment's start."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.errors import ValidationError
from domain.notification import QuietHours, send_time

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NIGHT = QuietHours.parse("22:00", "07:00")
LUNCH = QuietHours.parse("12:00", "14:00")


def local(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone).astimezone(UTC)  # type: ignore[arg-type,misc]


def test_a_message_outside_the_window_leaves_when_due() -> None:
    due = local(BERLIN, 2026, 11, 24, 9, 0)
    assert send_time(due, due, NIGHT, BERLIN) == due


def test_a_same_day_window_defers_to_its_end() -> None:
    due = local(BERLIN, 2026, 11, 24, 12, 30)
    assert send_time(due, due, LUNCH, BERLIN) == local(BERLIN, 2026, 11, 24, 14, 0)


def test_the_end_of_a_same_day_window_is_outside_it() -> None:
    assert not LUNCH.contains(time(14, 0))
    assert LUNCH.contains(time(12, 0))
    assert LUNCH.contains(time(13, 59))


@pytest.mark.parametrize(
    ("hour", "expected_day"),
    [(23, 25), (3, 24)],  # before midnight: ends the next morning; after: this morning
)
def test_a_window_across_midnight_defers_to_the_next_morning(hour: int, expected_day: int) -> None:
    due = local(BERLIN, 2026, 11, 24, hour, 15)
    assert send_time(due, due, NIGHT, BERLIN) == local(BERLIN, 2026, 11, expected_day, 7, 0)


def test_deferral_that_would_pass_the_start_moves_before_the_window() -> None:
    # Given a 07:00 appointment: its 2 h reminder is due at 05:00, inside 22:00-07:00
    start = local(BERLIN, 2026, 11, 25, 7, 0)
    due = local(BERLIN, 2026, 11, 25, 5, 0)
    planned_at = local(BERLIN, 2026, 11, 24, 10, 0)
    # Then it leaves just before the window starts the evening before, not after the start
    assert send_time(due, planned_at, NIGHT, BERLIN, deadline=start) == local(
        BERLIN, 2026, 11, 24, 21, 59
    )


def test_deferral_to_the_window_end_when_it_is_still_before_the_start() -> None:
    start = local(BERLIN, 2026, 11, 25, 7, 30)
    due = local(BERLIN, 2026, 11, 25, 5, 30)
    planned_at = local(BERLIN, 2026, 11, 24, 10, 0)
    assert send_time(due, planned_at, NIGHT, BERLIN, deadline=start) == local(
        BERLIN, 2026, 11, 25, 7, 0
    )


def test_no_time_left_when_the_window_already_began() -> None:
    start = local(BERLIN, 2026, 11, 25, 6, 30)
    due = local(BERLIN, 2026, 11, 25, 4, 30)
    planned_at = local(BERLIN, 2026, 11, 24, 23, 0)  # inside the window already
    assert send_time(due, planned_at, NIGHT, BERLIN, deadline=start) is None


def test_a_reminder_never_leaves_after_its_start() -> None:
    start = local(BERLIN, 2026, 11, 25, 9, 0)
    assert send_time(start, start, None, BERLIN, deadline=start) is None


def test_the_window_end_on_a_spring_forward_night_is_the_local_end() -> None:
    # 2026-03-29: Berlin skips 02:00-03:00; 22:00 (UTC+1) to 07:00 (UTC+2) is 8 hours
    due = local(BERLIN, 2026, 3, 29, 1, 30)
    deferred = send_time(due, due, NIGHT, BERLIN)
    assert deferred == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    assert deferred is not None
    assert deferred.astimezone(BERLIN).hour == 7


def test_the_window_end_on_a_fall_back_night_is_the_local_end() -> None:
    # 2026-11-01: New York repeats 01:00-02:00; the window's end is 07:00 EST = 12:00 UTC
    due = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, the first of the two
    assert send_time(due, due, NIGHT, NEW_YORK) == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_a_window_starting_in_the_skipped_hour_starts_when_the_clock_jumps() -> None:
    quiet = QuietHours.parse("02:30", "06:00")
    due = datetime(2026, 3, 29, 1, 45, tzinfo=UTC)  # 03:45 CEST, inside
    start = datetime(2026, 3, 29, 4, 30, tzinfo=UTC)  # 06:30 CEST
    window = quiet.window(due, BERLIN)
    assert window is not None
    # Then the deferral lands at 06:00 local, before the start
    assert send_time(due, due, quiet, BERLIN, deadline=start) == datetime(
        2026, 3, 29, 4, 0, tzinfo=UTC
    )


def test_minute_precision() -> None:
    due = local(BERLIN, 2026, 11, 24, 13, 59).replace(second=59)
    assert send_time(due, due, LUNCH, BERLIN) == local(BERLIN, 2026, 11, 24, 14, 0)


@pytest.mark.parametrize(
    ("start", "end"), [("7:00", "08:00"), ("24:00", "08:00"), ("08:00", "08:00")]
)
def test_bad_quiet_hours_are_refused(start: str, end: str) -> None:
    with pytest.raises(ValidationError):
        QuietHours.parse(start, end)
