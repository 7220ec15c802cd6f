"""Events recorded before personal data was wrapped (plain values, no class version) still
load: the upcasters wrap what names its subject (a patient's details, a booking's reason and
symptoms), and what does not (a completion's notes) reads as plain text, which projections take
too. The stored bytes are made as the old code made them."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent, Transcoding

from commands.appointments.messages import CheckIn, CompleteAppointment, StartAppointment
from commands.directory.messages import PatientDetails, RegisterPatient
from commands.scheduling import Scheduling
from domain.appointment import Appointment
from domain.patient import Patient
from domain.personal import PersonalData
from projections import scheduling as read_model
from projections.changes import Upsert
from projections.search_documents import note_document
from tests.builders import (
    IN_MEMORY,
    T0,
    TEN,
    as_staff,
    book,
    create_slot,
    in_memory_app,
    register_provider,
)
from tests.fakes import FixedClock, InMemoryKeyStore


class PlainPersonal(Transcoding):
    """Keeps a personal value in clear beside its subject; `_unwrapped` then leaves the plain
    value alone, as events were stored before wrapping."""

    type = PersonalData
    name = "personal"

    def encode(self, obj: PersonalData) -> Any:
        return {"subject": obj.subject.hex, "value": obj.value}

    def decode(self, data: Any) -> PersonalData:
        return PersonalData(UUID(data["subject"]), data["value"])


def _unwrapped(state: Any) -> Any:
    if isinstance(state, dict):
        if state.get("_type_") == "personal":
            return state["_data_"]["value"]
        return {k: _unwrapped(v) for k, v in state.items() if k != "class_version"}
    if isinstance(state, list):
        return [_unwrapped(item) for item in state]
    return state


def old_log() -> tuple[list[StoredEvent], UUID, UUID]:
    """A patient registered, booked and seen, stored in the old format."""
    clock = FixedClock(T0)
    keys = InMemoryKeyStore()
    old = Scheduling(IN_MEMORY, clock=clock, personal_data=PlainPersonal(), keys=keys)
    provider = register_provider(old)
    details = PatientDetails(name="Old Timer", time_zone="UTC", phone="+4930111")
    patient_id = old.register_patient(RegisterPatient(details=details), as_staff()).id
    appointment_id = book(
        old, create_slot(old, provider, TEN), patient_id, reason="old pain", symptoms=["ache"]
    ).id
    clock.set(TEN)
    old.check_in(CheckIn(appointment_id=appointment_id), as_staff())
    old.start(StartAppointment(appointment_id=appointment_id), as_staff())
    old.complete(CompleteAppointment(appointment_id=appointment_id, notes="old notes"), as_staff())
    stored = []
    for n in old.recorder.select_notifications(start=1, limit=1000):
        state = _unwrapped(json.loads(n.state))
        stored.append(
            StoredEvent(n.originator_id, n.originator_version, n.topic, json.dumps(state).encode())
        )
    return stored, patient_id, appointment_id


def test_old_events_with_plain_personal_values_load_wrapped_or_as_text() -> None:
    stored, patient_id, appointment_id = old_log()
    raw = b"".join(s.state for s in stored)
    assert b"Old Timer" in raw  # truly the old, clear format
    assert b"class_version" not in raw

    app = in_memory_app()
    app.recorder.insert_events(stored)

    patient = app.load(Patient, patient_id, "patient")
    assert patient.details["name"] == PersonalData(patient_id, "Old Timer")
    assert patient.details["phone"] == PersonalData(patient_id, "+4930111")
    assert patient.details["time_zone"] == "UTC"
    appointment = app.load(Appointment, appointment_id, "appointment")
    assert appointment.reason == PersonalData(patient_id, "old pain")
    assert appointment.symptoms == PersonalData(patient_id, ["ache"])
    assert appointment.notes == "old notes"  # Completed does not name its patient: plain
    note = note_document(appointment)
    assert note is not None
    assert note.notes == "old notes"


def test_the_read_model_projects_old_events_as_it_projects_new_ones() -> None:
    stored, patient_id, appointment_id = old_log()
    app = in_memory_app()
    app.recorder.insert_events(stored)
    events = [
        app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(start=1, limit=99)
    ]
    upserts = [c for e in events for c in read_model.changes_for(e) if isinstance(c, Upsert)]
    patient_row = next(c for c in upserts if c.key == {"id": patient_id})
    visit_row = next(c for c in upserts if c.key == {"id": appointment_id})
    assert patient_row.values["name"] == "Old Timer"
    assert visit_row.values["reason"] == "old pain"
