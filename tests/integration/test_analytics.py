"""The analytics projection on PostgreSQL, run beside the scheduling one by ProjectionRunner,
over a scripted week of appointments whose outcomes, and so whose figures, are known.

Providers: Dr NY (America/New_York, cardiology, fee 120 USD), Dr UTC (UTC, no specialty),
Dr Berlin (Europe/Berlin, dermatology; one overbooked slot) and Dr Blocked (only a blocked
slot). Days and hours are the provider's own: Dr NY's visit at 03:00 UTC on the 25th is at
22:00 on the 24th in New York.

This module works in a database of its own, so no other projection races its runners."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.projection import ProjectionRunner
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from commands.appointments.messages import (
    CancelAppointment,
    CheckIn,
    CompleteAppointment,
    ExpireHold,
    MarkNoShow,
    StartAppointment,
)
from commands.directory.messages import ProviderProfile, RegisterProvider, UpdateProvider
from commands.scheduling import Scheduling
from commands.slots.messages import BlockWindow
from domain.appointment import Appointment
from infra.postgres.database import Database, eventstore_env
from infra.postgres.read_models.analytics import PostgresAnalyticsQueries
from infra.postgres.read_models.scheduling import PostgresSchedulingQueries
from infra.postgres.rows import PostgresRowView
from infra.postgres.server import PostgresLocation
from projections.analytics import AnalyticsProjection
from projections.analytics_queries import AppointmentFigures, AppointmentGroup, Grouping
from projections.scheduling import SchedulingProjection
from tests.builders import (
    T0,
    as_staff,
    book,
    create_slot,
    hold,
    register_patient,
)
from tests.fakes import FixedClock
from tests.integration.conftest import isolated_database

WAIT = 10.0
FROM = datetime(2026, 11, 23, tzinfo=UTC)
TO = datetime(2026, 11, 30, tzinfo=UTC)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class Week:
    ny: UUID
    utc_provider: UUID
    berlin: UUID
    blocked: UUID
    appointments: dict[str, UUID]
    head: int


@pytest.fixture(scope="module")
def database(pg_location: PostgresLocation) -> Iterator[Database]:
    with isolated_database(pg_location) as db:
        yield db


@pytest.fixture(scope="module")
def store_env(database: Database) -> dict[str, str]:
    return eventstore_env(database, pool_size=2)


@pytest.fixture(scope="module")
def pool(database: Database) -> Iterator[ConnectionPool[Any]]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=2, open=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def analytics(pool: ConnectionPool[Any]) -> PostgresAnalyticsQueries:
    return PostgresAnalyticsQueries(pool)


def provider(app: Scheduling, name: str, zone: str, **profile: Any) -> UUID:
    command = RegisterProvider(profile=ProviderProfile(name=name, time_zone=zone, **profile))
    return app.register_provider(command, as_staff()).id


def booked(app: Scheduling, slot_id: UUID, **fields: Any) -> UUID:
    return book(app, slot_id, register_patient(app), **fields).id


def play_the_week(app: Scheduling, clock: FixedClock) -> Week:
    """Every outcome in one script; the docstring of each figure test names who counts."""
    ny = provider(
        app,
        "Dr NY",
        "America/New_York",
        specializations=["cardiology", "sports medicine"],
        fee_amount=Decimal("120.00"),
        fee_currency="USD",
    )
    utc_provider = provider(app, "Dr UTC", "UTC")
    berlin = provider(app, "Dr Berlin", "Europe/Berlin", specializations=["dermatology"])
    blocked = provider(app, "Dr Blocked", "UTC")

    s1 = create_slot(app, ny, utc(24, 14))  # 09:00 New York
    s2 = create_slot(app, ny, utc(24, 15), capacity=2)  # 10:00 New York, a group session
    s3 = create_slot(app, ny, utc(25, 3))  # 22:00 on the 24th in New York
    s4 = create_slot(app, ny, utc(25, 14))
    s5 = create_slot(app, ny, utc(26, 14))
    s6 = create_slot(app, ny, utc(26, 15))
    create_slot(app, ny, utc(27, 14))  # blocked below
    sb = create_slot(app, utc_provider, utc(24, 10))
    sc = create_slot(app, berlin, utc(27, 9), overbook_allowance=1)  # 10:00 Berlin
    create_slot(app, blocked, utc(27, 9))  # blocked below

    ids = {
        "completed_early": booked(app, s1),
        "completed_late": booked(app, s2),
        "no_show": booked(app, s3),
        "late_cancel": booked(app, s4),
        "early_cancel": booked(app, s5),
        "still_booked": booked(app, sb),
        "berlin": booked(app, sc),
        "berlin_overbooked": booked(app, sc, overbook=True),
    }
    ids["expired_hold"] = hold(app, s6, register_patient(app), minutes=10).id
    window = BlockWindow(provider_id=ny, start=utc(27, 14), end=utc(27, 14, 30), reason="away")
    app.block_window(window, as_staff())
    app.block_window(
        BlockWindow(provider_id=blocked, start=utc(27, 9), end=utc(27, 9, 30), reason="away"),
        as_staff(),
    )

    def at(moment: datetime, command: Any, act: Any) -> None:
        clock.set(moment)
        act(command, as_staff())

    at(T0, CancelAppointment(appointment_id=ids["early_cancel"], reason="away"), app.cancel)
    at(T0 + timedelta(minutes=11), ExpireHold(appointment_id=ids["expired_hold"]), app.expire_hold)
    # Came early: the wait counts from the start (14:00), so 5 minutes; 20 minutes' visit.
    at(utc(24, 13, 55), CheckIn(appointment_id=ids["completed_early"]), app.check_in)
    at(utc(24, 14, 5), StartAppointment(appointment_id=ids["completed_early"]), app.start)
    at(utc(24, 14, 25), CompleteAppointment(appointment_id=ids["completed_early"]), app.complete)
    # Came late: the wait counts from check-in (15:02), so 10 minutes; 30 minutes' visit.
    at(utc(24, 15, 2), CheckIn(appointment_id=ids["completed_late"]), app.check_in)
    at(utc(24, 15, 12), StartAppointment(appointment_id=ids["completed_late"]), app.start)
    at(utc(24, 15, 42), CompleteAppointment(appointment_id=ids["completed_late"]), app.complete)
    at(utc(25, 3, 20), MarkNoShow(appointment_id=ids["no_show"]), app.mark_no_show)
    # Four hours' notice is under the 24-hour policy: a late cancellation.
    at(utc(25, 10), CancelAppointment(appointment_id=ids["late_cancel"], reason="ill"), app.cancel)
    return Week(ny, utc_provider, berlin, blocked, ids, app.head_position())


@pytest.fixture(scope="module")
def week(store_env: dict[str, str], scheduling_class: type[Scheduling]) -> Iterator[Week]:
    """The week played, then both projections run from the start of the log to its head."""
    clock = FixedClock(T0)
    app = scheduling_class(store_env, clock=clock)
    try:
        played = play_the_week(app, clock)
        with (
            ProjectionRunner(
                application_class=scheduling_class,
                projection_class=SchedulingProjection,
                view_class=PostgresRowView,
                env=store_env,
            ) as scheduling,
            ProjectionRunner(
                application_class=scheduling_class,
                projection_class=AnalyticsProjection,
                view_class=PostgresRowView,
                env=store_env,
            ) as analytics,
        ):
            scheduling.wait(played.head, timeout=WAIT)
            analytics.wait(played.head, timeout=WAIT)
            yield played
    finally:
        app.close()


@pytest.fixture(scope="module")
def lead_times(
    store_env: dict[str, str], week: Week, scheduling_class: type[Scheduling]
) -> dict[str, Decimal]:
    """Start minus booked_at of each booked appointment, from the stored events (bookings are
    stamped with the wall-clock time the event was recorded, not the test's clock)."""
    app = scheduling_class(store_env)
    try:
        found = {}
        for name, appointment_id in week.appointments.items():
            if name == "expired_hold":
                continue
            appointment = app.load(Appointment, appointment_id, "appointment")
            seconds = (appointment.start - appointment.created_on).total_seconds()
            found[name] = Decimal(round(seconds))
        return found
    finally:
        app.close()


def mean_lead(lead_times: dict[str, Decimal], *names: str) -> Decimal:
    return (sum((lead_times[n] for n in names), Decimal(0)) / len(names)).quantize(Decimal("0.1"))


def figures(*skip: str, **expected: Any) -> dict[str, Any]:
    """The expected figures but `skip`, with each rate given as a string and unspecified
    ones null."""
    values: dict[str, Any] = {
        name: None for name in AppointmentFigures.__struct_fields__ if name.endswith("_rate")
    }
    values.update(
        average_wait_seconds=None, average_duration_seconds=None, average_lead_time_seconds=None
    )
    for name, value in expected.items():
        values[name] = Decimal(value) if isinstance(value, str) else value
    return {name: value for name, value in values.items() if name not in skip}


def as_dict(found: AppointmentFigures, *skip: str) -> dict[str, Any]:
    return {n: getattr(found, n) for n in found.__struct_fields__ if n not in skip}


def group(groups: list[AppointmentGroup], **key: Any) -> AppointmentFigures:
    [match] = [g for g in groups if all(getattr(g, k) == v for k, v in key.items())]
    return match.figures


NO_LEAD = "average_lead_time_seconds"


def test_the_analytics_projection_keeps_a_position_of_its_own(
    week: Week, analytics: PostgresAnalyticsQueries, pool: ConnectionPool[Any]
) -> None:
    assert analytics.position() == week.head
    assert analytics.wait_for(week.head, timeout=0.1)
    assert not analytics.wait_for(week.head + 1000, timeout=0.05)
    assert PostgresSchedulingQueries(pool).position() == week.head


def test_totals_count_each_outcome_over_its_own_denominator(
    week: Week, analytics: PostgresAnalyticsQueries, lead_times: dict[str, Decimal]
) -> None:
    """Nine appointments; the expired hold was never booked. Due: the two completed visits
    and the no-show. Cancelled: the late and the early cancellation, of eight booked."""
    found = analytics.appointments(FROM, TO, None)

    assert found.groups == []
    assert as_dict(found.totals, NO_LEAD) == figures(
        NO_LEAD,
        appointments=9,
        booked=8,
        due=3,
        completed=2,
        no_shows=1,
        cancelled=2,
        late_cancelled=1,
        completion_rate="0.6667",
        no_show_rate="0.3333",
        cancellation_rate="0.2500",
        late_cancellation_rate="0.5000",
        average_wait_seconds=Decimal("450.0"),  # (5 + 10 minutes) / 2
        average_duration_seconds=Decimal("1500.0"),  # (20 + 30 minutes) / 2
    )
    expected_lead = mean_lead(lead_times, *lead_times)
    assert found.totals.average_lead_time_seconds is not None
    assert abs(found.totals.average_lead_time_seconds - expected_lead) <= 1


def test_days_are_the_providers_own(week: Week, analytics: PostgresAnalyticsQueries) -> None:
    """Dr NY's no-show at 03:00 UTC on the 25th belongs to New York's 24th, beside the two
    completed visits and Dr UTC's booking. On the 25th only the late cancellation is left."""
    found = analytics.appointments(FROM, TO, Grouping.DAY)

    assert [g.day for g in found.groups] == [date(2026, 11, d) for d in (24, 25, 26, 27)]
    the_24th = group(found.groups, day=date(2026, 11, 24))
    assert as_dict(the_24th, NO_LEAD) == figures(
        NO_LEAD,
        appointments=4,
        booked=4,
        due=3,
        completed=2,
        no_shows=1,
        cancelled=0,
        late_cancelled=0,
        completion_rate="0.6667",
        no_show_rate="0.3333",
        cancellation_rate="0.0000",
        average_wait_seconds=Decimal("450.0"),
        average_duration_seconds=Decimal("1500.0"),
    )
    the_25th = group(found.groups, day=date(2026, 11, 25))
    assert as_dict(the_25th, NO_LEAD) == figures(
        NO_LEAD,
        appointments=1,
        booked=1,
        due=0,  # nothing due: completion and no-show rates are null, not 0
        completed=0,
        no_shows=0,
        cancelled=1,
        late_cancelled=1,
        cancellation_rate="1.0000",
        late_cancellation_rate="1.0000",
    )
    the_26th = group(found.groups, day=date(2026, 11, 26))
    assert (the_26th.appointments, the_26th.booked, the_26th.cancelled) == (2, 1, 1)
    assert the_26th.late_cancellation_rate == Decimal("0.0000")
    assert the_26th.average_lead_time_seconds is not None  # the hold is left out, not 0


def test_hours_are_the_providers_own(week: Week, analytics: PostgresAnalyticsQueries) -> None:
    """09:00 New York: a completed visit and both cancellations. 10:00: a completed visit and
    the expired hold in New York, Dr UTC's booking, Dr Berlin's two. 22:00: the no-show."""
    found = analytics.appointments(FROM, TO, Grouping.HOUR)

    assert [g.hour for g in found.groups] == [9, 10, 22]
    nine = group(found.groups, hour=9)
    assert (nine.appointments, nine.booked, nine.due, nine.completed) == (3, 3, 1, 1)
    assert (nine.cancelled, nine.late_cancelled) == (2, 1)
    assert nine.completion_rate == Decimal("1.0000")
    assert nine.late_cancellation_rate == Decimal("0.5000")
    ten = group(found.groups, hour=10)
    assert (ten.appointments, ten.booked, ten.due, ten.completed, ten.cancelled) == (5, 4, 1, 1, 0)
    assert ten.late_cancellation_rate is None
    ten_pm = group(found.groups, hour=22)
    assert (ten_pm.due, ten_pm.no_shows, ten_pm.no_show_rate) == (1, 1, Decimal("1.0000"))
    assert ten_pm.average_wait_seconds is None  # nobody was seen


def test_providers_and_specialties_come_from_the_provider_dimension(
    week: Week, analytics: PostgresAnalyticsQueries
) -> None:
    """Dr UTC's one booking has no outcome yet: nothing due, nothing cancelled."""
    by_provider = analytics.appointments(FROM, TO, Grouping.PROVIDER).groups
    assert [(g.provider_id, g.provider_name) for g in by_provider] == [
        (week.berlin, "Dr Berlin"),
        (week.ny, "Dr NY"),
        (week.utc_provider, "Dr UTC"),
    ]
    ny = group(by_provider, provider_id=week.ny)
    assert (ny.appointments, ny.booked, ny.due, ny.cancelled) == (6, 5, 3, 2)
    assert ny.cancellation_rate == Decimal("0.4000")
    assert as_dict(group(by_provider, provider_id=week.utc_provider), NO_LEAD) == figures(
        NO_LEAD,
        appointments=1,
        booked=1,
        due=0,
        completed=0,
        no_shows=0,
        cancelled=0,
        late_cancelled=0,
        cancellation_rate="0.0000",
    )

    by_specialty = analytics.appointments(FROM, TO, Grouping.SPECIALTY).groups
    assert [(g.specialty, g.figures.appointments) for g in by_specialty] == [
        ("cardiology", 6),  # the first of Dr NY's specializations
        ("dermatology", 2),
        (None, 1),
    ]
    only_ny = analytics.appointments(FROM, TO, Grouping.SPECIALTY, provider_id=week.ny)
    assert [g.specialty for g in only_ny.groups] == ["cardiology"]
    assert only_ny.totals == ny


def test_a_period_without_appointments_or_slots_has_null_rates_and_utilization(
    week: Week, analytics: PostgresAnalyticsQueries
) -> None:
    empty_from, empty_to = TO + timedelta(days=30), TO + timedelta(days=60)

    found = analytics.appointments(empty_from, empty_to, Grouping.DAY)
    used = analytics.utilization(empty_from, empty_to)

    assert found.groups == []
    assert as_dict(found.totals) == figures(
        appointments=0, booked=0, due=0, completed=0, no_shows=0, cancelled=0, late_cancelled=0
    )
    assert used.providers == []
    assert used.totals.utilization is None
    assert used.totals.open_seat_minutes == Decimal("0.0")


def test_utilization_is_booked_over_open_seat_minutes_of_open_slots(
    week: Week, analytics: PostgresAnalyticsQueries
) -> None:
    """Dr NY: six open slots of 30 minutes, one with two seats (210 seat-minutes); booked: the
    two visits and the no-show (90). Cancelled and expired seats were released; the blocked
    slot offers nothing. Dr Berlin: one seat overbooked, 60 of 30. Dr Blocked: nothing open."""
    found = analytics.utilization(FROM, TO)

    by_id = {p.provider_id: p for p in found.providers}
    assert [p.provider_name for p in found.providers] == [
        "Dr Berlin",
        "Dr Blocked",
        "Dr NY",
        "Dr UTC",
    ]
    ny = by_id[week.ny].figures
    assert (ny.open_slots, ny.open_seat_minutes, ny.booked_seat_minutes) == (
        6,
        Decimal("210.0"),
        Decimal("90.0"),
    )
    assert (ny.overbooked_seats, ny.utilization) == (0, Decimal("0.4286"))
    assert by_id[week.ny].specialty == "cardiology"
    berlin = by_id[week.berlin].figures
    assert (berlin.booked_seat_minutes, berlin.overbooked_seats) == (Decimal("60.0"), 1)
    assert berlin.utilization == Decimal("2.0000")
    assert by_id[week.utc_provider].figures.utilization == Decimal("1.0000")
    nothing_open = by_id[week.blocked].figures
    assert (nothing_open.open_slots, nothing_open.utilization) == (0, None)
    assert found.totals.open_slots == 8
    assert (found.totals.open_seat_minutes, found.totals.booked_seat_minutes) == (
        Decimal("270.0"),
        Decimal("180.0"),
    )
    assert found.totals.utilization == Decimal("0.6667")
    assert found.totals.overbooked_seats == 1
    only_ny = analytics.utilization(FROM, TO, provider_id=week.ny)
    assert [p.provider_id for p in only_ny.providers] == [week.ny]
    assert only_ny.totals == ny


def test_the_fact_rows_carry_lead_time_local_day_and_the_fee_at_booking(
    week: Week,
    database: Database,
    store_env: dict[str, str],
    analytics: PostgresAnalyticsQueries,
    lead_times: dict[str, Decimal],
) -> None:
    no_show = week.appointments["no_show"]

    def fact() -> dict[str, Any]:
        with psycopg.connect(database.conninfo) as conn:
            cur = conn.cursor(row_factory=dict_row)
            query = "SELECT * FROM an_appointment_facts WHERE id = %(id)s"
            found: dict[str, Any] = cur.execute(query, {"id": no_show}).fetchone() or {}
            return found

    row = fact()
    assert row["local_day"] == date(2026, 11, 24)
    assert row["local_hour"] == 22
    assert row["time_zone"] == "America/New_York"
    assert row["lead_time_seconds"] == lead_times["no_show"]
    assert (row["fee_amount"], row["fee_currency"]) == (Decimal("120.00"), "USD")
    assert row["specialty"] == "cardiology"

    # A later profile change does not reprice past bookings (issue 14): the fee is the one
    # the booking recorded.
    app = Scheduling(store_env)
    try:
        profile = ProviderProfile(fee_amount=Decimal("150.00"), specializations=["cardiology"])
        changed = app.update_provider(
            UpdateProvider(provider_id=week.ny, profile=profile), as_staff()
        )
    finally:
        app.close()
    assert analytics.wait_for(changed.position, timeout=WAIT)  # the week's runners apply it
    assert fact()["fee_amount"] == Decimal("120.00")


def test_the_scheduling_model_agrees_on_no_shows(week: Week, pool: ConnectionPool[Any]) -> None:
    [ny] = [
        r for r in PostgresSchedulingQueries(pool).no_shows(FROM, TO) if r.provider_id == week.ny
    ]
    assert (ny.due, ny.no_shows, ny.rate) == (3, 1, Decimal("0.3333"))
