"""Real races on the real database: many applications, each with its own connection pool,
issue their command at the same instant. The aggregates' versions decide who wins."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from uuid import UUID

import pytest

from commands.appointments.messages import BookAppointment
from commands.scheduling import Scheduling
from commands.structs import CommandResult
from domain.agenda import PatientAgenda
from domain.appointment import Appointment
from domain.errors import AppointmentOverlapError, ConcurrencyError, SlotFullError
from domain.slot import Slot
from infra.postgres.database import Database, eventstore_env
from tests.builders import (
    T0,
    as_patient,
    book,
    create_slot,
    events_between,
    register_patient,
    register_provider,
)
from tests.fakes import FixedClock

RACERS = 16
TEN = T0 + timedelta(hours=2)

Outcome = CommandResult | Exception


@pytest.fixture
def racers(database: Database, scheduling_class: type[Scheduling]) -> Iterator[list[Scheduling]]:
    """One application per racer, each with a pool of its own (one connection, one spare)."""
    env = eventstore_env(database, pool_size=1)
    apps = [scheduling_class(env, clock=FixedClock(T0)) for _ in range(RACERS)]
    try:
        for racer in apps:
            racer.head_position()  # connect now, so the race is not decided by connecting
        yield apps
    finally:
        for racer in apps:
            racer.close()


def race(
    apps: list[Scheduling], command: Callable[[Scheduling, int], CommandResult]
) -> list[Outcome]:
    """Run `command(app, i)` in one thread per app, all released at once by a barrier."""
    barrier = threading.Barrier(len(apps))

    def run(i: int) -> Outcome:
        barrier.wait(timeout=30)
        try:
            return command(apps[i], i)
        except Exception as error:  # the outcome under test, successful or not
            return error

    with ThreadPoolExecutor(max_workers=len(apps)) as pool:
        return list(pool.map(run, range(len(apps)), timeout=60))


def successes(outcomes: list[Outcome]) -> list[CommandResult]:
    return [o for o in outcomes if isinstance(o, CommandResult)]


def failures(outcomes: list[Outcome]) -> list[Exception]:
    return [o for o in outcomes if isinstance(o, Exception)]


def test_patients_racing_for_a_one_seat_slot_get_exactly_one_booking(
    app: Scheduling, other_app: Scheduling, racers: list[Scheduling]
) -> None:
    slot_id = create_slot(app, register_provider(app), TEN, capacity=1)
    patients = [register_patient(app) for _ in range(RACERS)]
    before = app.head_position()

    outcomes = race(racers, lambda racer, i: book(racer, slot_id, patients[i]))

    (winner,) = successes(outcomes)
    lost = failures(outcomes)
    assert len(lost) == RACERS - 1
    assert all(isinstance(e, SlotFullError | ConcurrencyError) for e in lost), lost
    slot = other_app.load(Slot, slot_id, "slot")
    assert list(slot.allocations) == [winner.id]
    scheduled = [
        e
        for e in events_between(app, before, app.head_position())
        if type(e).__qualname__ == "Appointment.Scheduled"
    ]
    assert [e.originator_id for e in scheduled] == [winner.id]


def test_one_patient_racing_for_overlapping_slots_of_different_providers_gets_one_booking(
    app: Scheduling, other_app: Scheduling, racers: list[Scheduling]
) -> None:
    slot_ids = [
        create_slot(app, register_provider(app), TEN + timedelta(minutes=i % 3), capacity=5)
        for i in range(RACERS)
    ]
    patient_id = register_patient(app)

    outcomes = race(racers, lambda racer, i: book(racer, slot_ids[i], patient_id))

    (winner,) = successes(outcomes)
    lost = failures(outcomes)
    assert all(isinstance(e, AppointmentOverlapError | ConcurrencyError) for e in lost), lost
    agenda = other_app.load(
        PatientAgenda, PatientAgenda.create_id(patient_id, TEN.date()), "agenda"
    )
    assert list(agenda.entries) == [winner.id]
    seats = {s: list(other_app.load(Slot, s, "slot").allocations) for s in slot_ids}
    assert {s: a for s, a in seats.items() if a} == {winner.ids["slot_id"]: [winner.id]}


def test_one_idempotency_key_sent_by_many_at_once_books_once(
    app: Scheduling, other_app: Scheduling, racers: list[Scheduling]
) -> None:
    slot_id = create_slot(app, register_provider(app), TEN, capacity=1)
    patient_id = register_patient(app)
    command = BookAppointment(slot_id=slot_id)

    outcomes = race(
        racers, lambda racer, _: racer.book(command, as_patient(patient_id, key="book-once"))
    )

    assert failures(outcomes) == []
    results = successes(outcomes)
    assert {r.id for r in results} == {results[0].id}
    assert [r.replayed for r in results].count(False) == 1
    appointment_id: UUID = results[0].id
    assert list(other_app.load(Slot, slot_id, "slot").allocations) == [appointment_id]
    assert other_app.load(Appointment, appointment_id, "appointment").patient_id == patient_id
