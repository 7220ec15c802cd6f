"""Integration fixtures: the Scheduling application on the session's PostgreSQL database, a
clock the test controls, and small steps (register, publish a slot, book) issued as staff."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from commands.appointment_commands import BookAppointment, HoldAppointment
from commands.context import CommandContext
from commands.directory_commands import (
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
)
from commands.scheduling import Scheduling
from commands.slot_commands import CreateSlot
from commands.structs import CommandResult
from domain.actor import Actor, Role
from infra.postgres.database import Database, eventstore_env, prepare
from infra.postgres.server import PostgresLocation, create_database, drop_database
from tests.fakes import FixedClock

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Berlin
STAFF = Actor(uuid.uuid4(), Role.STAFF)
SYSTEM = Actor(uuid.uuid4(), Role.SYSTEM)


def as_staff(key: str | None = None) -> CommandContext:
    return CommandContext(STAFF, idempotency_key=key)


def as_system() -> CommandContext:
    return CommandContext(SYSTEM)


def as_patient(patient_id: UUID, key: str | None = None) -> CommandContext:
    return CommandContext(Actor(patient_id, Role.PATIENT), idempotency_key=key)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def app(store_env: dict[str, str], clock: FixedClock) -> Iterator[Scheduling]:
    scheduling = Scheduling(store_env, clock=clock)
    try:
        yield scheduling
    finally:
        scheduling.close()


@pytest.fixture
def other_app(store_env: dict[str, str]) -> Iterator[Scheduling]:
    """A second application on the same store: what it loads was really persisted."""
    scheduling = Scheduling(store_env)
    try:
        yield scheduling
    finally:
        scheduling.close()


@pytest.fixture(scope="module")
def database(pg_location: PostgresLocation) -> Iterator[Database]:
    """Each integration module gets a database of its own: projections run here write a
    watermark that must not be shared with the e2e stack's worker or with other modules."""
    with isolated_database(pg_location) as db:
        yield db


@pytest.fixture(scope="module")
def store_env(database: Database) -> dict[str, str]:
    return eventstore_env(database, pool_size=4)


@contextmanager
def isolated_database(location: PostgresLocation) -> Iterator[Database]:
    """A database of its own, with the read-model schema, dropped afterwards."""
    name = f"slotwise_it_{uuid.uuid4().hex[:12]}"
    create_database(location.conninfo, name)
    try:
        db = Database(location, name)
        prepare(db)
        yield db
    finally:
        drop_database(location.conninfo, name)


def register_provider(
    app: Scheduling, zone: str = "Europe/Berlin", name: str = "Dr Ada Lovelace"
) -> UUID:
    profile = ProviderProfile(name=name, time_zone=zone)
    return app.register_provider(RegisterProvider(profile=profile), as_staff()).id


def register_patient(app: Scheduling, name: str = "Grace Hopper") -> UUID:
    details = PatientDetails(name=name, time_zone="Europe/Berlin")
    return app.register_patient(RegisterPatient(details=details), as_staff()).id


def create_slot(
    app: Scheduling,
    provider_id: UUID,
    start: datetime,
    minutes: int = 30,
    capacity: int = 1,
    **terms: Any,
) -> UUID:
    command = CreateSlot(
        provider_id=provider_id,
        start=start,
        end=start + timedelta(minutes=minutes),
        capacity=capacity,
        **terms,
    )
    return app.create_slot(command, as_staff()).id


def book(app: Scheduling, slot_id: UUID, patient_id: UUID, **fields: Any) -> CommandResult:
    command = BookAppointment(slot_id=slot_id, patient_id=patient_id, **fields)
    return app.book(command, as_staff())


def hold(app: Scheduling, slot_id: UUID, patient_id: UUID, minutes: int = 10) -> CommandResult:
    command = HoldAppointment(
        slot_id=slot_id, patient_id=patient_id, appointment_type="in_person", hold_minutes=minutes
    )
    return app.hold(command, as_staff())


def events_between(app: Scheduling, after: int, upto: int) -> list[Any]:
    """The stored events with notification ids in (after, upto], as domain events."""
    notifications = app.recorder.select_notifications(
        start=after + 1, stop=upto, limit=max(upto - after, 1)
    )
    return [app.mapper.to_domain_event(n) for n in notifications]


def names(events: list[Any], originator_id: UUID | None = None) -> list[str]:
    """`Aggregate.Event` names of the events (of one originator, if given), in log order."""
    return [
        type(e).__qualname__
        for e in events
        if originator_id is None or e.originator_id == originator_id
    ]
