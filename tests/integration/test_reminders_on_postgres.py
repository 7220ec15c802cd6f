"""Reminders on PostgreSQL: the reminder policy, run by eventsourcing's ProjectionRunner over
the log, keeps each appointment's due rows equal to its desired reminders (book, reschedule,
cancel); schedulers racing on real connections hand every due row out once; the send job sends
once, skips stale and opted-out ones, and records in-app copies."""

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

from commands.appointments.messages import CancelAppointment, RescheduleAppointment
from commands.directory.messages import PatientDetails, RegisterPatient
from commands.notifications.messages import RecordOptOut
from commands.scheduling import Scheduling
from infra.notifications.recorder import Outbox, recording_channels
from infra.postgres.database import Database
from infra.postgres.notifications.deliveries import PostgresDeliveries
from infra.postgres.notifications.plans import PostgresPlanView
from infra.postgres.pool import connection_pool
from projections.notifications.deliveries import Delivery
from projections.notifications.policy import reminder_policy
from tests.builders import T0, as_patient, as_staff, as_system, book, create_slot, register_provider
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


CHANNELS = ("sms", "email", "in_app")
KINDS = ("reminder_1440m", "reminder_120m", "reminder_30m")


def test_booking_plans_three_reminders_per_channel_and_a_confirmation(world: World) -> None:
    appointment_id, _, _ = world.booked()
    assert world.planned(appointment_id) == {(k, c, DAY3) for k in KINDS for c in CHANNELS}
    confirmations = [d for d in world.rows(appointment_id) if d.kind == "confirmation"]
    assert sorted(d.channel for d in confirmations) == sorted(CHANNELS)


def test_reschedule_replaces_the_reminders_and_cancel_leaves_nothing(world: World) -> None:
    appointment_id, _, provider_id = world.booked()
    new_slot = create_slot(world.app, provider_id, DAY4)
    move = RescheduleAppointment(appointment_id=appointment_id, new_slot_id=new_slot)
    world.app.reschedule(move, as_staff())
    world.settle()
    assert world.planned(appointment_id) == {(k, c, DAY4) for k in KINDS for c in CHANNELS}
    assert {d.kind for d in world.rows(appointment_id)} >= {"confirmation", "reschedule"}
    world.app.cancel(CancelAppointment(appointment_id=appointment_id, reason="x"), as_staff())
    world.settle()
    assert world.planned(appointment_id) == set()
    assert "cancellation" in {d.kind for d in world.rows(appointment_id)}


def test_due_rows_are_sent_once_and_the_in_app_copy_is_written(world: World) -> None:
    appointment_id, patient_id, _ = world.booked()
    world.drain()  # the confirmations are due now
    confirmations = [d for d in world.rows(appointment_id) if d.kind == "confirmation"]
    assert {d.status for d in confirmations if d.channel != "in_app"} == {"sent"}
    assert [d.status for d in confirmations if d.channel == "in_app"] == ["delivered"]
    keys = {r.key for r in world.outbox.recent(1000)}
    assert {str(d.id) for d in confirmations if d.channel != "in_app"} <= keys
    # Running the job again for a sent delivery sends nothing more
    before = len(world.outbox.recent(1000))
    for delivery in confirmations:
        assert world.job.run(delivery.id) == "done"
    assert len(world.outbox.recent(1000)) == before
    world.clock.set(DAY3 - timedelta(hours=24))
    world.drain()
    day_before = [d for d in world.rows(appointment_id) if d.kind == "reminder_1440m"]
    assert {d.status for d in day_before} == {"sent", "delivered"}
    assert patient_id == day_before[0].patient_id


def test_a_reminder_for_an_appointment_moved_since_it_was_handed_out_is_skipped_stale(
    world: World,
) -> None:
    appointment_id, _, provider_id = world.booked()
    world.clock.set(DAY3 - timedelta(hours=2))
    claimed = world.store.claim_due(world.clock.now(), 1000)
    mine = [d for d in world.rows(appointment_id) if d.id in claimed and d.kind == "reminder_120m"]
    assert mine
    new_slot = create_slot(world.app, provider_id, DAY4)
    move = RescheduleAppointment(appointment_id=appointment_id, new_slot_id=new_slot)
    world.app.reschedule(move, as_staff())  # the policy has not caught up
    for delivery in mine:
        assert world.job.run(delivery.id) == "skipped"
    assert {
        (d.status, d.reason) for d in world.rows(appointment_id) if d.id in {m.id for m in mine}
    } == {("skipped", "stale")}
    world.settle()
    for other in claimed:
        world.job.run(other)


def test_stop_then_a_reminder_is_skipped_as_opted_out(world: World) -> None:
    appointment_id, patient_id, _ = world.booked()
    world.clock.set(DAY3 - timedelta(hours=24))
    claimed = world.store.claim_due(world.clock.now(), 1000)
    stop = RecordOptOut(patient_id=patient_id, channel="sms", given=False, source="inbound_stop")
    world.app.record_opt_out(stop, as_system())
    sms = [d for d in world.rows(appointment_id) if d.id in claimed and d.channel == "sms"]
    assert sms
    for delivery in sms:
        world.job.run(delivery.id)
    assert {
        (d.status, d.reason) for d in world.rows(appointment_id) if d.id in {s.id for s in sms}
    } == {("skipped", "opted_out")}
    world.settle()
    for other in claimed:
        world.job.run(other)


def test_racing_schedulers_hand_every_due_row_out_once(world: World) -> None:
    for _ in range(5):
        world.booked()
    world.clock.set(DAY4 + timedelta(days=1))  # past everything: the job skips them, too late
    queues = [Collected() for _ in range(4)]
    schedulers = [Scheduler(world.store, q, world.clock, batch=3) for q in queues]
    threads = [threading.Thread(target=s.tick) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    handed = [i for q in queues for i in q.ids]
    assert handed
    assert len(handed) == len(set(handed))
    assert world.store.claim_due(world.clock.now(), 1000) == []
