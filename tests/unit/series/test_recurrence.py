"""Expanding a series' rule in the provider's zone: 09:00 stays 09:00 across DST, gaps and
folds follow slot generation's rules, and every bad part of a rule is named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.recurrence import MAX_OCCURRENCES, RecurrenceError, expand, parse_rule

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
FAR = datetime(2028, 1, 1, tzinfo=UTC)


def walls(starts: list[datetime], tz: ZoneInfo) -> list[str]:
    return [s.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") for s in starts]


def test_a_weekly_new_york_series_stays_at_nine_across_the_fall_back() -> None:
    # given the first occurrence on Sunday 2026-10-25 09:00 EDT
    first = datetime(2026, 10, 25, 9, tzinfo=NEW_YORK)
    # when a weekly rule is expanded over the 1 November change
    starts = expand(parse_rule("FREQ=WEEKLY;COUNT=3"), first, "America/New_York", horizon=FAR)
    # then the wall time stays 09:00 while the UTC instant moves by an hour
    assert walls(starts, NEW_YORK) == [
        "2026-10-25 09:00 EDT",
        "2026-11-01 09:00 EST",
        "2026-11-08 09:00 EST",
    ]
    assert [s.hour for s in starts] == [13, 14, 14]


def test_a_berlin_series_stays_at_nine_across_the_spring_forward() -> None:
    first = datetime(2027, 3, 22, 9, tzinfo=BERLIN)  # a Monday, CET
    rule = parse_rule("FREQ=WEEKLY;INTERVAL=1;COUNT=3;BYDAY=MO")
    starts = expand(rule, first, "Europe/Berlin", horizon=FAR)
    assert walls(starts, BERLIN) == [
        "2027-03-22 09:00 CET",
        "2027-03-29 09:00 CEST",
        "2027-04-05 09:00 CEST",
    ]
    assert [s.hour for s in starts] == [8, 7, 7]


def test_an_occurrence_in_the_spring_forward_gap_is_skipped_and_not_counted() -> None:
    # 02:30 does not exist in New York on 2026-03-08
    first = datetime(2026, 3, 7, 2, 30, tzinfo=NEW_YORK)
    starts = expand(parse_rule("FREQ=DAILY;COUNT=3"), first, "America/New_York", horizon=FAR)
    assert walls(starts, NEW_YORK) == [
        "2026-03-07 02:30 EST",
        "2026-03-09 02:30 EDT",
        "2026-03-10 02:30 EDT",
    ]


def test_a_repeated_wall_time_is_its_first_occurrence_in_berlin() -> None:
    # 02:30 happens twice in Berlin on 2026-10-25; the series takes the first (CEST)
    first = datetime(2026, 10, 24, 2, 30, tzinfo=BERLIN)
    starts = expand(parse_rule("FREQ=DAILY;COUNT=2"), first, "Europe/Berlin", horizon=FAR)
    assert starts[1] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_until_is_inclusive_and_in_utc() -> None:
    first = datetime(2026, 12, 1, 9, tzinfo=BERLIN)
    rule = parse_rule("FREQ=DAILY;UNTIL=20261203T080000Z")
    assert len(expand(rule, first, "Europe/Berlin", horizon=FAR)) == 3


def test_monthly_rules_by_month_day_and_ordinal_weekday() -> None:
    first = datetime(2027, 1, 5, 10, tzinfo=BERLIN)
    by_day = expand(
        parse_rule("FREQ=MONTHLY;COUNT=3;BYDAY=1TU"), first, "Europe/Berlin", horizon=FAR
    )
    assert [s.astimezone(BERLIN).day for s in by_day] == [5, 2, 2]
    first = datetime(2027, 1, 31, 10, tzinfo=BERLIN)
    last = expand(
        parse_rule("FREQ=MONTHLY;COUNT=3;BYMONTHDAY=-1"), first, "Europe/Berlin", horizon=FAR
    )
    assert [s.astimezone(BERLIN).date().isoformat() for s in last] == [
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
    ]


def test_exdate_removes_an_occurrence_that_count_still_counts() -> None:
    first = datetime(2026, 12, 1, 9, tzinfo=BERLIN)
    second = first + timedelta(days=7)
    rule = parse_rule("FREQ=WEEKLY;COUNT=3")
    starts = expand(rule, first, "Europe/Berlin", horizon=FAR, exdates=(second,))
    assert len(starts) == 2
    assert second.astimezone(UTC) not in starts


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("FREQ=YEARLY;COUNT=2", "FREQ"),
        ("COUNT=2", "FREQ"),
        ("FREQ=DAILY", "COUNT"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20270101T000000Z", "COUNT"),
        ("FREQ=DAILY;COUNT=53", "COUNT"),
        ("FREQ=DAILY;COUNT=0", "COUNT"),
        ("FREQ=DAILY;COUNT=2;INTERVAL=-1", "INTERVAL"),
        ("FREQ=DAILY;UNTIL=20270101", "UNTIL"),
        ("FREQ=DAILY;UNTIL=20270230T000000Z", "UNTIL"),
        ("FREQ=WEEKLY;COUNT=2;BYDAY=XX", "BYDAY"),
        ("FREQ=WEEKLY;COUNT=2;BYDAY=1MO", "BYDAY"),
        ("FREQ=WEEKLY;COUNT=2;BYDAY=MO,MO", "BYDAY"),
        ("FREQ=WEEKLY;COUNT=2;BYMONTHDAY=3", "BYMONTHDAY"),
        ("FREQ=MONTHLY;COUNT=2;BYMONTHDAY=32", "BYMONTHDAY"),
        ("FREQ=DAILY;COUNT=2;BYHOUR=9", "BYHOUR"),
        ("FREQ=DAILY;COUNT=2;COUNT=3", "COUNT"),
        ("FREQ=DAILY;;COUNT=2", "RRULE"),
    ],
)
def test_a_bad_rule_is_refused_naming_its_part(text: str, part: str) -> None:
    with pytest.raises(RecurrenceError) as refused:
        parse_rule(text)
    assert refused.value.part == part
    assert str(refused.value).startswith(f"rrule {part}:")


def test_more_than_52_occurrences_or_past_the_horizon_is_refused() -> None:
    first = datetime(2026, 12, 1, 9, tzinfo=BERLIN)
    with pytest.raises(RecurrenceError, match=str(MAX_OCCURRENCES)):
        expand(parse_rule("FREQ=DAILY;UNTIL=20270601T000000Z"), first, "Europe/Berlin", horizon=FAR)
    horizon = first + timedelta(days=30)
    with pytest.raises(RecurrenceError, match="horizon") as past:
        expand(parse_rule("FREQ=WEEKLY;COUNT=10"), first, "Europe/Berlin", horizon=horizon)
    assert past.value.part == "COUNT"


def test_an_exdate_that_is_no_occurrence_is_refused() -> None:
    first = datetime(2026, 12, 1, 9, tzinfo=BERLIN)
    with pytest.raises(RecurrenceError) as refused:
        expand(
            parse_rule("FREQ=WEEKLY;COUNT=3"),
            first,
            "Europe/Berlin",
            horizon=FAR,
            exdates=(first + timedelta(hours=1),),
        )
    assert refused.value.part == "EXDATE"
