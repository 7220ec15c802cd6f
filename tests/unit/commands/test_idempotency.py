"""Idempotency keys: a repeated command replays its first result."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from commands.application import IdempotencyKeyReusedError
from commands.appointments.messages import (
    BookAppointment,
    HoldAppointment,
)
from commands.scheduling import Scheduling
from commands.slots.messages import (
    UnblockWindow,
)
from domain.appointment import Status
from domain.errors import (
    SlotUnavailableError,
)
from tests.builders import (
    HALF_HOUR,
    STAFF,
    TEN,
    appointment_of,
    as_,
    block,
    create_slot,
    patient,
    patient_registers,
)

pytestmark = pytest.mark.unit


# --- idempotency ------------------------------------------------------------------------------


def test_repeating_a_command_with_the_same_key_replays_the_first_result(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    ctx = as_(patient(patient_id), key="booking-1")
    first = app.book(BookAppointment(slot_id=slot_id), ctx)
    head = app.head_position()

    again = app.book(BookAppointment(slot_id=slot_id), ctx)

    assert again.replayed is True
    assert (again.id, again.ids) == (first.id, first.ids)
    assert app.head_position() == head
    assert again.position >= first.position


def test_reusing_a_key_with_a_different_request_is_rejected(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    ctx = as_(patient(patient_id), key="booking-1")
    app.book(BookAppointment(slot_id=slot_id), ctx)
    other_slot = create_slot(app, provider_id, TEN + timedelta(hours=1))
    with pytest.raises(IdempotencyKeyReusedError):
        app.book(BookAppointment(slot_id=other_slot), ctx)
    with pytest.raises(IdempotencyKeyReusedError):
        app.hold(HoldAppointment(slot_id=slot_id, appointment_type="in_person"), ctx)


def test_different_actors_with_the_same_key_are_independent(
    app: Scheduling, provider_id: UUID, patient_id: UUID
) -> None:
    slot_id = create_slot(app, provider_id, capacity=2)
    other = patient_registers(app)

    mine = app.book(BookAppointment(slot_id=slot_id), as_(patient(patient_id), key="k"))
    theirs = app.book(BookAppointment(slot_id=slot_id), as_(patient(other), key="k"))

    assert theirs.replayed is False
    assert theirs.id != mine.id
    assert appointment_of(app, theirs.id).patient_id == other


def test_a_failed_command_does_not_use_up_its_key(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    ctx = as_(patient(patient_id), key="k")
    block(app, provider_id, TEN, TEN + HALF_HOUR)
    with pytest.raises(SlotUnavailableError):
        app.book(BookAppointment(slot_id=slot_id), ctx)
    app.unblock_window(
        UnblockWindow(provider_id=provider_id, start=TEN, end=TEN + HALF_HOUR), as_(STAFF)
    )

    result = app.book(BookAppointment(slot_id=slot_id), ctx)

    assert result.replayed is False
    assert appointment_of(app, result.id).status is Status.BOOKED
