"""Recurring series on PostgreSQL: a 20-occurrence weekly series with one conflict in both
modes, stored in one atomic save (or not at all), and series racing for the same seats from
many applications at once never double-book."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from commands.appointments.messages import BookAppointment
from commands.scheduling import Scheduling
from commands.series.messages import BookSeries
from commands.structs import CommandResult
from domain.appointment import Appointment
from domain.errors import ConcurrencyError
from domain.series import Series, SeriesConflictError
from domain.slot import Slot
from infra.postgres.database import Database, eventstore_env
from tests.builders import (
    T0,
    as_patient,
    as_staff,
    create_slot,
    register_patient,
    register_provider,
)
from tests.fakes import FixedClock

BERLIN = ZoneInfo("Europe/Berlin")
FIRST = datetime(2026, 11, 24, 9, tzinfo=BERLIN)
WEEKS = 20
RACERS = 8


def weekly(provider_id: UUID, patient_id: UUID, mode: str) -> BookSeries:
    return BookSeries(
        provider_id=provider_id,
        first_start=FIRST,
        rrule=f"FREQ=WEEKLY;COUNT={WEEKS};BYDAY=TU",
        mode=mode,  # type: ignore[arg-type]
        patient_id=patient_id,
    )


def tuesdays(app: Scheduling, provider_id: UUID, capacity: int = 1) -> list[UUID]:
    return [
        create_slot(
            app, provider_id, (FIRST + timedelta(weeks=w)).astimezone(UTC), capacity=capacity
        )
        for w in range(WEEKS)
    ]


def test_a_twenty_week_series_with_one_conflict_in_both_modes(
    app: Scheduling, other_app: Scheduling
) -> None:
    provider_id = register_provider(app)
    slots = tuesdays(app, provider_id)
    first_comer = register_patient(app, "First Comer")
    app.book(BookAppointment(slot_id=slots[11]), as_patient(first_comer))
    patient_id = register_patient(app)
    head = app.head_position()

    with pytest.raises(SeriesConflictError) as refused:
        app.book_series(weekly(provider_id, patient_id, "all_or_nothing"), as_staff())
    assert [c["reason"] for c in refused.value.conflicts] == ["slot-full"]
    assert app.head_position() == head  # not one event stored
    assert all(
        other_app.load(Slot, s, "slot").free_seats(T0) == 1 for i, s in enumerate(slots) if i != 11
    )

    result = app.book_series(weekly(provider_id, patient_id, "partial"), as_staff())
    series = other_app.load(Series, result.id, "series")  # really persisted
    assert len(series.occurrences) == WEEKS - 1
    booked = [other_app.load(Appointment, a, "appointment") for a in series.occurrences.values()]
    assert {a.slot_id for a in booked} == set(slots) - {slots[11]}
    assert all(a.series_id == result.id for a in booked)
    # one save: every event of the series sits in one unbroken run of the log
    records = list(app.recorder.select_notifications(head + 1, 10_000))
    assert len({r.originator_id for r in records}) > WEEKS
    positions = [r.id for r in records]
    assert positions == list(range(positions[0], positions[0] + len(positions)))


@pytest.fixture
def racers(database: Database, scheduling_class: type[Scheduling]) -> Iterator[list[Scheduling]]:
    env = eventstore_env(database, pool_size=1)
    apps = [scheduling_class(env, clock=FixedClock(T0)) for _ in range(RACERS)]
    try:
        for racer in apps:
            racer.head_position()
        yield apps
    finally:
        for racer in apps:
            racer.close()


def race(
    apps: list[Scheduling], command: Callable[[Scheduling, int], CommandResult]
) -> list[CommandResult | Exception]:
    barrier = threading.Barrier(len(apps))

    def run(i: int) -> CommandResult | Exception:
        barrier.wait(timeout=30)
        try:
            return command(apps[i], i)
        except Exception as error:  # the outcome under test
            return error

    with ThreadPoolExecutor(max_workers=len(apps)) as pool:
        return list(pool.map(run, range(len(apps)), timeout=120))


def seats_taken(app: Scheduling, slots: list[UUID]) -> list[int]:
    return [len(app.load(Slot, s, "slot").allocations) for s in slots]


@pytest.mark.parametrize("mode", ["all_or_nothing", "partial"])
def test_series_racing_for_the_same_seats_never_double_book(
    app: Scheduling, racers: list[Scheduling], mode: str
) -> None:
    provider_id = register_provider(app)
    slots = tuesdays(app, provider_id)
    patients = [register_patient(app, f"Racer {i}") for i in range(RACERS)]
    outcomes = race(
        racers,
        lambda racer, i: racer.book_series(weekly(provider_id, patients[i], mode), as_staff()),
    )
    won = [o for o in outcomes if isinstance(o, CommandResult)]
    lost = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(e, SeriesConflictError | ConcurrencyError) for e in lost), lost
    assert seats_taken(app, slots) == [1] * WEEKS  # every seat once, none twice
    booked = [
        a for result in won for a in app.load(Series, result.id, "series").occurrences.values()
    ]
    assert len(booked) == len(set(booked)) == WEEKS
    holders = {next(iter(app.load(Slot, s, "slot").allocations)) for s in slots}
    assert holders == set(booked)
    if mode == "all_or_nothing":
        assert len(won) == 1
