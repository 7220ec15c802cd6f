"""After booking: check-in, start, completion, cancellation, rescheduling, no-show."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from commands.appointments.messages import (
    BookAppointment,
    CancelAppointment,
    CheckIn,
    CompleteAppointment,
    ConfirmAppointment,
    MarkNoShow,
    RescheduleAppointment,
    RevertNoShow,
    StartAppointment,
)
from commands.scheduling import Scheduling
from domain.appointment import Appointment, Status
from domain.errors import (
    ConflictError,
    ForbiddenError,
    SlotFullError,
    TooEarlyError,
    TooLateError,
    ValidationError,
)
from domain.slot import Slot
from tests.builders import (
    STAFF,
    T0,
    TEN,
    all_events,
    appointment_of,
    as_,
    create_slot,
    patient,
    patient_books,
    patient_registers,
    provider,
    register_provider,
    slot_of,
)
from tests.fakes import FixedClock

pytestmark = pytest.mark.unit


# --- lifecycle --------------------------------------------------------------------------------


def test_an_appointment_goes_from_booking_to_completion(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    me = as_(patient(patient_id))
    doctor = as_(provider(provider_id))
    appointment_id = patient_books(app, patient_id, slot_id)

    app.confirm(ConfirmAppointment(appointment_id=appointment_id), me)
    assert appointment_of(app, appointment_id).status is Status.CONFIRMED
    clock.set(TEN - timedelta(minutes=10))
    app.check_in(CheckIn(appointment_id=appointment_id), me)
    assert appointment_of(app, appointment_id).status is Status.CHECKED_IN
    clock.set(TEN + timedelta(minutes=2))
    app.start(StartAppointment(appointment_id=appointment_id), doctor)
    assert appointment_of(app, appointment_id).status is Status.IN_PROGRESS
    clock.set(TEN + timedelta(minutes=25))
    complete = CompleteAppointment(appointment_id=appointment_id, notes="rest", vitals={"t": 37})
    app.complete(complete, doctor)

    appointment = appointment_of(app, appointment_id)
    assert appointment.status is Status.COMPLETED
    assert appointment.checked_in_at == TEN - timedelta(minutes=10)
    assert appointment.completed_at == TEN + timedelta(minutes=25)


@pytest.mark.parametrize(
    ("at", "error"),
    [(TEN - timedelta(minutes=31), TooEarlyError), (TEN + timedelta(minutes=16), TooLateError)],
    ids=["too-early", "too-late"],
)
def test_checking_in_outside_the_window_is_rejected(
    app: Scheduling,
    clock: FixedClock,
    patient_id: UUID,
    slot_id: UUID,
    at: datetime,
    error: type[Exception],
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    clock.set(at)
    with pytest.raises(error):
        app.check_in(CheckIn(appointment_id=appointment_id), as_(patient(patient_id)))


def test_checking_in_twice_is_rejected(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    clock.set(TEN)
    app.check_in(CheckIn(appointment_id=appointment_id), as_(STAFF))
    with pytest.raises(ConflictError):
        app.check_in(CheckIn(appointment_id=appointment_id), as_(STAFF))


def test_cancelling_gives_the_seat_back(app: Scheduling, patient_id: UUID, slot_id: UUID) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    cancel = CancelAppointment(appointment_id=appointment_id, reason="better")

    app.cancel(cancel, as_(patient(patient_id)))

    assert appointment_of(app, appointment_id).status is Status.CANCELLED
    patient_books(app, patient_registers(app), slot_id)


def test_a_late_cancellation_by_staff_records_the_fee(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    head = app.head_position()
    cancel = CancelAppointment(
        appointment_id=appointment_id, reason="sick", fee=Decimal("20"), currency="EUR"
    )

    app.cancel(cancel, as_(STAFF))

    [cancelled] = [e for e in all_events(app, after=head) if isinstance(e, Appointment.Cancelled)]
    assert (cancelled.late, cancelled.fee, cancelled.currency) == (True, Decimal("20"), "EUR")


def test_only_staff_may_charge_a_cancellation_fee_and_it_needs_a_currency(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    with_fee = CancelAppointment(appointment_id=appointment_id, reason="x", fee=Decimal("5"))
    with pytest.raises(ForbiddenError):
        app.cancel(with_fee, as_(patient(patient_id)))
    with pytest.raises(ValidationError):
        app.cancel(with_fee, as_(STAFF))
    assert appointment_of(app, appointment_id).status is Status.BOOKED


@pytest.mark.parametrize(
    ("fee", "currency"), [(Decimal("-1"), "EUR"), (Decimal("5"), "eur"), (Decimal("5"), "EURO")]
)
def test_a_cancellation_fee_must_be_a_non_negative_amount_in_an_iso_currency(
    app: Scheduling, patient_id: UUID, slot_id: UUID, fee: Decimal, currency: str
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    cancel = CancelAppointment(
        appointment_id=appointment_id, reason="x", fee=fee, currency=currency
    )
    with pytest.raises(ValidationError):
        app.cancel(cancel, as_(STAFF))


def test_cancelling_twice_does_not_release_the_seat_again(
    app: Scheduling, patient_id: UUID, provider_id: UUID
) -> None:
    slot_id = create_slot(app, provider_id, capacity=2)
    appointment_id = patient_books(app, patient_id, slot_id)
    cancel = CancelAppointment(appointment_id=appointment_id, reason="x")
    app.cancel(cancel, as_(STAFF))
    patient_books(app, patient_registers(app), slot_id)
    with pytest.raises(ConflictError):
        app.cancel(cancel, as_(STAFF))
    assert slot_of(app, slot_id).live_seats(T0) == 1


# --- rescheduling -----------------------------------------------------------------------------


def test_rescheduling_takes_the_new_seat_and_releases_the_old_one_in_one_save(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    new_slot = create_slot(app, provider_id, TEN + timedelta(hours=2))
    head = app.head_position()
    ctx = as_(patient(patient_id))

    result = app.reschedule(
        RescheduleAppointment(appointment_id=appointment_id, new_slot_id=new_slot), ctx
    )

    assert result.id == appointment_id
    assert result.ids == {"slot_id": new_slot}
    recorded = all_events(app, after=head)
    assert {e.meta.correlation_id for e in recorded} == {ctx.correlation_id}
    assert result.position == app.head_position() == head + len(recorded)
    taken = [e for e in recorded if isinstance(e, Slot.SeatTaken)]
    released = [e for e in recorded if isinstance(e, Slot.SeatReleased)]
    assert [(e.originator_id, e.appointment_id) for e in taken] == [(new_slot, appointment_id)]
    assert [(e.originator_id, e.appointment_id) for e in released] == [(slot_id, appointment_id)]
    assert any(isinstance(e, Appointment.Rescheduled) for e in recorded)
    moved = appointment_of(app, appointment_id)
    assert (moved.slot_id, moved.start) == (new_slot, TEN + timedelta(hours=2))


def test_the_old_slot_gets_its_seat_back_after_a_reschedule(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    new_slot = create_slot(app, provider_id, TEN + timedelta(hours=2))
    move = RescheduleAppointment(appointment_id=appointment_id, new_slot_id=new_slot)
    app.reschedule(move, as_(STAFF))

    assert slot_of(app, slot_id).free_seats(T0) == 1
    patient_books(app, patient_registers(app), slot_id)
    # The patient's agenda moved too: the old time is free for them elsewhere.
    patient_books(app, patient_id, create_slot(app, register_provider(app), TEN))


def test_rescheduling_into_a_full_slot_fails_and_leaves_the_old_booking_intact(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    full_slot = create_slot(app, provider_id, TEN + timedelta(hours=2))
    patient_books(app, patient_registers(app), full_slot)
    head = app.head_position()

    move = RescheduleAppointment(appointment_id=appointment_id, new_slot_id=full_slot)
    with pytest.raises(SlotFullError):
        app.reschedule(move, as_(patient(patient_id)))

    assert app.head_position() == head
    appointment = appointment_of(app, appointment_id)
    assert (appointment.slot_id, appointment.status) == (slot_id, Status.BOOKED)
    assert appointment_id in slot_of(app, slot_id).allocations


def test_only_staff_move_an_appointment_to_another_provider(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    app.confirm(ConfirmAppointment(appointment_id=appointment_id), as_(patient(patient_id)))
    other = register_provider(app)
    elsewhere = create_slot(app, other, TEN + timedelta(hours=2))
    move = RescheduleAppointment(appointment_id=appointment_id, new_slot_id=elsewhere)
    with pytest.raises(ForbiddenError):
        app.reschedule(move, as_(patient(patient_id)))
    app.reschedule(move, as_(STAFF))
    moved = appointment_of(app, appointment_id)
    assert (moved.provider_id, moved.slot_id) == (other, elsewhere)
    assert moved.status is Status.BOOKED  # a new provider: the confirmation does not carry over
    assert slot_of(app, slot_id).free_seats(TEN - timedelta(hours=1)) == 1


def test_a_reschedule_in_time_keeps_the_confirmation_and_recomputes_overbooking(
    app: Scheduling, provider_id: UUID, patient_id: UUID
) -> None:
    full = create_slot(app, provider_id, TEN, overbook_allowance=1)
    filler = patient_registers(app, "First In")
    patient_books(app, filler, full)
    overbooked = app.book(
        BookAppointment(slot_id=full, patient_id=patient_id, overbook=True), as_(STAFF)
    ).id
    assert appointment_of(app, overbooked).overbooked
    app.confirm(ConfirmAppointment(appointment_id=overbooked), as_(patient(patient_id)))
    free = create_slot(app, provider_id, TEN + timedelta(hours=3))
    move = RescheduleAppointment(appointment_id=overbooked, new_slot_id=free)
    app.reschedule(move, as_(patient(patient_id)))
    moved = appointment_of(app, overbooked)
    assert moved.status is Status.CONFIRMED
    assert not moved.overbooked


# --- no-show ----------------------------------------------------------------------------------


def test_staff_revert_a_no_show_recorded_after_the_grace_period(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    app.confirm(ConfirmAppointment(appointment_id=appointment_id), as_(patient(patient_id)))
    clock.set(TEN + timedelta(minutes=14))
    with pytest.raises(TooEarlyError):
        app.mark_no_show(MarkNoShow(appointment_id=appointment_id), as_(provider(provider_id)))

    clock.set(TEN + timedelta(minutes=15))
    app.mark_no_show(MarkNoShow(appointment_id=appointment_id), as_(provider(provider_id)))
    assert appointment_of(app, appointment_id).status is Status.NO_SHOW

    revert = RevertNoShow(appointment_id=appointment_id, reason="was in the waiting room")
    app.revert_no_show(revert, as_(STAFF))
    assert appointment_of(app, appointment_id).status is Status.CONFIRMED
