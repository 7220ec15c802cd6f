from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

import pytest

from domain.errors import ValidationError
from domain.schedule import (
    GenerationRequest,
    ScheduleError,
    Session,
    WeeklyHours,
    generate_slot_times,
)

pytestmark = pytest.mark.unit

EVERY_DAY = range(1, 8)


def one_day(
    zone: str, day: date, *sessions: Session, excluded: frozenset[date] = frozenset()
) -> GenerationRequest:
    return GenerationRequest(
        zone=zone,
        first_day=day,
        last_day=day,
        weekly=WeeklyHours({day.isoweekday(): sessions}),
        excluded_dates=excluded,
    )


def starts(request: GenerationRequest) -> list[datetime]:
    return [start for start, _ in generate_slot_times(request)]


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


NIGHT = Session(time(0), time(4), slot_minutes=30)
EARLY = Session(time(1), time(4), slot_minutes=30)


# --- golden DST days -----------------------------------------------------------------------


def test_new_york_spring_forward_skips_slots_touching_the_missing_hour() -> None:
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT. 01:30-02:00 ends on a wall time that does not
    # exist, 02:00 and 02:30 start in the gap.
    assert starts(one_day("America/New_York", date(2026, 3, 8), NIGHT)) == [
        utc(2026, 3, 8, 5, 0),
        utc(2026, 3, 8, 5, 30),
        utc(2026, 3, 8, 6, 0),
        utc(2026, 3, 8, 7, 0),
        utc(2026, 3, 8, 7, 30),
    ]


def test_new_york_fall_back_uses_the_first_occurrence_and_skips_the_straddling_slot() -> None:
    # 2026-11-01: 02:00 EDT falls back to 01:00 EST. 01:00-01:30 is taken in EDT; 01:30-02:00
    # would last 90 real minutes, so it is skipped.
    assert starts(one_day("America/New_York", date(2026, 11, 1), NIGHT)) == [
        utc(2026, 11, 1, 4, 0),
        utc(2026, 11, 1, 4, 30),
        utc(2026, 11, 1, 5, 0),
        utc(2026, 11, 1, 7, 0),
        utc(2026, 11, 1, 7, 30),
        utc(2026, 11, 1, 8, 0),
        utc(2026, 11, 1, 8, 30),
    ]


def test_berlin_spring_forward_skips_slots_touching_the_missing_hour() -> None:
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST.
    assert starts(one_day("Europe/Berlin", date(2026, 3, 29), EARLY)) == [
        utc(2026, 3, 29, 0, 0),
        utc(2026, 3, 29, 1, 0),
        utc(2026, 3, 29, 1, 30),
    ]


def test_berlin_fall_back_uses_the_first_occurrence_and_skips_the_straddling_slot() -> None:
    # 2026-10-25: 03:00 CEST falls back to 02:00 CET; local midnight is the previous UTC day.
    assert starts(one_day("Europe/Berlin", date(2026, 10, 25), NIGHT)) == [
        utc(2026, 10, 24, 22, 0),
        utc(2026, 10, 24, 22, 30),
        utc(2026, 10, 24, 23, 0),
        utc(2026, 10, 24, 23, 30),
        utc(2026, 10, 25, 0, 0),
        utc(2026, 10, 25, 2, 0),
        utc(2026, 10, 25, 2, 30),
    ]


def test_sydney_fall_back_in_april_follows_the_same_rules() -> None:
    # 2026-04-05: 03:00 AEDT falls back to 02:00 AEST.
    assert starts(one_day("Australia/Sydney", date(2026, 4, 5), EARLY)) == [
        utc(2026, 4, 4, 14, 0),
        utc(2026, 4, 4, 14, 30),
        utc(2026, 4, 4, 15, 0),
        utc(2026, 4, 4, 17, 0),
        utc(2026, 4, 4, 17, 30),
    ]


