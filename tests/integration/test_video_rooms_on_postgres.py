"""The room policy on PostgreSQL: the video projection run by eventsourcing's ProjectionRunner
follows the log, and the RoomKeeper acts on its plans through the loopback provider, recording
what it did. Rooms open the lead before the start (at once inside it) and once, even with two
keepers racing; they move with a reschedule and close on completion and cancellation; in-person
visits never get one; webhook events fill the read model."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.projection import ProjectionRunner
from psycopg_pool import ConnectionPool

from commands.appointments.messages import (
    CancelAppointment,
    CheckIn,
    CompleteAppointment,
    RescheduleAppointment,
    StartAppointment,
)
from commands.context import CommandContext
from commands.ports import RoomSpec
from commands.scheduling import Scheduling
from commands.telehealth.messages import RecordVideoEvent
from domain.actor import Actor, Role
from domain.appointment import Appointment
from domain.video_room import VideoRoom
from domain.video_visit import room_id, room_name
from infra.postgres.database import Database
from infra.postgres.pool import connection_pool
from infra.postgres.read_models.video import PostgresVideoQueries
from infra.postgres.rows import PostgresRowView
from infra.video.loopback import LoopbackRooms
from projections.video import VideoProjection
from tests.builders import TEN, as_staff, book, create_slot, patient_registers, register_provider
from tests.fakes import FixedClock
from workers.video_policy import RoomKeeper

SPEC = RoomSpec("", timedelta(minutes=20), timedelta(minutes=2), 4)
WEBHOOK = CommandContext(Actor(UUID(int=7), Role.SYSTEM))


@pytest.fixture(scope="module")
def pool(database: Database) -> Iterator[ConnectionPool[Any]]:
    with connection_pool(database.conninfo, 4) as opened:
        yield opened


@pytest.fixture(scope="module")
def runner(
    store_env: dict[str, str], scheduling_class: type[Scheduling]
) -> Iterator[ProjectionRunner[Any, Any]]:
    with ProjectionRunner(
        application_class=scheduling_class,
        projection_class=VideoProjection,
        view_class=PostgresRowView,
        env=store_env,
    ) as running:
        yield running


@pytest.fixture
def queries(pool: ConnectionPool[Any]) -> PostgresVideoQueries:
    return PostgresVideoQueries(pool)


@dataclass
class World:
    """The application, the running video projection, the keeper and its loopback provider."""

    app: Scheduling
    runner: ProjectionRunner[Any, Any]
    keeper: RoomKeeper
    rooms: LoopbackRooms
    clock: FixedClock
    queries: PostgresVideoQueries

    def settle(self) -> None:
        self.runner.wait(self.app.head_position(), timeout=10)

    def tick(self) -> None:
        self.settle()
        self.keeper.tick()
        self.settle()

    def visit(self, start: datetime = TEN, kind: str = "video") -> UUID:
        provider_id = register_provider(self.app)
        patient_id = patient_registers(self.app)
        types = ["in_person", "video"]
        slot_id = create_slot(self.app, provider_id, start, appointment_types=types)
        return book(self.app, slot_id, patient_id, appointment_type=kind).id

    def opened(self, start: datetime) -> UUID:
        """A video visit whose room the keeper opened 5 minutes before its start."""
        visit = self.visit(start)
        self.clock.set(start - timedelta(minutes=5))
        self.tick()
        return visit

    def calls_for(self, visit: UUID) -> list[str]:
        """What the provider was asked for this visit's room (the module's other visits share
        the database, and their rooms close as the clock moves on)."""
        return [kind for kind, name in self.rooms.calls if name == room_name(visit)]

    def room(self, visit: UUID) -> VideoRoom:
        return self.app.load(VideoRoom, room_id(visit), "room")


@pytest.fixture
def world(
    app: Scheduling,
    runner: ProjectionRunner[Any, Any],
    queries: PostgresVideoQueries,
    clock: FixedClock,
) -> World:
    rooms = LoopbackRooms()
    keeper = RoomKeeper(app, queries, rooms, clock, SPEC)
    return World(app, runner, keeper, rooms, clock, queries)


def test_a_room_opens_the_lead_before_the_start_once(world: World) -> None:
    visit = world.visit()
    world.clock.set(TEN - timedelta(minutes=11))
    world.tick()
    assert world.calls_for(visit) == []
    world.clock.set(TEN - timedelta(minutes=10))
    world.tick()
    world.tick()
    assert world.calls_for(visit) == ["open"]
    assert world.rooms.open_rooms[room_name(visit)].empty_timeout == timedelta(minutes=20)
    room = world.room(visit)
    assert (room.is_open, room.provider, room.version) == (True, "loopback", 1)
    found = world.queries.visit(visit)
    assert found is not None
    assert (found.status, found.room_name) == ("open", room_name(visit))


def test_two_keepers_racing_record_one_opening(
    world: World, scheduling_class: type[Scheduling], store_env: dict[str, str]
) -> None:
    visit = world.visit(TEN + timedelta(hours=1))
    world.clock.set(TEN + timedelta(minutes=55))
    world.settle()
    apps = [scheduling_class(store_env, clock=world.clock) for _ in range(4)]
    try:
        keepers = [RoomKeeper(a, world.queries, world.rooms, world.clock, SPEC) for a in apps]
        barrier = threading.Barrier(len(keepers))

        def race(keeper: RoomKeeper) -> None:
            barrier.wait()
            keeper.tick()

        threads = [threading.Thread(target=race, args=(k,)) for k in keepers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for a in apps:
            a.close()
    assert world.room(visit).version == 1  # one Opened, whatever the provider was asked
    # Each keeper asked the provider (which finds the room by name); one opening is recorded.
    assert world.calls_for(visit) == ["open"] * 4


def test_a_visit_booked_inside_the_lead_gets_its_room_at_once(world: World) -> None:
    world.clock.set(TEN + timedelta(hours=2) - timedelta(minutes=3))
    visit = world.visit(TEN + timedelta(hours=2))
    world.tick()
    assert world.calls_for(visit) == ["open"]


def test_an_in_person_visit_never_gets_a_room(world: World) -> None:
    start = TEN + timedelta(hours=3)
    visit = world.visit(start, kind="in_person")
    for minutes in (-10, 0, 20):
        world.clock.set(start + timedelta(minutes=minutes))
        world.tick()
    assert world.calls_for(visit) == []
    assert world.queries.visit(visit) is None


def test_a_cancelled_visits_room_is_closed(world: World) -> None:
    visit = world.opened(TEN + timedelta(hours=4))
    world.app.cancel(CancelAppointment(appointment_id=visit, reason="ill"), as_staff())
    world.tick()
    world.tick()
    assert world.calls_for(visit) == ["open", "close"]
    room = world.room(visit)
    assert (room.is_open, room.closed_reason) == (False, "cancelled")


def test_a_completed_visits_room_is_closed(world: World) -> None:
    start = TEN + timedelta(hours=5)
    visit = world.opened(start)
    world.app.check_in(CheckIn(appointment_id=visit), as_staff())
    world.clock.set(start + timedelta(minutes=1))
    world.app.start(StartAppointment(appointment_id=visit), as_staff())
    world.clock.set(start + timedelta(minutes=25))
    world.app.complete(CompleteAppointment(appointment_id=visit), as_staff())
    world.tick()
    room = world.room(visit)
    assert (room.is_open, room.closed_reason) == (False, "completed")
    assert world.calls_for(visit) == ["open", "close"]


def test_a_reschedule_moves_the_room(world: World) -> None:
    start = TEN + timedelta(hours=6)
    visit = world.opened(start)
    appointment = world.app.load(Appointment, visit, "appointment")
    later = start + timedelta(days=1)
    types = ["in_person", "video"]
    new_slot = create_slot(world.app, appointment.provider_id, later, appointment_types=types)
    move = RescheduleAppointment(appointment_id=visit, new_slot_id=new_slot)
    world.app.reschedule(move, as_staff())
    world.tick()  # not due any more: closed until the new time
    room = world.room(visit)
    assert (room.is_open, room.closed_reason) == (False, "moved")
    world.clock.set(later - timedelta(minutes=10))
    world.tick()
    room = world.room(visit)
    assert (room.is_open, room.start) == (True, later)
    assert world.calls_for(visit) == ["open", "close", "open"]


def test_joins_and_leaves_fill_the_read_model(world: World) -> None:
    start = TEN + timedelta(hours=7)
    visit = world.opened(start)
    appointment = world.app.load(Appointment, visit, "appointment")
    patient, provider = f"patient:{appointment.patient_id}", f"provider:{appointment.provider_id}"
    steps = [
        ("e1", "participant_joined", patient, -4),
        ("e2", "participant_joined", provider, 1),
        ("e3", "participant_left", patient, 3),
        ("e4", "participant_joined", patient, 4),
        ("e4", "participant_joined", patient, 4),  # redelivered
        ("e5", "participant_left", patient, 20),
        ("e6", "participant_left", provider, 21),
    ]
    for event_id, kind, identity, minute in steps:
        command = RecordVideoEvent(
            appointment_id=visit,
            event_id=event_id,
            kind=kind,  # type: ignore[arg-type]
            identity=identity,
            at=start + timedelta(minutes=minute),
            disconnect_reason="client_initiated" if kind == "participant_left" else None,
        )
        world.app.record_video_event(command, WEBHOOK)
    world.settle()
    found = world.queries.visit(visit)
    assert found is not None
    people = {p.identity: p for p in found.participants}
    assert people[patient].reconnects == 1
    assert people[patient].seconds_in_room == (7 + 16) * 60
    assert people[provider].seconds_in_room == 20 * 60
    assert people[patient].last_disconnect_reason == "client_initiated"
    assert found.patient_wait_seconds == 5 * 60
    assert found.duration_seconds == 25 * 60


def test_a_patient_who_never_joins_is_a_no_show_candidate(world: World) -> None:
    start = TEN + timedelta(hours=8)
    visit = world.opened(start)
    grace = timedelta(minutes=15)
    patient_id = world.app.load(Appointment, visit, "appointment").patient_id

    def candidates(now: datetime) -> list[UUID]:
        found = world.queries.no_show_candidates(now, grace, 100)
        return [c.appointment_id for c in found if c.patient_id == patient_id]

    assert visit not in candidates(start + timedelta(minutes=14))
    assert visit in candidates(start + timedelta(minutes=15))
    appointment = world.app.load(Appointment, visit, "appointment")
    assert appointment.status.value == "booked"  # staff decide, not the policy
