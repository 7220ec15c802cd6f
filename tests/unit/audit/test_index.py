"""The auditor's index of the event log (projections/audit/index.py), read from events as the
event store holds them: each event's actor, command and request chain, the patient an aggregate
concerns, and an idempotency record's key; personal values are never looked at."""

from __future__ import annotations

from uuid import UUID

from commands.appointments.messages import BookAppointment
from commands.context import CommandContext
from projections.audit.chain import LogRecord
from projections.audit.index import IndexedEvent, indexed
from tests.builders import (
    T0,
    create_slot,
    in_memory_app,
    patient,
    patient_registers,
    register_provider,
)
from tests.fakes import FixedClock


def stored_index() -> tuple[list[IndexedEvent], UUID, UUID]:
    app = in_memory_app(FixedClock(T0))
    provider = register_provider(app)
    slot = create_slot(app, provider)
    patient_id = patient_registers(app)
    context = CommandContext(patient(patient_id), idempotency_key="key-1")
    app.book(BookAppointment(slot_id=slot), context)
    found = []
    start = 1
    while notifications := app.notification_log.select(start, 10):
        found += [
            indexed(
                LogRecord(n.id, UUID(str(n.originator_id)), n.originator_version, n.topic, n.state)
            )
            for n in notifications
        ]
        start = notifications[-1].id + 1
    return found, patient_id, context.correlation_id


def test_each_event_names_its_actor_command_and_request_chain() -> None:
    events, patient_id, correlation = stored_index()
    booking = [e for e in events if e.command == "BookAppointment"]
    assert {e.actor_id for e in booking} == {patient_id}
    assert {e.actor_role for e in booking} == {"patient"}
    assert {e.correlation_id for e in booking} == {correlation}
    assert all(e.recorded_at is not None for e in events)


def test_the_patient_and_their_appointment_and_agenda_concern_the_patient() -> None:
    events, patient_id, _ = stored_index()
    concerning = {e.topic.rsplit(":", 1)[1] for e in events if e.patient_id == patient_id}
    assert concerning == {"Patient.Registered", "Appointment.Scheduled", "PatientAgenda.Opened"}
    assert all(e.patient_id is None for e in events if e.topic.startswith("domain.slot:"))


def test_an_idempotency_record_carries_its_key() -> None:
    events, _, _ = stored_index()
    keys = [e.idempotency_key for e in events if e.idempotency_key is not None]
    assert keys == ["key-1"]


def test_bytes_that_are_not_an_event_index_as_nothing_but_their_identity() -> None:
    record = LogRecord(7, UUID(int=1), 1, "x", b"\xff not json")
    found = indexed(record)
    assert (found.position, found.aggregate_id, found.actor_id, found.patient_id) == (
        7, UUID(int=1), None, None,
    )  # fmt: skip