def test_sydney_normal_day_lays_out_slots_with_buffers_in_local_time() -> None:
    morning = Session(time(9), time(12), slot_minutes=20, buffer_minutes=5)
    # AEST is UTC+10 in June, so 09:00 local is 23:00 UTC the day before.
    assert generate_slot_times(one_day("Australia/Sydney", date(2026, 6, 15), morning)) == [
        (utc(2026, 6, 14, 23, 0), utc(2026, 6, 14, 23, 20)),
        (utc(2026, 6, 14, 23, 25), utc(2026, 6, 14, 23, 45)),
        (utc(2026, 6, 14, 23, 50), utc(2026, 6, 15, 0, 10)),
        (utc(2026, 6, 15, 0, 15), utc(2026, 6, 15, 0, 35)),
        (utc(2026, 6, 15, 0, 40), utc(2026, 6, 15, 1, 0)),
        (utc(2026, 6, 15, 1, 5), utc(2026, 6, 15, 1, 25)),
        (utc(2026, 6, 15, 1, 30), utc(2026, 6, 15, 1, 50)),
    ]


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Australia/Sydney"])
def test_every_slot_of_a_year_lasts_its_length_and_none_overlap(zone: str) -> None:
    sessions = [Session(time(0), time(23, 59), slot_minutes=50, buffer_minutes=5)]
    request = GenerationRequest(
        zone, date(2026, 1, 1), date(2026, 12, 31), WeeklyHours(dict.fromkeys(EVERY_DAY, sessions))
    )
    slots = generate_slot_times(request)
    assert all(end - start == timedelta(minutes=50) for start, end in slots)
    assert all(earlier[1] <= later[0] for earlier, later in pairwise(slots))
    assert all(start.tzinfo is UTC and end.tzinfo is UTC for start, end in slots)


# --- layout ---------------------------------------------------------------------------------


def test_last_slot_never_overruns_the_session() -> None:
    session = Session(time(9), time(10), slot_minutes=25)
    assert generate_slot_times(one_day("UTC", date(2026, 5, 4), session)) == [
        (utc(2026, 5, 4, 9, 0), utc(2026, 5, 4, 9, 25)),
        (utc(2026, 5, 4, 9, 25), utc(2026, 5, 4, 9, 50)),
    ]


def test_last_slot_may_end_exactly_at_the_session_end() -> None:
    session = Session(time(9), time(10), slot_minutes=20, buffer_minutes=10)
    assert generate_slot_times(one_day("UTC", date(2026, 5, 4), session)) == [
        (utc(2026, 5, 4, 9, 0), utc(2026, 5, 4, 9, 20)),
        (utc(2026, 5, 4, 9, 30), utc(2026, 5, 4, 9, 50)),
    ]


def test_buffer_separates_consecutive_slots() -> None:
    session = Session(time(14), time(15), slot_minutes=15, buffer_minutes=5)
    assert starts(one_day("UTC", date(2026, 5, 4), session)) == [
        utc(2026, 5, 4, 14, 0),
        utc(2026, 5, 4, 14, 20),
        utc(2026, 5, 4, 14, 40),
    ]


def test_sessions_of_a_day_are_merged_in_start_order() -> None:
    afternoon = Session(time(13), time(14), slot_minutes=30)
    morning = Session(time(9), time(10), slot_minutes=30)
    assert starts(one_day("UTC", date(2026, 5, 4), afternoon, morning)) == [
        utc(2026, 5, 4, 9, 0),
        utc(2026, 5, 4, 9, 30),
        utc(2026, 5, 4, 13, 0),
        utc(2026, 5, 4, 13, 30),
    ]


def test_excluded_dates_and_days_without_hours_get_no_slots() -> None:
    hour = [Session(time(9), time(10), slot_minutes=60)]
    request = GenerationRequest(
        zone="Europe/Berlin",
        first_day=date(2026, 5, 4),  # Monday
        last_day=date(2026, 5, 10),
        weekly=WeeklyHours({1: hour, 2: hour, 3: hour, 6: hour}),
        excluded_dates=frozenset({date(2026, 5, 5)}),
    )
    # Monday, Wednesday and Saturday remain; Berlin is UTC+2 in May.
    assert starts(request) == [
        utc(2026, 5, 4, 7, 0),
        utc(2026, 5, 6, 7, 0),
        utc(2026, 5, 9, 7, 0),
    ]


