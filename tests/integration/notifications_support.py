"""The notification tests' world on PostgreSQL: the reminder policy run by eventsourcing's
ProjectionRunner over the module's log, the delivery store, the send job on the recording
channels, and one clock for all of them. Test modules import the fixtures they use."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.projection import ProjectionRunner
from psycopg_pool import ConnectionPool

from commands.directory.messages import PatientDetails, RegisterPatient
from commands.scheduling import Scheduling
from infra.notifications.recorder import Outbox, recording_channels
from infra.postgres.database import Database
from infra.postgres.notifications.deliveries import PostgresDeliveries
from infra.postgres.notifications.plans import PostgresPlanView
from infra.postgres.pool import connection_pool
from projections.notifications.deliveries import Delivery
from projections.notifications.policy import reminder_policy
from tests.builders import T0, as_patient, book, create_slot, register_provider
from tests.fakes import FixedClock
from workers.notifications.reader import AppReader
from workers.notifications.scheduler import Scheduler
from workers.notifications.send import Branding, SendJob

DAY3 = (T0 + timedelta(days=3)).replace(hour=10)
DAY4 = DAY3 + timedelta(days=1)


@pytest.fixture(scope="module")
def pool(database: Database) -> Iterator[ConnectionPool[Any]]:
    with connection_pool(database.conninfo, 8) as opened:
        yield opened


@pytest.fixture(scope="module")
def policy_clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def clock(policy_clock: FixedClock) -> FixedClock:
    """One clock for the commands, the policy and the send job."""
    policy_clock.set(T0)
    return policy_clock


@pytest.fixture(scope="module")
def reader_app(
    store_env: dict[str, str], scheduling_class: type[Scheduling]
) -> Iterator[Scheduling]:
    app = scheduling_class(store_env)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture(scope="module")
def runner(
    store_env: dict[str, str],
    scheduling_class: type[Scheduling],
    reader_app: Scheduling,
    policy_clock: FixedClock,
) -> Iterator[ProjectionRunner[Any, Any]]:
    with ProjectionRunner(
        application_class=scheduling_class,
        projection_class=reminder_policy(AppReader(reader_app), clock=policy_clock),
        view_class=PostgresPlanView,
        env=store_env,
    ) as running:
        yield running


class Collected:
    """A SendQueue that keeps what it was handed."""

    def __init__(self) -> None:
        self.ids: list[UUID] = []
        self.lock = threading.Lock()

    def enqueue(self, delivery_id: UUID) -> None:
        with self.lock:
            self.ids.append(delivery_id)


@dataclass
class World:
    app: Scheduling
    runner: ProjectionRunner[Any, Any]
    store: PostgresDeliveries
    clock: FixedClock
    job: SendJob
    queue: Collected
    outbox: Outbox

    def settle(self) -> None:
        self.runner.wait(self.app.head_position(), timeout=10)

    def patient(self) -> UUID:
        patient_id = uuid4()
        details = PatientDetails(
            name="Grace",
            time_zone="Europe/Berlin",
            phone="+4930123456",
            email="grace@example.org",
            notification_consent=True,
        )
        self.app.register_patient(RegisterPatient(details=details), as_patient(patient_id))
        return patient_id

    def booked(self) -> tuple[UUID, UUID, UUID]:
        provider_id = register_provider(self.app)
        patient_id = self.patient()
        slot_id = create_slot(self.app, provider_id, DAY3)
        appointment_id = book(self.app, slot_id, patient_id).id
        self.settle()
        return appointment_id, patient_id, provider_id

    def rows(self, appointment_id: UUID) -> list[Delivery]:
        return self.store.for_appointment(appointment_id)

    def planned(self, appointment_id: UUID) -> set[tuple[str, str, datetime | None]]:
        return {
            (d.kind, d.channel, d.start_at)
            for d in self.rows(appointment_id)
            if d.status == "planned" and d.kind.startswith("reminder_")
        }

    def drain(self) -> None:
        Scheduler(self.store, self.queue, self.clock).tick()
        while self.queue.ids:
            self.job.run(self.queue.ids.pop(0))


@pytest.fixture
def world(
    app: Scheduling,
    reader_app: Scheduling,
    runner: ProjectionRunner[Any, Any],
    pool: ConnectionPool[Any],
    clock: FixedClock,
) -> World:
    store = PostgresDeliveries(pool)
    queue = Collected()
    job = SendJob(
        AppReader(reader_app),
        store,
        recording_channels(pool),
        clock,
        Branding("Clinic", "https://app.example"),
        queue.enqueue,
        lambda *_: None,
        lambda *_: None,
    )
    return World(app, runner, store, clock, job, queue, Outbox(pool))
