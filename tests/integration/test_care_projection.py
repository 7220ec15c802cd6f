"""Issue 11's rows of the scheduling projection on PostgreSQL: open follow-up requests per
provider, a booked one linked to its visit, the provider's rating from feedback, series
occurrences on the appointment rows, and a reschedule that keeps a confirmation or moves the
visit to another provider."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.projection import ProjectionRunner
from psycopg_pool import ConnectionPool

from commands.appointments.messages import (
    CheckIn,
    CompleteAppointment,
    ConfirmAppointment,
    FollowUpRequest,
    RescheduleAppointment,
    StartAppointment,
)
from commands.feedback.messages import RateVisit
from commands.follow_ups.messages import BookFollowUp
from commands.scheduling import Scheduling
from commands.series.messages import BookSeries
from infra.postgres.database import Database
from infra.postgres.read_models.directory import PostgresDirectoryQueries
from infra.postgres.read_models.follow_ups import PostgresFollowUpQueries
from infra.postgres.read_models.scheduling import PostgresSchedulingQueries
from infra.postgres.rows import PostgresRowView
from projections.changes import RowView
from projections.follow_ups import FollowUpFilter
from projections.queries import AppointmentFilter
from projections.scheduling import SchedulingProjection
from tests.builders import (
    T0,
    as_,
    as_staff,
    create_slot,
    patient,
    patient_books,
    patient_registers,
    provider,
    register_provider,
)
from tests.fakes import FixedClock

WAIT = 10.0
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def runner(
    store_env: dict[str, str], scheduling_class: type[Scheduling]
) -> Iterator[ProjectionRunner[Scheduling, RowView]]:
    with ProjectionRunner(
        application_class=scheduling_class,
        projection_class=SchedulingProjection,
        view_class=PostgresRowView,
        env=store_env,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def pool(database: Database) -> Iterator[ConnectionPool]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=2, open=True) as opened:
        yield opened


def visit(app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID) -> UUID:
    slot = create_slot(app, provider_id, clock.now() + timedelta(hours=2))
    appointment_id = patient_books(app, patient_id, slot)
    clock.set(clock.now() + timedelta(hours=2))
    app.check_in(CheckIn(appointment_id=appointment_id), as_(patient(patient_id)))
    app.start(StartAppointment(appointment_id=appointment_id), as_(provider(provider_id)))
    return appointment_id


def test_follow_ups_ratings_and_series_reach_the_rows(
    app: Scheduling,
    clock: FixedClock,
    runner: ProjectionRunner[Scheduling, RowView],
    pool: ConnectionPool,
) -> None:
    doctor = register_provider(app)
    colleague = register_provider(app, name="Dr Colleague")
    patient_id = patient_registers(app)
    first = visit(app, clock, doctor, patient_id)
    ask = FollowUpRequest(interval_days=14, appointment_type="in_person", notes="wound check")
    done = CompleteAppointment(appointment_id=first, follow_up=ask)
    follow_up_id = app.complete(done, as_(provider(doctor))).ids["follow_up_id"]
    app.rate_visit(RateVisit(appointment_id=first, rating=4), as_(patient(patient_id)))
    second = visit(app, clock, colleague, patient_id)
    app.complete(CompleteAppointment(appointment_id=second), as_(provider(colleague)))
    app.rate_visit(RateVisit(appointment_id=second, rating=5), as_(patient(patient_id)))
    last = app.rate_visit(RateVisit(appointment_id=first, rating=3), as_(patient(patient_id)))
    runner.wait(last.position, timeout=WAIT)

    follow_ups = PostgresFollowUpQueries(pool)
    (open_one,) = follow_ups.follow_ups(FollowUpFilter(provider_id=doctor)).items
    assert (open_one.id, open_one.visit_id, open_one.notes) == (follow_up_id, first, "wound check")
    assert follow_ups.follow_ups(FollowUpFilter(provider_id=colleague)).items == []
    directory = PostgresDirectoryQueries(pool)
    rated = directory.provider(doctor)
    assert rated is not None
    assert (rated.rating, rated.rating_count) == (Decimal("3.00"), 1)

    later = create_slot(app, doctor, clock.now() + timedelta(days=14))
    book = BookFollowUp(follow_up_id=follow_up_id, slot_id=later)
    follow_up_booking = app.book_follow_up(book, as_(patient(patient_id)))
    runner.wait(follow_up_booking.position, timeout=WAIT)
    queries = PostgresSchedulingQueries(pool)
    booked = queries.appointment(follow_up_booking.id)
    assert booked is not None
    assert booked.follows_id == first
    assert follow_ups.follow_ups(FollowUpFilter(provider_id=doctor)).items == []
    (done_one,) = follow_ups.follow_ups(
        FollowUpFilter(statuses=("booked",), patient_id=patient_id)
    ).items
    assert done_one.appointment_id == follow_up_booking.id


def test_series_occurrences_and_reschedules_reach_the_rows(
    app: Scheduling,
    clock: FixedClock,
    runner: ProjectionRunner[Scheduling, RowView],
    pool: ConnectionPool,
) -> None:
    doctor = register_provider(app)
    colleague = register_provider(app, name="Dr Colleague")
    patient_id = patient_registers(app)
    start = datetime(2026, 12, 1, 9, tzinfo=BERLIN)
    slots = [
        create_slot(app, doctor, (start + timedelta(weeks=w)).astimezone(UTC)) for w in range(3)
    ]
    series = app.book_series(
        BookSeries(
            provider_id=doctor, first_start=start, rrule="FREQ=WEEKLY;COUNT=3", mode="partial"
        ),
        as_(patient(patient_id)),
    )
    runner.wait(series.position, timeout=WAIT)
    queries = PostgresSchedulingQueries(pool)
    listed = queries.appointments(AppointmentFilter(patient_id=patient_id), T0).items
    assert [a.slot_id for a in listed] == slots
    assert {a.series_id for a in listed} == {series.id}
    assert [a.recurrence_id for a in listed] == [a.start for a in listed]

    confirmed = listed[0].id
    app.confirm(ConfirmAppointment(appointment_id=confirmed), as_(patient(patient_id)))
    earlier = create_slot(app, doctor, (start - timedelta(hours=1)).astimezone(UTC))
    moved = app.reschedule(
        RescheduleAppointment(appointment_id=confirmed, new_slot_id=earlier),
        as_(patient(patient_id)),
    )
    other = create_slot(app, colleague, (start + timedelta(weeks=1, hours=2)).astimezone(UTC))
    handed = app.reschedule(
        RescheduleAppointment(appointment_id=listed[1].id, new_slot_id=other), as_staff()
    )
    runner.wait(max(moved.position, handed.position), timeout=WAIT)
    kept = queries.appointment(confirmed)
    assert kept is not None
    assert (kept.status, kept.slot_id) == ("confirmed", earlier)
    assert kept.confirmed_at is not None
    moved_over = queries.appointment(listed[1].id)
    assert moved_over is not None
    assert (moved_over.provider_id, moved_over.slot_id) == (colleague, other)
