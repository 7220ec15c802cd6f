"""Who may act on which appointment, and whom a booking may be for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from commands.appointments.messages import (
    BookAppointment,
    CancelAppointment,
    CheckIn,
    ConfirmAppointment,
    HoldAppointment,
    MarkNoShow,
    RescheduleAppointment,
    RevertNoShow,
    StartAppointment,
)
from commands.scheduling import Scheduling
from domain.appointment import Status
from domain.errors import (
    ForbiddenError,
    NotFoundError,
    SlotFullError,
)
from tests.builders import (
    STAFF,
    TEN,
    appointment_of,
    as_,
    create_slot,
    patient,
    patient_books,
    patient_holds,
    patient_registers,
    provider,
)
from tests.fakes import FixedClock

pytestmark = pytest.mark.unit


# --- authorization ----------------------------------------------------------------------------


def test_a_patient_cannot_book_for_another_patient(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    other = patient_registers(app)
    with pytest.raises(ForbiddenError):
        app.book(BookAppointment(slot_id=slot_id, patient_id=other), as_(patient(patient_id)))
    with pytest.raises(ForbiddenError):
        app.hold(
            HoldAppointment(slot_id=slot_id, appointment_type="in_person", patient_id=other),
            as_(patient(patient_id)),
        )


def test_staff_must_name_the_patient_they_book_for(app: Scheduling, slot_id: UUID) -> None:
    with pytest.raises(ForbiddenError):
        app.book(BookAppointment(slot_id=slot_id), as_(STAFF))


def test_a_patient_cannot_see_or_act_on_another_patients_appointment(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    held = patient_holds(app, patient_id, create_slot(app, provider_id, TEN + timedelta(hours=1)))
    new_slot = create_slot(app, provider_id, TEN + timedelta(hours=2))
    stranger = as_(patient(patient_registers(app)))
    attempts: list[Callable[[], object]] = [
        lambda: app.confirm(ConfirmAppointment(appointment_id=appointment_id), stranger),
        lambda: app.check_in(CheckIn(appointment_id=appointment_id), stranger),
        lambda: app.cancel(CancelAppointment(appointment_id=appointment_id, reason="x"), stranger),
        lambda: app.reschedule(
            RescheduleAppointment(appointment_id=appointment_id, new_slot_id=new_slot), stranger
        ),
        lambda: app.book(BookAppointment(appointment_id=held), stranger),
    ]
    for attempt in attempts:
        with pytest.raises(NotFoundError):
            attempt()
    assert appointment_of(app, appointment_id).status is Status.BOOKED


def test_a_provider_cannot_act_on_another_providers_appointment(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    clock.set(TEN + timedelta(minutes=20))
    stranger = as_(provider(uuid4()))
    with pytest.raises(NotFoundError):
        app.mark_no_show(MarkNoShow(appointment_id=appointment_id), stranger)
    with pytest.raises(NotFoundError):
        app.start(StartAppointment(appointment_id=appointment_id), stranger)


def test_an_unknown_appointment_is_not_found(app: Scheduling) -> None:
    with pytest.raises(NotFoundError):
        app.confirm(ConfirmAppointment(appointment_id=uuid4()), as_(STAFF))


def test_only_staff_may_overbook(app: Scheduling, provider_id: UUID, patient_id: UUID) -> None:
    slot_id = create_slot(app, provider_id, overbook_allowance=1)
    patient_books(app, patient_registers(app), slot_id)
    for actor in (patient(patient_id), provider(provider_id)):
        command = BookAppointment(slot_id=slot_id, patient_id=patient_id, overbook=True)
        with pytest.raises(ForbiddenError):
            app.book(command, as_(actor))

    command = BookAppointment(slot_id=slot_id, patient_id=patient_id, overbook=True)
    appointment_id = app.book(command, as_(STAFF)).id

    assert appointment_of(app, appointment_id).overbooked is True
    with pytest.raises(SlotFullError):
        app.book(
            BookAppointment(slot_id=slot_id, patient_id=patient_registers(app), overbook=True),
            as_(STAFF),
        )


def test_only_staff_may_revert_a_no_show(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    clock.set(TEN + timedelta(minutes=20))
    app.mark_no_show(MarkNoShow(appointment_id=appointment_id), as_(STAFF))
    revert = RevertNoShow(appointment_id=appointment_id, reason="mistake")
    for actor in (patient(patient_id), provider(provider_id)):
        with pytest.raises(ForbiddenError):
            app.revert_no_show(revert, as_(actor))
    assert appointment_of(app, appointment_id).status is Status.NO_SHOW


def test_a_patient_cannot_mark_their_own_no_show(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    clock.set(TEN + timedelta(minutes=20))
    with pytest.raises(ForbiddenError):
        app.mark_no_show(MarkNoShow(appointment_id=appointment_id), as_(patient(patient_id)))
