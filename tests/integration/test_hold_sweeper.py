"""The hold sweeper on PostgreSQL: it expires overdue holds and leaves booked ones alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.projection import ProjectionRunner
from psycopg_pool import ConnectionPool

from commands.appointments.messages import BookAppointment, HoldAppointment
from commands.context import CommandContext
from commands.directory.messages import (
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
)
from commands.scheduling import Scheduling
from commands.slots.messages import CreateSlot
from domain.actor import Actor, Role
from domain.appointment import Appointment, Status
from infra.postgres.database import Database, eventstore_env
from infra.postgres.read_models.scheduling import PostgresSchedulingQueries
from infra.postgres.rows import PostgresRowView
from infra.postgres.server import PostgresLocation
from projections.scheduling import SchedulingProjection
from tests.builders import as_staff
from tests.fakes import FixedClock
from tests.integration.conftest import isolated_database
from tests.keys import keyed_scheduling
from workers.hold_sweeper import sweep_once

STAFF = as_staff()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC))


@pytest.fixture
def database(pg_location: PostgresLocation) -> Iterator[Database]:
    # Its own database: the e2e stack's projection worker runs on the session one.
    with isolated_database(pg_location) as db:
        yield db


@pytest.fixture
def store_env(database: Database) -> dict[str, str]:
    return eventstore_env(database, pool_size=4)


@pytest.fixture
def app(store_env: dict[str, str], clock: FixedClock, database: Database) -> Iterator[Scheduling]:
    with keyed_scheduling(database) as keyed:
        scheduling = keyed(store_env, clock=clock)
        yield scheduling
        scheduling.close()


@pytest.fixture
def queries(database: Database) -> Iterator[PostgresSchedulingQueries]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=2) as pool:
        yield PostgresSchedulingQueries(pool)


def hold_a_seat(app: Scheduling, clock: FixedClock, provider_id: uuid.UUID, hour: int) -> Any:
    patient_id = uuid.uuid4()
    me = CommandContext(Actor(patient_id, Role.PATIENT))
    app.register_patient(RegisterPatient(details=PatientDetails(name="Pat", time_zone="UTC")), me)
    start = clock.now() + timedelta(hours=hour)
    slot = app.create_slot(
        CreateSlot(provider_id=provider_id, start=start, end=start + timedelta(minutes=10)),
        STAFF,
    )
    held = app.hold(
        HoldAppointment(slot_id=slot.id, appointment_type="in_person", hold_minutes=1), me
    )
    return held, me


def test_overdue_holds_are_expired_and_booked_ones_are_left_alone(
    app: Scheduling,
    clock: FixedClock,
    queries: PostgresSchedulingQueries,
    store_env: dict[str, str],
) -> None:
    provider_id = app.register_provider(
        RegisterProvider(profile=ProviderProfile(name="Dr Sweep", time_zone="UTC")), STAFF
    ).id
    overdue, _ = hold_a_seat(app, clock, provider_id, hour=2)
    kept, me = hold_a_seat(app, clock, provider_id, hour=3)
    booked = app.book(BookAppointment(appointment_id=kept.id), me)

    with ProjectionRunner(
        application_class=type(app),
        projection_class=SchedulingProjection,
        view_class=PostgresRowView,
        env=store_env,
    ) as runner:
        runner.wait(booked.position, timeout=10)
        assert sweep_once(app, queries, clock) == 0  # nothing overdue yet

        clock.advance(minutes=2)
        expired = sweep_once(app, queries, clock)
        runner.wait(app.head_position(), timeout=10)

        assert expired >= 1
        assert app.load(Appointment, overdue.id, "appointment").status is Status.CANCELLED
        assert app.load(Appointment, kept.id, "appointment").status is Status.BOOKED
        assert overdue.id not in queries.expired_holds(clock.now(), 1000)
        view = queries.appointment(overdue.id)
        assert view is not None
        assert view.status == "cancelled"
        assert view.cancel_reason == "hold expired"
