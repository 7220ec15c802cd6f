"""The scheduling projection run in-process by eventsourcing's ProjectionRunner into PostgreSQL
rows, read back through PostgresSchedulingQueries.

This module works in a database of its own: its runners own that database's tracking row, so
no other projection (an e2e worker, say) can race them for it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.projection import ProjectionRunner
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from commands.appointments.messages import (
    CancelAppointment,
    CheckIn,
    CompleteAppointment,
    ConfirmAppointment,
    MarkNoShow,
    RescheduleAppointment,
    StartAppointment,
)
from commands.directory.messages import ProviderProfile, UpdateProvider
from commands.scheduling import Scheduling
from commands.slots.messages import BlockWindow, CancelSlot
from domain.appointment import ACTIVE, Appointment, Status
from domain.slot import Slot
from infra.postgres.database import Database, eventstore_env
from infra.postgres.read_models.scheduling import PostgresSchedulingQueries
from infra.postgres.rows import PostgresRowView
from infra.postgres.server import PostgresLocation
from projections.changes import Change, RowView, Update, Upsert
from projections.queries import AppointmentFilter, SlotFilter
from projections.scheduling import APPOINTMENTS, SchedulingProjection
from tests.builders import (
    T0,
    as_staff,
    book,
    create_slot,
    hold,
    register_patient,
    register_provider,
)
from tests.fakes import FixedClock
from tests.integration.conftest import isolated_database
from tests.keys import keyed_scheduling

APP_NAME = Scheduling.name
TEN = T0 + timedelta(hours=2)
HOUR = timedelta(hours=1)
WAIT = 10.0


@pytest.fixture(scope="module")
def database(pg_location: PostgresLocation) -> Iterator[Database]:
    with isolated_database(pg_location) as db:
        yield db


@pytest.fixture(scope="module")
def store_env(database: Database) -> dict[str, str]:
    return eventstore_env(database, pool_size=2)


@pytest.fixture(scope="module")
def queries(database: Database) -> Iterator[PostgresSchedulingQueries]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=2, open=True) as pool:
        yield PostgresSchedulingQueries(pool)


def projection_runner(
    app_class: type[Scheduling], env: dict[str, str], view_class: type[RowView] = PostgresRowView
) -> ProjectionRunner[Scheduling, RowView]:
    return ProjectionRunner(
        application_class=app_class,
        projection_class=SchedulingProjection,
        view_class=view_class,
        env=env,
    )


@pytest.fixture
def runner(
    store_env: dict[str, str], scheduling_class: type[Scheduling]
) -> Iterator[ProjectionRunner[Scheduling, RowView]]:
    with projection_runner(scheduling_class, store_env) as running:
        yield running


def rows(database: Database, query: str, **params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(database.conninfo) as conn:
        return conn.cursor(row_factory=dict_row).execute(query, params).fetchall()


# --- appointment listings ---------------------------------------------------------------------


def test_appointment_listings_filter_and_page_in_a_stable_order(
    app: Scheduling,
    runner: ProjectionRunner[Scheduling, RowView],
    queries: PostgresSchedulingQueries,
) -> None:
    provider_id = register_provider(app)
    slots = [create_slot(app, provider_id, TEN + n * HOUR, capacity=2) for n in range(4)]
    ann, bob = register_patient(app, "Ann"), register_patient(app, "Bob")
    anns = [book(app, s, ann).id for s in slots]
    bobs = [book(app, s, bob).id for s in slots[:2]]  # same starts as Ann's: ties on start
    last = app.cancel(CancelAppointment(appointment_id=anns[3], reason="away"), as_staff())

    runner.wait(last.position, timeout=WAIT)

    everyone = AppointmentFilter(provider_id=provider_id, limit=100)
    listed = queries.appointments(everyone, T0).items
    expected = sorted(
        [(TEN + n * HOUR, a) for n, a in enumerate(anns)]
        + [(TEN + n * HOUR, b) for n, b in enumerate(bobs)]
    )
    assert [(a.start, a.id) for a in listed] == expected
    pages, offset = [], 0
    while True:
        page = queries.appointments(
            AppointmentFilter(provider_id=provider_id, limit=4, offset=offset), T0
        )
        assert len(page.items) <= 4
        pages.append(page)
        if page.next_offset is None:
            break
        offset = page.next_offset
    assert [p.next_offset for p in pages] == [4, None]
    assert [a.id for p in pages for a in p.items] == [a.id for a in listed]
    newest_first = AppointmentFilter(provider_id=provider_id, newest_first=True, limit=100)
    assert [a.id for a in queries.appointments(newest_first, T0).items] == [
        a.id for a in reversed(listed)
    ]
    only_bob = AppointmentFilter(provider_id=provider_id, patient_id=bob)
    assert [a.id for a in queries.appointments(only_bob, T0).items] == bobs
    cancelled = AppointmentFilter(provider_id=provider_id, statuses=("cancelled",))
    (row,) = queries.appointments(cancelled, T0).items
    assert (row.id, row.status, row.fhir_status, row.late_cancellation) == (
        anns[3],
        "cancelled",
        "cancelled",
        True,
    )
    window = AppointmentFilter(
        provider_id=provider_id, start_from=TEN + HOUR, start_to=TEN + 3 * HOUR
    )
    in_window = [a.id for a in queries.appointments(window, T0).items]
    assert in_window == [*sorted([anns[1], bobs[1]]), anns[2]]


def test_upcoming_and_history_listings_split_active_from_finished_visits(
    app: Scheduling,
    runner: ProjectionRunner[Scheduling, RowView],
    queries: PostgresSchedulingQueries,
    clock: FixedClock,
) -> None:
    provider_id = register_provider(app)
    patient_id = register_patient(app)
    done, gone, ahead = (
        book(app, create_slot(app, provider_id, TEN + n * HOUR), patient_id).id for n in range(3)
    )
    clock.set(TEN)
    app.check_in(CheckIn(appointment_id=done), as_staff())
    app.start(StartAppointment(appointment_id=done), as_staff())
    clock.set(TEN + timedelta(minutes=20))
    app.complete(CompleteAppointment(appointment_id=done), as_staff())
    last = app.cancel(CancelAppointment(appointment_id=gone, reason="away"), as_staff())
    now = clock.now()

    runner.wait(last.position, timeout=WAIT)

    upcoming = AppointmentFilter(
        patient_id=patient_id, statuses=tuple(s.value for s in ACTIVE), start_from=now
    )
    assert [a.id for a in queries.appointments(upcoming, now).items] == [ahead]
    history = AppointmentFilter(
        patient_id=patient_id,
        statuses=("completed", "cancelled", "no_show"),
        newest_first=True,
    )
    finished = queries.appointments(history, now).items
    assert [(a.id, a.status) for a in finished] == [(gone, "cancelled"), (done, "completed")]
    assert (finished[1].wait_seconds, finished[1].duration_seconds) == (0, 1200)


# --- available slots --------------------------------------------------------------------------


def test_available_slots_leave_out_full_blocked_and_started_slots_and_count_live_holds(
    app: Scheduling,
    runner: ProjectionRunner[Scheduling, RowView],
    queries: PostgresSchedulingQueries,
) -> None:
    provider_id = register_provider(app)
    soon = create_slot(app, provider_id, T0 + timedelta(minutes=5))
    free = create_slot(app, provider_id, TEN)
    held = create_slot(app, provider_id, TEN + HOUR)
    full = create_slot(app, provider_id, TEN + 2 * HOUR)
    blocked = create_slot(app, provider_id, TEN + 3 * HOUR)
    shared = create_slot(
        app, provider_id, TEN + 4 * HOUR, capacity=2, appointment_types=["in_person", "video"]
    )
    hold(app, held, register_patient(app), minutes=10)
    book(app, full, register_patient(app))
    book(app, shared, register_patient(app))
    last = app.block_window(
        BlockWindow(
            provider_id=provider_id,
            start=TEN + 3 * HOUR,
            end=TEN + 3 * HOUR + timedelta(minutes=30),
            reason="training",
        ),
        as_staff(),
    )

    runner.wait(last.position, timeout=WAIT)

    def available(now: datetime, **extra: Any) -> list[UUID]:
        wanted = SlotFilter(
            start_from=T0, start_to=T0 + timedelta(days=1), provider_id=provider_id, **extra
        )
        return [s.id for s in queries.available_slots(wanted, now).items]

    assert available(T0) == [soon, free, shared]
    # Once the hold has run out its seat is free again, and a started slot is no longer offered.
    assert available(T0 + timedelta(minutes=10)) == [free, held, shared]
    assert available(T0, appointment_type="video") == [shared]
    assert blocked not in available(T0 + timedelta(minutes=10))
    page = queries.available_slots(
        SlotFilter(start_from=T0, start_to=T0 + timedelta(days=1), provider_id=provider_id), T0
    )
    by_id = {s.id: s for s in page.items}
    assert (by_id[shared].booked_seats, by_id[shared].free_seats) == (1, 1)
    paged = queries.available_slots(
        SlotFilter(
            start_from=T0, start_to=T0 + timedelta(days=1), provider_id=provider_id, limit=2
        ),
        T0,
    )
    assert ([s.id for s in paged.items], paged.next_offset) == ([soon, free], 2)


# --- provider schedule ------------------------------------------------------------------------


def test_a_provider_day_is_the_providers_local_day_with_summary_counts(
    app: Scheduling,
    runner: ProjectionRunner[Scheduling, RowView],
    queries: PostgresSchedulingQueries,
) -> None:
    provider_id = register_provider(app, zone="America/New_York")  # UTC-5 in November
    day = date(2026, 11, 24)
    before = create_slot(app, provider_id, datetime(2026, 11, 24, 4, 30, tzinfo=UTC))  # 23:30
    midnight = create_slot(app, provider_id, datetime(2026, 11, 24, 5, tzinfo=UTC))
    booked = create_slot(app, provider_id, datetime(2026, 11, 24, 15, tzinfo=UTC))
    blocked = create_slot(app, provider_id, datetime(2026, 11, 24, 15, 30, tzinfo=UTC))
    cancelled = create_slot(app, provider_id, datetime(2026, 11, 24, 16, tzinfo=UTC))
    late = create_slot(app, provider_id, datetime(2026, 11, 25, 4, 30, tzinfo=UTC))  # 23:30
    after = create_slot(app, provider_id, datetime(2026, 11, 25, 5, tzinfo=UTC))  # 00:00 next
    appointment_id = book(app, booked, register_patient(app)).id
    app.block_window(
        BlockWindow(
            provider_id=provider_id,
            start=datetime(2026, 11, 24, 15, 30, tzinfo=UTC),
            end=datetime(2026, 11, 24, 16, tzinfo=UTC),
            reason="training",
        ),
        as_staff(),
    )
    last = app.cancel_slot(CancelSlot(slot_id=cancelled, reason="ill"), as_staff())

    runner.wait(last.position, timeout=WAIT)

    schedule = queries.schedule(provider_id, day, day, T0)
    assert schedule is not None
    assert schedule.time_zone == "America/New_York"
    assert [s.id for s in schedule.slots] == [midnight, booked, blocked, cancelled, late]
    assert before not in {s.id for s in schedule.slots}
    assert after not in {s.id for s in schedule.slots}
    assert [a.id for a in schedule.appointments] == [appointment_id]
    summary = schedule.summary
    assert (summary.total, summary.free, summary.booked, summary.blocked, summary.cancelled) == (
        5,
        2,
        1,
        1,
        1,
    )


def test_a_provider_day_across_the_fall_back_change_lasts_25_hours(
    app: Scheduling,
    runner: ProjectionRunner[Scheduling, RowView],
    queries: PostgresSchedulingQueries,
    clock: FixedClock,
) -> None:
    clock.set(datetime(2026, 10, 25, tzinfo=UTC))
    provider_id = register_provider(app, zone="America/New_York")
    first = create_slot(app, provider_id, datetime(2026, 11, 1, 4, 0, tzinfo=UTC))  # 00:00 EDT
    last_hour = create_slot(app, provider_id, datetime(2026, 11, 2, 4, 30, tzinfo=UTC))  # 23:30
    next_day = create_slot(app, provider_id, datetime(2026, 11, 2, 5, 0, tzinfo=UTC))  # 00:00 EST
    runner.wait(app.head_position(), timeout=WAIT)

    schedule = queries.schedule(provider_id, date(2026, 11, 1), date(2026, 11, 1), clock.now())

    assert schedule is not None
    assert [s.id for s in schedule.slots] == [first, last_hour]
    assert next_day not in {s.id for s in schedule.slots}


def test_the_schedule_of_an_unknown_provider_is_none(
    queries: PostgresSchedulingQueries, runner: ProjectionRunner[Scheduling, RowView]
) -> None:
    assert queries.schedule(UUID(int=7), date(2026, 11, 24), date(2026, 11, 24), T0) is None


# --- no-show report ---------------------------------------------------------------------------


def test_the_no_show_rate_counts_due_visits_only_and_is_null_when_none_were_due(
    app: Scheduling,
    runner: ProjectionRunner[Scheduling, RowView],
    queries: PostgresSchedulingQueries,
    clock: FixedClock,
) -> None:
    busy = register_provider(app, name="Dr Busy")
    quiet = register_provider(app, name="Dr Quiet")
    patient_id = register_patient(app)
    done, missed, dropped, ahead = (
        book(app, create_slot(app, busy, TEN + n * HOUR), patient_id).id for n in range(4)
    )
    book(app, create_slot(app, quiet, TEN + 6 * HOUR), register_patient(app))
    clock.set(TEN)
    app.check_in(CheckIn(appointment_id=done), as_staff())
    app.start(StartAppointment(appointment_id=done), as_staff())
    app.complete(CompleteAppointment(appointment_id=done), as_staff())
    app.cancel(CancelAppointment(appointment_id=dropped, reason="away"), as_staff())
    clock.set(TEN + HOUR + timedelta(minutes=20))
    last = app.mark_no_show(MarkNoShow(appointment_id=missed), as_staff())

    runner.wait(last.position, timeout=WAIT)

    report = {
        r.provider_id: r
        for r in queries.no_shows(T0, T0 + timedelta(days=1))
        if r.provider_id in (busy, quiet)
    }
    assert (report[busy].provider_name, report[busy].due, report[busy].no_shows) == (
        "Dr Busy",
        2,
        1,
    )
    assert report[busy].rate == Decimal("0.5")
    assert (report[quiet].due, report[quiet].no_shows, report[quiet].rate) == (0, 0, None)
    assert ahead  # booked for later: not due, so in neither count


# --- read model details -----------------------------------------------------------------------


def test_a_reschedule_moves_the_seat_between_slot_rows(
    app: Scheduling,
    runner: ProjectionRunner[Scheduling, RowView],
    queries: PostgresSchedulingQueries,
) -> None:
    provider_id = register_provider(app)
    old_slot = create_slot(app, provider_id, TEN)
    new_slot = create_slot(app, provider_id, TEN + HOUR)
    booked = book(app, old_slot, register_patient(app))
    app.confirm(ConfirmAppointment(appointment_id=booked.id), as_staff())
    last = app.reschedule(
        RescheduleAppointment(appointment_id=booked.id, new_slot_id=new_slot), as_staff()
    )

    runner.wait(last.position, timeout=WAIT)

    row = queries.appointment(booked.id)
    assert row is not None
    # Only the time moved, with the same provider: the confirmation stands (docs/series.md).
    assert (row.slot_id, row.start, row.status) == (new_slot, TEN + HOUR, "confirmed")
    assert row.confirmed_at is not None
    schedule = queries.schedule(provider_id, TEN.date(), TEN.date(), T0)
    assert schedule is not None
    assert {s.id: s.booked_seats for s in schedule.slots} == {old_slot: 0, new_slot: 1}


def test_a_profile_update_keeps_the_rest_of_the_profile_in_the_read_model(
    app: Scheduling,
    runner: ProjectionRunner[Scheduling, RowView],
    database: Database,
) -> None:
    provider_id = register_provider(app, name="Dr Ada Lovelace", zone="Europe/Berlin")
    last = app.update_provider(
        UpdateProvider(provider_id=provider_id, profile=ProviderProfile(bio="Heart")), as_staff()
    )

    runner.wait(last.position, timeout=WAIT)

    (row,) = rows(database, "SELECT profile FROM rm_providers WHERE id = %(id)s", id=provider_id)
    assert row["profile"] == {
        "name": "Dr Ada Lovelace",
        "time_zone": "Europe/Berlin",
        "bio": "Heart",
    }


# --- restart and failure ----------------------------------------------------------------------


class RecordingRowView(PostgresRowView):
    """Remembers the notification id of every event it applied, across instances."""

    applied: list[int] = []

    def apply(self, changes: Sequence[Change], tracking: Tracking, *rest: Any) -> None:
        super().apply(changes, tracking, *rest)
        RecordingRowView.applied.append(tracking.notification_id)


def test_a_restarted_projection_resumes_from_its_position_and_applies_every_event_once(
    app: Scheduling,
    other_app: Scheduling,
    store_env: dict[str, str],
    queries: PostgresSchedulingQueries,
) -> None:
    provider_id = register_provider(app)
    slots = [create_slot(app, provider_id, TEN + n * HOUR) for n in range(3)]
    patients = [register_patient(app) for _ in range(3)]
    RecordingRowView.applied.clear()
    with projection_runner(type(app), store_env, RecordingRowView) as first:
        start = app.head_position()
        first.wait(start, timeout=WAIT)
        a = book(app, slots[0], patients[0]).id
        b = book(app, slots[1], patients[1]).id
        stopped_at = app.confirm(ConfirmAppointment(appointment_id=a), as_staff()).position
        first.wait(stopped_at, timeout=WAIT)

    app.cancel(CancelAppointment(appointment_id=b, reason="away"), as_staff())
    c = book(app, slots[1], patients[2]).id
    app.reschedule(RescheduleAppointment(appointment_id=a, new_slot_id=slots[2]), as_staff())
    head = app.head_position()
    assert queries.position() == stopped_at
    assert queries.appointment(c) is None

    with projection_runner(type(app), store_env, RecordingRowView) as second:
        second.wait(head, timeout=WAIT)

        log = [n.id for n in app.recorder.select_notifications(start=start + 1, limit=head - start)]
        applied = [n for n in RecordingRowView.applied if n > start]
        assert applied == log  # none lost, none twice, in log order
        assert queries.position() == head == second.view.max_tracking_id(APP_NAME)
        for appointment_id in (a, b, c):
            stored = other_app.load(Appointment, appointment_id, "appointment")
            row = queries.appointment(appointment_id)
            assert row is not None
            assert (row.status, row.slot_id, row.version) == (
                stored.status.value,
                stored.slot_id,
                stored.version,
            )
        schedule = queries.schedule(provider_id, TEN.date(), TEN.date(), T0)
        assert schedule is not None
        for view in schedule.slots:
            stored_slot = other_app.load(Slot, view.id, "slot")
            assert (view.booked_seats, view.version) == (
                len(stored_slot.allocations),
                stored_slot.version,
            )


class ConfirmationRefusedError(Exception):
    pass


class RefusingConfirmationsView(PostgresRowView):
    """Fails on Appointment.Confirmed: the only event that sets an appointment 'confirmed'."""

    refused: list[int] = []

    def apply(self, changes: Sequence[Change], tracking: Tracking, *rest: Any) -> None:
        if any(
            c.table == APPOINTMENTS
            and isinstance(c, Upsert | Update)
            and c.values.get("status") == Status.CONFIRMED.value
            for c in changes
        ):
            RefusingConfirmationsView.refused.append(tracking.notification_id)
            raise ConfirmationRefusedError(f"refusing notification {tracking.notification_id}")
        super().apply(changes, tracking, *rest)


def test_an_event_the_view_cannot_apply_stops_the_projection_just_before_it(
    pg_location: PostgresLocation,
) -> None:
    with isolated_database(pg_location) as db, keyed_scheduling(db) as keyed:
        env = eventstore_env(db, pool_size=2)
        clock = FixedClock(T0)
        app = keyed(env, clock=clock)
        pool = ConnectionPool(db.conninfo, min_size=1, max_size=1, open=True)
        try:
            provider_id = register_provider(app)
            booked = book(app, create_slot(app, provider_id, TEN), register_patient(app))
            confirmed = app.confirm(ConfirmAppointment(appointment_id=booked.id), as_staff())
            clock.set(TEN)
            checked_in = app.check_in(CheckIn(appointment_id=booked.id), as_staff())
            assert confirmed.position == booked.position + 1
            queries = PostgresSchedulingQueries(pool)
            RefusingConfirmationsView.refused.clear()

            with projection_runner(keyed, env, RefusingConfirmationsView) as failing:
                with pytest.raises(ConfirmationRefusedError):
                    failing.run_forever(timeout=WAIT)

                assert RefusingConfirmationsView.refused == [confirmed.position]
                assert failing.view.max_tracking_id(APP_NAME) == booked.position
            assert queries.position() == booked.position
            row = queries.appointment(booked.id)
            assert row is not None
            assert (row.status, row.confirmed_at, row.checked_in_at) == ("booked", None, None)

            # A view that can apply it carries on from exactly there.
            with projection_runner(keyed, env) as fixed:
                fixed.wait(checked_in.position, timeout=WAIT)
            row = queries.appointment(booked.id)
            assert row is not None
            assert row.status == "checked_in"
            assert row.confirmed_at is not None
        finally:
            pool.close()
            app.close()


def test_waiting_for_a_position_is_bounded(
    queries: PostgresSchedulingQueries, runner: ProjectionRunner[Scheduling, RowView]
) -> None:
    """The read side's wait_for gives up at its timeout instead of hanging."""
    assert not queries.wait_for(queries.position() + 1_000_000, timeout=0.05)
    assert queries.wait_for(queries.position(), timeout=0.05)
