"""Booking and holds: taking a seat, holding one, converting and expiring holds."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from commands.appointments.messages import (
    BookAppointment,
    ExpireHold,
)
from commands.scheduling import Scheduling
from domain.agenda import PatientAgenda
from domain.appointment import Status
from domain.errors import (
    AppointmentOverlapError,
    HoldExpiredError,
    NotFoundError,
    SlotFullError,
    SlotUnavailableError,
    TooEarlyError,
    ValidationError,
)
from domain.policies import BookingWindowError
from tests.builders import (
    HALF_HOUR,
    STAFF,
    SYSTEM,
    T0,
    TEN,
    appointment_of,
    as_,
    create_slot,
    patient,
    patient_books,
    patient_holds,
    patient_registers,
    register_provider,
    slot_of,
)
from tests.fakes import FixedClock

pytestmark = pytest.mark.unit


# --- booking and holds ------------------------------------------------------------------------


def test_a_patient_books_a_free_slot(app: Scheduling, patient_id: UUID, slot_id: UUID) -> None:
    result = app.book(BookAppointment(slot_id=slot_id, reason="cough"), as_(patient(patient_id)))

    appointment = appointment_of(app, result.id)
    assert appointment.status is Status.BOOKED
    assert (appointment.patient_id, appointment.slot_id) == (patient_id, slot_id)
    assert result.ids == {"slot_id": slot_id}
    assert result.position == app.head_position()
    assert result.replayed is False
    assert slot_of(app, slot_id).free_seats(T0) == 0
    agenda = app.load(PatientAgenda, PatientAgenda.create_id(patient_id, TEN.date()), "agenda")
    assert result.id in agenda.entries


def test_booking_a_full_slot_is_rejected(app: Scheduling, patient_id: UUID, slot_id: UUID) -> None:
    patient_books(app, patient_id, slot_id)
    with pytest.raises(SlotFullError):
        patient_books(app, patient_registers(app), slot_id)


def test_a_patient_cannot_book_two_overlapping_appointments(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    other_slot = create_slot(app, register_provider(app), TEN + timedelta(minutes=15))
    patient_books(app, patient_id, slot_id)
    head = app.head_position()

    with pytest.raises(AppointmentOverlapError):
        patient_books(app, patient_id, other_slot)

    assert app.head_position() == head
    assert slot_of(app, other_slot).free_seats(T0) == 1


def test_a_slot_refuses_an_appointment_type_it_does_not_offer(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    with pytest.raises(SlotUnavailableError):
        patient_books(app, patient_id, slot_id, appointment_type="video")


def test_booking_needs_either_a_slot_or_a_hold(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    with pytest.raises(ValidationError):
        app.book(BookAppointment(), as_(patient(patient_id)))
    both = BookAppointment(slot_id=slot_id, appointment_id=uuid4())
    with pytest.raises(ValidationError):
        app.book(both, as_(patient(patient_id)))


def test_booking_for_an_unregistered_patient_is_not_found(app: Scheduling, slot_id: UUID) -> None:
    with pytest.raises(NotFoundError):
        patient_books(app, uuid4(), slot_id)


def test_a_patient_cannot_book_a_slot_that_has_started_but_staff_can(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    clock.set(TEN + timedelta(minutes=5))
    with pytest.raises(BookingWindowError):
        patient_books(app, patient_id, slot_id)
    staff_booking = BookAppointment(slot_id=slot_id, patient_id=patient_id)
    app.book(staff_booking, as_(STAFF))


def test_a_hold_counts_until_it_expires_and_then_frees_the_seat_without_a_sweeper(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    held = patient_holds(app, patient_id, slot_id)
    assert appointment_of(app, held).status is Status.HELD
    other = patient_registers(app)
    with pytest.raises(SlotFullError):
        patient_books(app, other, slot_id)

    clock.advance(app.policies.hold)

    patient_books(app, other, slot_id)
    assert appointment_of(app, held).status is Status.HELD  # nobody swept it


def test_a_hold_lasts_the_policy_length_unless_the_command_asks_for_another(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    default = patient_holds(app, patient_id, slot_id)
    later_slot = create_slot(app, provider_id, TEN + HALF_HOUR)
    short = patient_holds(app, patient_id, later_slot, hold_minutes=3)

    assert appointment_of(app, default).hold_expires_at == T0 + app.policies.hold
    assert appointment_of(app, short).hold_expires_at == T0 + timedelta(minutes=3)
    assert slot_of(app, later_slot).allocations[short].expires_at == T0 + timedelta(minutes=3)


@pytest.mark.parametrize("minutes", [0, -5, 61])
def test_a_hold_length_outside_one_to_sixty_minutes_is_rejected(
    app: Scheduling, patient_id: UUID, slot_id: UUID, minutes: int
) -> None:
    with pytest.raises(ValidationError):
        patient_holds(app, patient_id, slot_id, hold_minutes=minutes)


def test_booking_a_live_hold_converts_it_into_a_booking(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    held = patient_holds(app, patient_id, slot_id)
    clock.advance(minutes=9)

    result = app.book(BookAppointment(appointment_id=held), as_(patient(patient_id)))

    assert result.id == held
    assert appointment_of(app, held).status is Status.BOOKED
    assert slot_of(app, slot_id).allocations[held].expires_at is None
    agenda = app.load(PatientAgenda, PatientAgenda.create_id(patient_id, TEN.date()), "agenda")
    assert agenda.entries[held].hold_expires_at is None
    clock.advance(hours=1)
    with pytest.raises(SlotFullError):
        patient_books(app, patient_registers(app), slot_id)


def test_booking_an_expired_hold_is_rejected(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    held = patient_holds(app, patient_id, slot_id)
    clock.advance(app.policies.hold)
    with pytest.raises(HoldExpiredError):
        app.book(BookAppointment(appointment_id=held), as_(patient(patient_id)))


def test_expiring_a_hold_releases_its_seat_once_it_has_run_out(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    held = patient_holds(app, patient_id, slot_id)
    with pytest.raises(TooEarlyError):
        app.expire_hold(ExpireHold(appointment_id=held), as_(SYSTEM))

    clock.advance(app.policies.hold)
    app.expire_hold(ExpireHold(appointment_id=held), as_(SYSTEM))

    assert appointment_of(app, held).status is Status.CANCELLED
    assert slot_of(app, slot_id).allocations == {}
