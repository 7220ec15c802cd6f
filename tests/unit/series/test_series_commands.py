"""Booking a series on the in-memory application: all or nothing against an explicit partial
result, every occurrence checked in the write; cancelling and moving one, "this and following"
(the series splits) or all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from commands.appointments.messages import BookAppointment, CancelAppointment
from commands.scheduling import Scheduling
from commands.series.messages import BookSeries, CancelSeries, RescheduleSeries
from domain.appointment import Status
from domain.errors import ForbiddenError, NotFoundError
from domain.recurrence import RecurrenceError
from domain.series import Series, SeriesConflictError
from tests.builders import (
    T0,
    appointment_of,
    as_,
    as_patient,
    as_staff,
    create_slot,
    in_memory_app,
    patient,
    patient_registers,
    provider,
    register_provider,
    slot_of,
)
from tests.fakes import FixedClock

BERLIN = ZoneInfo("Europe/Berlin")
FIRST = datetime(2026, 11, 24, 9, tzinfo=BERLIN)  # a Tuesday, the day after T0
WEEKS = 20


@pytest.fixture
def app() -> Scheduling:
    return in_memory_app(FixedClock(T0))


@pytest.fixture
def provider_id(app: Scheduling) -> UUID:
    return register_provider(app)


@pytest.fixture
def slots(app: Scheduling, provider_id: UUID) -> list[UUID]:
    """Tuesdays at 09:00 Berlin for 20 weeks (CET throughout)."""
    return [
        create_slot(app, provider_id, (FIRST + timedelta(weeks=w)).astimezone(UTC))
        for w in range(WEEKS)
    ]


def weekly(
    provider_id: UUID, mode: str, patient_id: UUID | None = None, **more: object
) -> BookSeries:
    return BookSeries(
        provider_id=provider_id,
        first_start=FIRST,
        rrule=f"FREQ=WEEKLY;COUNT={WEEKS};BYDAY=TU",
        mode=mode,  # type: ignore[arg-type]
        patient_id=patient_id,
        **more,  # type: ignore[arg-type]
    )


def taken_by_someone_else(app: Scheduling, slot_id: UUID) -> None:
    other = patient_registers(app, "Someone Else")
    app.book(BookAppointment(slot_id=slot_id), as_patient(other))


def test_all_or_nothing_books_every_occurrence_in_one_save(
    app: Scheduling, provider_id: UUID, slots: list[UUID]
) -> None:
    patient_id = patient_registers(app)
    before = app.head_position()
    result = app.book_series(weekly(provider_id, "all_or_nothing", patient_id), as_staff())
    series, appointments = app.load_series(result.id, patient(patient_id))
    assert len(appointments) == WEEKS
    assert [a.slot_id for a in appointments] == slots
    assert all(a.series_id == series.id and a.status is Status.BOOKED for a in appointments)
    assert [a.recurrence_id for a in appointments] == sorted(series.occurrences)
    assert all(slot_of(app, s).free_seats(T0) == 0 for s in slots)
    # one atomic save: every event of the command in one contiguous stretch of the log
    assert result.position > before


def test_all_or_nothing_refuses_the_whole_series_naming_every_conflict(
    app: Scheduling, provider_id: UUID, slots: list[UUID]
) -> None:
    patient_id = patient_registers(app)
    taken_by_someone_else(app, slots[7])
    spare = create_slot(app, provider_id, (FIRST + timedelta(weeks=7, hours=1)).astimezone(UTC))
    head = app.head_position()
    with pytest.raises(SeriesConflictError) as refused:
        app.book_series(weekly(provider_id, "all_or_nothing", patient_id), as_staff())
    (conflict,) = refused.value.conflicts
    assert conflict["recurrence_id"] == (FIRST + timedelta(weeks=7)).astimezone(UTC).isoformat()
    assert conflict["reason"] == "slot-full"
    assert conflict["alternatives"][0]["slot_id"] == str(spare)
    assert app.head_position() == head  # nothing at all was stored
    assert slot_of(app, slots[0]).free_seats(T0) == 1


def test_partial_books_what_it_can_and_returns_the_refused(
    app: Scheduling, provider_id: UUID, slots: list[UUID]
) -> None:
    patient_id = patient_registers(app)
    taken_by_someone_else(app, slots[7])
    result = app.book_series(weekly(provider_id, "partial", patient_id), as_staff())
    series, appointments = app.load_series(result.id, as_staff().actor)
    assert len(appointments) == WEEKS - 1
    assert slots[7] not in {a.slot_id for a in appointments}
    (refusal,) = series.refused
    assert refusal["reason"] == "slot-full"


def test_a_patient_overlap_and_a_missing_slot_are_conflicts_too(
    app: Scheduling, provider_id: UUID, slots: list[UUID]
) -> None:
    patient_id = patient_registers(app)
    elsewhere = register_provider(app, name="Dr Other")
    clash = create_slot(app, elsewhere, (FIRST + timedelta(weeks=2)).astimezone(UTC))
    app.book(BookAppointment(slot_id=clash), as_patient(patient_id))
    command = BookSeries(
        provider_id=provider_id,
        first_start=FIRST,
        rrule=f"FREQ=WEEKLY;COUNT={WEEKS + 1}",
        mode="partial",
        patient_id=patient_id,
    )
    series = app.load(Series, app.book_series(command, as_staff()).id, "series")
    reasons = sorted(r["reason"] for r in series.refused)
    assert reasons == ["no-slot", "patient-overlap"]


def test_a_bad_rule_is_refused_before_anything_is_booked(
    app: Scheduling, provider_id: UUID, slots: list[UUID]
) -> None:
    patient_id = patient_registers(app)
    command = weekly(provider_id, "partial", patient_id)
    bad = BookSeries(
        **{
            **{f: getattr(command, f) for f in command.__struct_fields__},
            "rrule": "FREQ=HOURLY;COUNT=2",
        }
    )
    with pytest.raises(RecurrenceError, match="FREQ"):
        app.book_series(bad, as_staff())


def test_a_patient_books_only_their_own_series_and_sees_only_theirs(
    app: Scheduling, provider_id: UUID, slots: list[UUID]
) -> None:
    patient_id = patient_registers(app)
    with pytest.raises(ForbiddenError):
        app.book_series(weekly(provider_id, "partial", uuid4()), as_patient(patient_id))
    command = BookSeries(
        provider_id=provider_id, first_start=FIRST, rrule="FREQ=WEEKLY;COUNT=2", mode="partial"
    )
    series_id = app.book_series(command, as_patient(patient_id)).id
    stranger = patient_registers(app, "Stranger")
    with pytest.raises(NotFoundError):
        app.load_series(series_id, patient(stranger))
    with pytest.raises(NotFoundError):
        app.cancel_series(
            CancelSeries(series_id=series_id, scope="all", reason="x"), as_patient(stranger)
        )
    other_provider = register_provider(app, name="Dr Other")
    with pytest.raises(NotFoundError):
        app.load_series(series_id, provider(other_provider))
    assert app.load_series(series_id, provider(provider_id))[0].id == series_id


@pytest.fixture
def booked(app: Scheduling, provider_id: UUID, slots: list[UUID]) -> tuple[UUID, UUID]:
    patient_id = patient_registers(app)
    command = BookSeries(
        provider_id=provider_id, first_start=FIRST, rrule="FREQ=WEEKLY;COUNT=6", mode="partial"
    )
    return patient_id, app.book_series(command, as_patient(patient_id)).id


def nth(app: Scheduling, series_id: UUID, n: int) -> datetime:
    return sorted(app.load(Series, series_id, "series").occurrences)[n]


def test_cancelling_one_occurrence_leaves_the_others(
    app: Scheduling, booked: tuple[UUID, UUID]
) -> None:
    patient_id, series_id = booked
    cmd = CancelSeries(series_id=series_id, scope="one", recurrence_id=nth(app, series_id, 2))
    app.cancel_series(cmd, as_patient(patient_id))
    _, appointments = app.load_series(series_id, patient(patient_id))
    assert [a.status for a in appointments].count(Status.CANCELLED) == 1
    assert appointments[2].status is Status.CANCELLED


def test_cancelling_this_and_following_splits_the_series(
    app: Scheduling, booked: tuple[UUID, UUID]
) -> None:
    patient_id, series_id = booked
    at = nth(app, series_id, 3)
    cmd = CancelSeries(series_id=series_id, scope="following", recurrence_id=at)
    result = app.cancel_series(cmd, as_patient(patient_id))
    original, kept = app.load_series(series_id, patient(patient_id))
    child, gone = app.load_series(result.ids["new_series_id"], patient(patient_id))
    assert [a.status for a in kept] == [Status.BOOKED] * 3
    assert [a.status for a in gone] == [Status.CANCELLED] * 3
    assert child.split_from == series_id
    assert original.split_at == at
    assert all(a.series_id == child.id for a in gone)


def test_cancelling_all_frees_every_seat(
    app: Scheduling, booked: tuple[UUID, UUID], slots: list[UUID]
) -> None:
    patient_id, series_id = booked
    app.cancel_series(CancelSeries(series_id=series_id, scope="all"), as_patient(patient_id))
    assert all(slot_of(app, s).free_seats(T0) == 1 for s in slots[:6])
    with pytest.raises(Exception, match="no occurrence"):
        app.cancel_series(CancelSeries(series_id=series_id, scope="all"), as_patient(patient_id))


def test_moving_this_and_following_shifts_each_by_the_same_wall_time(
    app: Scheduling, provider_id: UUID, booked: tuple[UUID, UUID]
) -> None:
    patient_id, series_id = booked
    later = [
        create_slot(app, provider_id, (FIRST + timedelta(weeks=w, hours=2)).astimezone(UTC))
        for w in range(6)
    ]
    at = nth(app, series_id, 4)
    cmd = RescheduleSeries(
        series_id=series_id,
        scope="following",
        recurrence_id=at,
        new_start=at + timedelta(hours=2),
    )
    result = app.reschedule_series(cmd, as_patient(patient_id))
    _, moved = app.load_series(result.ids["new_series_id"], patient(patient_id))
    assert [a.slot_id for a in moved] == later[4:]
    assert [a.recurrence_id for a in moved] == [at, nth(app, result.ids["new_series_id"], 1)]


def test_moving_all_refuses_every_occurrence_without_a_seat_and_moves_none(
    app: Scheduling, provider_id: UUID, booked: tuple[UUID, UUID]
) -> None:
    patient_id, series_id = booked
    for w in (0, 1, 2, 3, 5):
        create_slot(app, provider_id, (FIRST + timedelta(weeks=w, hours=2)).astimezone(UTC))
    cmd = RescheduleSeries(
        series_id=series_id, scope="all", new_start=nth(app, series_id, 0) + timedelta(hours=2)
    )
    with pytest.raises(SeriesConflictError) as refused:
        app.reschedule_series(cmd, as_patient(patient_id))
    assert [c["reason"] for c in refused.value.conflicts] == ["no-slot"]
    _, appointments = app.load_series(series_id, patient(patient_id))
    assert all(a.reschedule_count == 0 for a in appointments)


def test_an_occurrence_cancelled_on_its_own_stays_out_of_a_later_move(
    app: Scheduling, provider_id: UUID, booked: tuple[UUID, UUID]
) -> None:
    patient_id, series_id = booked
    _, appointments = app.load_series(series_id, patient(patient_id))
    app.cancel(
        CancelAppointment(appointment_id=appointments[0].id, reason="away"),
        as_patient(patient_id),
    )
    slot = create_slot(app, provider_id, (FIRST + timedelta(weeks=1, hours=3)).astimezone(UTC))
    cmd = RescheduleSeries(
        series_id=series_id,
        scope="one",
        recurrence_id=nth(app, series_id, 1),
        new_start=nth(app, series_id, 1) + timedelta(hours=3),
    )
    app.reschedule_series(cmd, as_(patient(patient_id)))
    assert appointment_of(app, appointments[1].id).slot_id == slot
    assert appointment_of(app, appointments[0].id).status is Status.CANCELLED
