"""Audit metadata: every event says who, which command, which request and when."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from commands.appointments.messages import (
    BookAppointment,
    CancelAppointment,
)
from commands.context import CommandContext
from commands.scheduling import Scheduling
from domain.actor import EventMeta, Role
from tests.builders import (
    HALF_HOUR,
    STAFF,
    TEN,
    all_events,
    as_,
    create_slot,
    mornings,
    patient,
    patient_books,
    provider,
    register_provider,
)
from tests.fakes import FixedClock

pytestmark = pytest.mark.unit


# --- audit metadata ---------------------------------------------------------------------------


def test_every_event_in_the_log_carries_who_which_command_which_request_and_when(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    correlation, causation = uuid4(), uuid4()
    ctx = CommandContext(
        patient(patient_id), correlation_id=correlation, causation_id=causation, idempotency_key="k"
    )
    head = app.head_position()
    booked = app.book(BookAppointment(slot_id=slot_id), ctx)
    booking_events = all_events(app, after=head)
    app.cancel(CancelAppointment(appointment_id=booked.id, reason="x"), as_(STAFF))
    app.generate_slots(mornings(provider_id), as_(provider(provider_id)))

    events = all_events(app)

    assert len(events) == app.head_position()
    for event in events:
        meta = event.meta
        assert isinstance(meta, EventMeta), type(event).__qualname__
        assert isinstance(meta.actor_id, UUID)
        assert Role(meta.actor_role)
        assert isinstance(meta.correlation_id, UUID)
        assert isinstance(meta.causation_id, UUID)
        assert meta.command
        assert event.timestamp.tzinfo is not None
        assert event.timestamp.utcoffset() == timedelta(0)
    kinds = {type(e).__qualname__ for e in booking_events}
    assert {"Slot.SeatTaken", "Appointment.Scheduled", "PatientAgenda.Opened"} <= kinds
    assert "IdempotencyRecord.Recorded" in kinds
    for event in booking_events:
        assert event.meta == EventMeta(
            actor_id=patient_id,
            actor_role="patient",
            correlation_id=correlation,
            causation_id=causation,
            command="BookAppointment",
        )


def test_a_request_without_a_parent_is_its_own_cause(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    ctx = as_(patient(patient_id))
    head = app.head_position()
    patient_books(app, patient_id, slot_id)
    app.book(
        BookAppointment(slot_id=create_slot(app, register_provider(app), TEN + HALF_HOUR)), ctx
    )
    last = all_events(app, after=head)[-1]
    assert last.meta.causation_id == last.meta.correlation_id == ctx.correlation_id