def test_generation_is_idempotent_and_split_ranges_add_up_to_the_whole() -> None:
    weekly = WeeklyHours({d: [Session(time(8), time(17), 45, 15)] for d in EVERY_DAY})
    whole = GenerationRequest("America/New_York", date(2026, 3, 1), date(2026, 3, 14), weekly)
    first = GenerationRequest("America/New_York", date(2026, 3, 1), date(2026, 3, 7), weekly)
    second = GenerationRequest("America/New_York", date(2026, 3, 8), date(2026, 3, 14), weekly)
    assert generate_slot_times(whole) == generate_slot_times(whole)
    assert generate_slot_times(whole) == generate_slot_times(first) + generate_slot_times(second)


def test_changing_the_callers_mapping_afterwards_does_not_change_the_hours() -> None:
    given: dict[int, list[Session]] = {1: [Session(time(9), time(10), 60)]}
    weekly = WeeklyHours(given)
    given[1].append(Session(time(9, 30), time(11), 60))
    given[2] = [Session(time(9), time(10), 60)]
    assert weekly.on(1) == (Session(time(9), time(10), 60),)
    assert weekly.on(2) == ()


# --- validation -----------------------------------------------------------------------------


def test_schedule_errors_are_validation_errors() -> None:
    assert issubclass(ScheduleError, ValidationError)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "America", "../etc/passwd", "EST5"])
def test_unknown_zone_is_rejected(zone: str) -> None:
    with pytest.raises(ScheduleError, match="unknown time zone"):
        one_day(zone, date(2026, 5, 4), NIGHT)


def test_first_day_after_last_day_is_rejected() -> None:
    with pytest.raises(ScheduleError, match="is after last day"):
        GenerationRequest("UTC", date(2026, 5, 5), date(2026, 5, 4), WeeklyHours({}))


def test_range_longer_than_366_days_is_rejected_but_366_is_accepted() -> None:
    GenerationRequest("UTC", date(2028, 1, 1), date(2028, 12, 31), WeeklyHours({}))
    with pytest.raises(ScheduleError, match="367 days"):
        GenerationRequest("UTC", date(2028, 1, 1), date(2029, 1, 1), WeeklyHours({}))


@pytest.mark.parametrize("minutes", [0, -15])
def test_slot_length_must_be_positive(minutes: int) -> None:
    with pytest.raises(ScheduleError, match="slot length must be positive"):
        Session(time(9), time(10), slot_minutes=minutes)


def test_negative_buffer_is_rejected() -> None:
    with pytest.raises(ScheduleError, match="buffer must not be negative"):
        Session(time(9), time(10), slot_minutes=15, buffer_minutes=-1)


@pytest.mark.parametrize(("start", "end"), [(time(10), time(10)), (time(11), time(10))])
def test_session_must_start_before_it_ends(start: time, end: time) -> None:
    with pytest.raises(ScheduleError, match="must be before its end"):
        Session(start, end, slot_minutes=15)


def test_session_shorter_than_one_slot_is_rejected() -> None:
    with pytest.raises(ScheduleError, match="shorter than one 30 min slot"):
        Session(time(9), time(9, 20), slot_minutes=30)


def test_session_times_carrying_a_zone_are_rejected() -> None:
    with pytest.raises(ScheduleError, match="wall-clock times"):
        Session(time(9, tzinfo=UTC), time(10), slot_minutes=30)


def test_overlapping_sessions_on_one_weekday_are_rejected() -> None:
    with pytest.raises(ScheduleError, match="sessions overlap on weekday 3"):
        WeeklyHours({3: [Session(time(13), time(17), 30), Session(time(9), time(13, 30), 30)]})


def test_touching_sessions_are_accepted() -> None:
    weekly = WeeklyHours({3: [Session(time(9), time(12), 30), Session(time(12), time(13), 30)]})
    assert len(weekly.on(3)) == 2


@pytest.mark.parametrize("weekday", [0, 8])
def test_weekday_outside_iso_range_is_rejected(weekday: int) -> None:
    with pytest.raises(ScheduleError, match="ISO weekday"):
        WeeklyHours({weekday: [Session(time(9), time(10), 30)]})
