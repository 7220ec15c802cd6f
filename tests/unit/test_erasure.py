"""Erasure and legal holds: the Patient's rules (given events / when / then), the use cases on
the in-memory application with real encryption (the key is destroyed, every personal value of
that patient reads as erased, no one else's), and a live read model equal to a rebuilt one.
The HTTP routes are in test_erasure_api.py."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import Tracking

from commands.appointments.messages import CancelAppointment, CheckIn, CompleteAppointment
from commands.appointments.messages import StartAppointment as Start
from commands.directory.messages import (
    ErasePatient,
    PatientDetails,
    RegisterPatient,
    SetLegalHold,
    UpdatePatient,
)
from commands.scheduling import Scheduling
from domain.appointment import Appointment
from domain.errors import NotFoundError
from domain.patient import ErasureReason, LegalHoldError, Patient
from domain.personal import ERASED, PersonalData, SubjectErasedError
from projections import analytics, scheduling
from projections.search_documents import note_document
from tests.builders import (
    META,
    T0,
    TEN,
    as_patient,
    as_staff,
    book,
    create_slot,
    in_memory_app,
    register_provider,
)
from tests.fakes import FixedClock, InMemoryKeyStore, MemoryRows

REQUEST = ErasureReason.PATIENT_REQUEST


def registered() -> Patient:
    details = {"name": "Ada Byron", "time_zone": "Europe/London", "phone": "+442071234567"}
    patient = Patient.register(uuid4(), details, T0.date(), META)
    patient.collect_events()
    return patient


# --- the aggregate ----------------------------------------------------------------------------


def test_registration_records_personal_details_as_the_patients_data_and_codes_in_clear() -> None:
    patient_id = uuid4()
    details = {"name": "Ada Byron", "time_zone": "Europe/London", "phone": "+442071234567"}
    [event] = Patient.register(patient_id, details, T0.date(), META).collect_events()
    assert isinstance(event, Patient.Registered)
    assert event.details == {
        "name": PersonalData(patient_id, "Ada Byron"),
        "phone": PersonalData(patient_id, "+442071234567"),
        "time_zone": "Europe/London",
    }


def test_erasing_records_an_event_with_a_reason_code_and_nothing_personal() -> None:
    patient = registered()
    assert patient.erase(REQUEST, META) is True
    [event] = patient.collect_events()
    assert isinstance(event, Patient.Erased)
    assert event.reason == "patient_request"
    assert patient.erased
    assert "name" not in patient.details
    assert patient.details["time_zone"] == "Europe/London"


def test_erasing_twice_records_nothing_the_second_time() -> None:
    patient = registered()
    patient.erase(REQUEST, META)
    patient.collect_events()
    assert patient.erase(REQUEST, META) is False
    assert patient.collect_events() == []


def test_a_legal_hold_blocks_erasure_until_it_is_released() -> None:
    patient = registered()
    patient.set_legal_hold("litigation 2026-17", META)
    [held] = patient.collect_events()
    assert isinstance(held, Patient.LegalHoldSet)
    assert held.reason == PersonalData(patient.id, "litigation 2026-17")
    with pytest.raises(LegalHoldError):
        patient.erase(REQUEST, META)
    assert patient.collect_events() == []

    patient.release_legal_hold(META)
    assert patient.erase(REQUEST, META) is True
    assert [type(e) for e in patient.collect_events()] == [
        Patient.LegalHoldReleased,
        Patient.Erased,
    ]


def test_an_erased_patient_takes_no_new_details_and_no_hold() -> None:
    patient = registered()
    patient.erase(REQUEST, META)
    with pytest.raises(SubjectErasedError):
        patient.update({"phone": "+442070000000"}, T0.date(), META)
    with pytest.raises(SubjectErasedError):
        patient.set_legal_hold("too late", META)


# --- the application, with real encryption -----------------------------------------------------


class Visit:
    """A patient with a completed visit and a cancelled one, and a bystander with a visit."""

    def __init__(self) -> None:
        self.keys = InMemoryKeyStore()
        self.clock = FixedClock(T0)
        self.app: Scheduling = in_memory_app(self.clock, self.keys)
        provider = register_provider(self.app)
        self.patient = self._register("Ada Byron")
        self.bystander = self._register("Mary Somerville")
        self.completed = self._complete(create_slot(self.app, provider, TEN), self.patient)
        self.other_visit = self._complete(
            create_slot(self.app, provider, TEN.replace(hour=11)), self.bystander
        )
        later = create_slot(self.app, provider, TEN.replace(hour=13))
        cancelled = book(self.app, later, self.patient, reason="follow-up")
        cancel = CancelAppointment(appointment_id=cancelled.id, reason="feeling better")
        self.app.cancel(cancel, as_staff())
        self.cancelled = cancelled.id

    def _register(self, name: str) -> UUID:
        patient_id = uuid4()
        details = PatientDetails(name=name, time_zone="Europe/London", email=f"{uuid4().hex}@x.org")
        self.app.register_patient(RegisterPatient(details=details), as_patient(patient_id))
        return patient_id

    def _complete(self, slot_id: UUID, patient_id: UUID) -> UUID:
        self.clock.set(T0)
        appointment_id = book(self.app, slot_id, patient_id, reason="chest pain").id
        self.clock.set(self.app.load(Appointment, appointment_id, "appointment").start)
        self.app.check_in(CheckIn(appointment_id=appointment_id), as_staff())
        self.app.start(Start(appointment_id=appointment_id), as_staff())
        done = CompleteAppointment(
            appointment_id=appointment_id, notes="ECG fine", vitals={"hr": 70}
        )
        self.app.complete(done, as_staff())
        return appointment_id

    def erase(self) -> Any:
        return self.app.erase_patient(
            ErasePatient(patient_id=self.patient, reason=REQUEST), as_staff()
        )


def test_erasing_destroys_the_key_so_every_personal_value_of_the_patient_reads_as_erased() -> None:
    visit = Visit()
    assert visit.patient in visit.keys.keys  # made at registration

    visit.erase()

    assert visit.patient in visit.keys.destroyed
    patient = visit.app.load(Patient, visit.patient, "patient")
    assert patient.erased
    assert "name" not in patient.details
    completed = visit.app.load(Appointment, visit.completed, "appointment")
    assert completed.reason == PersonalData.erased(visit.patient)
    assert completed.notes == PersonalData.erased(visit.patient)
    assert note_document(completed) is None  # search keeps no note of theirs
    # Every stored event of theirs still loads, each personal value as the tombstone.
    notifications = visit.app.recorder.select_notifications(start=1, limit=1000)
    events = [visit.app.mapper.to_domain_event(n) for n in notifications]
    cancelled = next(e for e in events if isinstance(e, Appointment.Cancelled))
    assert cancelled.reason == PersonalData.erased(visit.patient)
    assert not any(
        isinstance(v, PersonalData) and not v.is_erased and v.subject == visit.patient
        for e in events
        for v in vars(e).values()
    )


def test_erasing_one_patient_leaves_every_other_patient_readable() -> None:
    visit = Visit()
    visit.erase()
    other = visit.app.load(Appointment, visit.other_visit, "appointment")
    assert other.notes == PersonalData(visit.bystander, "ECG fine")
    bystander = visit.app.load(Patient, visit.bystander, "patient")
    assert bystander.details["name"] == PersonalData(visit.bystander, "Mary Somerville")


def test_erasing_again_is_harmless_and_finishes_an_interrupted_key_destruction() -> None:
    visit = Visit()
    key = visit.keys.keys[visit.patient]
    visit.erase()
    visit.keys.destroyed.discard(visit.patient)  # as if the process died before destroying
    visit.keys.keys[visit.patient] = key
    head = visit.app.head_position()
    visit.erase()
    assert visit.app.head_position() == head  # nothing new recorded
    assert visit.patient in visit.keys.destroyed
    assert visit.patient not in visit.keys.keys


def test_a_legal_hold_blocks_the_erasure_and_the_key_survives() -> None:
    visit = Visit()
    hold = SetLegalHold(patient_id=visit.patient, held=True, reason="subpoena 42")
    visit.app.set_legal_hold(hold, as_staff())
    with pytest.raises(LegalHoldError):
        visit.erase()
    assert visit.patient in visit.keys.keys
    visit.app.set_legal_hold(SetLegalHold(patient_id=visit.patient, held=False), as_staff())
    visit.erase()
    assert visit.patient in visit.keys.destroyed


def test_nobody_but_staff_may_erase_or_hold_and_to_them_the_patient_is_not_there() -> None:
    visit = Visit()
    erase = ErasePatient(patient_id=visit.patient, reason=REQUEST)
    with pytest.raises(NotFoundError):
        visit.app.erase_patient(erase, as_patient(visit.patient))
    hold = SetLegalHold(patient_id=visit.patient, held=True, reason="x")
    with pytest.raises(NotFoundError):
        visit.app.set_legal_hold(hold, as_patient(visit.patient))
    assert visit.patient in visit.keys.keys


def test_nothing_personal_can_be_recorded_for_an_erased_patient() -> None:
    visit = Visit()
    visit.erase()
    update = UpdatePatient(patient_id=visit.patient, details=PatientDetails(phone="+4400"))
    with pytest.raises(SubjectErasedError):
        visit.app.update_patient(update, as_staff())


def test_an_erased_patients_open_visit_can_still_be_cancelled_without_a_reason() -> None:
    visit = Visit()
    provider = visit.app.load(Appointment, visit.completed, "appointment").provider_id
    visit.clock.set(T0)
    open_visit = book(
        visit.app, create_slot(visit.app, provider, TEN.replace(hour=16)), visit.patient
    )
    visit.erase()
    with_reason = CancelAppointment(appointment_id=open_visit.id, reason="moved away")
    with pytest.raises(SubjectErasedError):
        visit.app.cancel(with_reason, as_staff())
    visit.app.cancel(CancelAppointment(appointment_id=open_visit.id, reason=""), as_staff())
    later = create_slot(visit.app, provider, TEN.replace(hour=18))
    with pytest.raises(SubjectErasedError):
        book(visit.app, later, visit.patient)  # no booking for an erased patient
    cancelled = visit.app.load(Appointment, open_visit.id, "appointment")
    assert cancelled.status.value == "cancelled"


# --- read models: live erasure and a rebuild agree ---------------------------------------------


def project(rows: MemoryRows, app: Scheduling, start: int = 1) -> int:
    """Apply the scheduling and analytics changes of the log from `start`; the head after."""
    position = start - 1
    for n in app.recorder.select_notifications(start=start, limit=10_000):
        event = app.mapper.to_domain_event(n)
        changes = [*scheduling.changes_for(event), *analytics.changes_for(event)]
        rows.apply(changes, Tracking(app.name, n.id))
        position = n.id
    return position


def test_the_live_read_model_after_erasure_equals_one_rebuilt_from_the_log() -> None:
    visit = Visit()
    live = MemoryRows()
    head = project(live, visit.app)
    assert live.row(scheduling.PATIENTS, id=visit.patient) is not None
    visit.erase()
    project(live, visit.app, start=head + 1)  # the erasure event, projected live

    rebuilt = MemoryRows()
    project(rebuilt, visit.app)  # every event again, the key gone
    assert live.tables == rebuilt.tables

    patient = live.row(scheduling.PATIENTS, id=visit.patient)
    assert patient is not None
    assert patient["name"] == ERASED
    for appointment_id in (visit.completed, visit.cancelled):
        row = live.row(scheduling.APPOINTMENTS, id=appointment_id)
        assert row is not None
        assert row["reason"] == ERASED
    cancelled = live.row(scheduling.APPOINTMENTS, id=visit.cancelled)
    assert cancelled is not None
    assert cancelled["cancel_reason"] == ERASED
    other = live.row(scheduling.APPOINTMENTS, id=visit.other_visit)
    assert other is not None
    assert other["reason"] == "chest pain"
    # Analytics keep the visits (counts), and never held a personal value.
    facts = live.tables[analytics.APPOINTMENTS].values()
    assert sum(1 for f in facts if f["patient_id"] == visit.patient) == 2
