from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from domain.errors import ValidationError
from domain.policies import (
    BookingWindow,
    BookingWindowError,
    CancellationPolicy,
    CheckInWindow,
    NaiveDatetimeError,
    NoShowPolicy,
    PolicySettingsError,
    booking_allowed,
    check_booking_window,
    check_in_allowed,
    is_late_cancellation,
    no_show_allowed,
)

pytestmark = pytest.mark.unit

START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


# --- check-in -------------------------------------------------------------------------------


def test_check_in_opens_exactly_30_minutes_before_start() -> None:
    window = CheckInWindow()
    assert check_in_allowed(START, START - timedelta(minutes=30), window)
    assert not check_in_allowed(START, START - timedelta(minutes=30) - TICK, window)


def test_check_in_closes_exactly_15_minutes_after_start() -> None:
    window = CheckInWindow()
    assert check_in_allowed(START, START + timedelta(minutes=15), window)
    assert not check_in_allowed(START, START + timedelta(minutes=15) + TICK, window)


def test_check_in_window_is_configurable_and_reports_its_bounds() -> None:
    window = CheckInWindow(before=timedelta(hours=1), after=timedelta(0))
    assert window.opens_at(START) == START - timedelta(hours=1)
    assert window.closes_at(START) == START
    assert check_in_allowed(START, START, window)
    assert not check_in_allowed(START, START + TICK, window)


def test_check_in_compares_instants_not_wall_clocks_across_spring_forward() -> None:
    # 01:40 EST is 20 real minutes before 03:00 EDT, although the wall clocks are 80 apart.
    start = datetime(2026, 3, 8, 3, 0, tzinfo=NEW_YORK)
    now = datetime(2026, 3, 8, 1, 40, tzinfo=NEW_YORK)
    assert check_in_allowed(start, now, CheckInWindow())


def test_check_in_accepts_now_in_another_zone() -> None:
    now = (START - timedelta(minutes=30)).astimezone(timezone(timedelta(hours=-7)))
    assert check_in_allowed(START, now, CheckInWindow())


# --- cancellation ---------------------------------------------------------------------------


def test_cancelling_exactly_24_hours_ahead_is_not_late() -> None:
    assert not is_late_cancellation(START, START - timedelta(hours=24), CancellationPolicy())


def test_cancelling_just_under_24_hours_ahead_is_late() -> None:
    assert is_late_cancellation(START, START - timedelta(hours=24) + TICK, CancellationPolicy())


def test_cancelling_after_start_is_late_even_without_a_notice_period() -> None:
    policy = CancellationPolicy(notice=timedelta(0))
    assert not is_late_cancellation(START, START, policy)
    assert is_late_cancellation(START, START + TICK, policy)


def test_cancellation_notice_counts_real_hours_across_fall_back() -> None:
    # The wall clocks are 23h30 apart but 24h30 of real time pass over the Berlin fall-back.
    start = datetime(2026, 10, 25, 12, 0, tzinfo=BERLIN)
    now = datetime(2026, 10, 24, 12, 30, tzinfo=BERLIN)
    assert not is_late_cancellation(start, now, CancellationPolicy())


# --- no-show --------------------------------------------------------------------------------


def test_no_show_is_allowed_from_exactly_start_plus_grace() -> None:
    policy = NoShowPolicy()
    assert no_show_allowed(START, START + timedelta(minutes=15), policy)
    assert not no_show_allowed(START, START + timedelta(minutes=15) - TICK, policy)


def test_no_show_is_never_allowed_before_start() -> None:
    assert not no_show_allowed(START, START - TICK, NoShowPolicy(grace=timedelta(0)))
    assert no_show_allowed(START, START, NoShowPolicy(grace=timedelta(0)))


# --- booking window -------------------------------------------------------------------------


def test_booking_exactly_at_the_horizon_is_allowed_and_beyond_it_is_not() -> None:
    window = BookingWindow()
    now = START - timedelta(days=180)
    assert booking_allowed(START, now, window)
    assert not booking_allowed(START, now - TICK, window)


def test_booking_with_exactly_the_minimum_notice_is_allowed_and_less_is_not() -> None:
    window = BookingWindow(minimum_notice=timedelta(hours=2))
    assert booking_allowed(START, START - timedelta(hours=2), window)
    assert not booking_allowed(START, START - timedelta(hours=2) + TICK, window)


def test_booking_a_start_in_the_past_is_not_allowed() -> None:
    assert booking_allowed(START, START, BookingWindow())
    assert not booking_allowed(START, START + TICK, BookingWindow())


def test_check_booking_window_passes_silently_inside_the_window() -> None:
    check_booking_window(START, START - timedelta(days=1), BookingWindow())


def test_check_booking_window_says_too_soon() -> None:
    window = BookingWindow(minimum_notice=timedelta(hours=2))
    with pytest.raises(BookingWindowError, match=r"too soon: .* at least 2 hours notice"):
        check_booking_window(START, START - timedelta(hours=1), window)


def test_check_booking_window_says_too_soon_when_already_started() -> None:
    with pytest.raises(BookingWindowError, match=r"too soon: .* already started"):
        check_booking_window(START, START + TICK, BookingWindow())


def test_check_booking_window_says_too_far_ahead() -> None:
    with pytest.raises(BookingWindowError, match=r"too far ahead: .* 180 days in advance"):
        check_booking_window(START, START - timedelta(days=180) - TICK, BookingWindow())


# --- inputs and settings --------------------------------------------------------------------

CALLS: list[Callable[[datetime, datetime], object]] = [
    lambda start, now: check_in_allowed(start, now, CheckInWindow()),
    lambda start, now: is_late_cancellation(start, now, CancellationPolicy()),
    lambda start, now: no_show_allowed(start, now, NoShowPolicy()),
    lambda start, now: booking_allowed(start, now, BookingWindow()),
    lambda start, now: check_booking_window(start, now, BookingWindow()),
]


@pytest.mark.parametrize("call", CALLS)
def test_naive_datetimes_are_rejected(call: Callable[[datetime, datetime], object]) -> None:
    naive = START.replace(tzinfo=None)
    with pytest.raises(NaiveDatetimeError, match="start must be an aware datetime"):
        call(naive, START)
    with pytest.raises(NaiveDatetimeError, match="now must be an aware datetime"):
        call(START, naive)


@pytest.mark.parametrize(
    "build",
    [
        lambda: CheckInWindow(before=-TICK),
        lambda: CheckInWindow(after=-TICK),
        lambda: CancellationPolicy(notice=-TICK),
        lambda: NoShowPolicy(grace=-TICK),
        lambda: BookingWindow(minimum_notice=-TICK),
        lambda: BookingWindow(horizon=-TICK),
    ],
)
def test_negative_durations_are_rejected(build: Callable[[], object]) -> None:
    with pytest.raises(PolicySettingsError, match="must not be negative"):
        build()


def test_horizon_shorter_than_minimum_notice_is_rejected() -> None:
    with pytest.raises(PolicySettingsError, match="shorter than the minimum notice"):
        BookingWindow(minimum_notice=timedelta(days=2), horizon=timedelta(days=1))


def test_policy_errors_are_validation_errors() -> None:
    for error in (NaiveDatetimeError, PolicySettingsError, BookingWindowError):
        assert issubclass(error, ValidationError)
