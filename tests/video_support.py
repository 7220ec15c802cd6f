"""A video visit driven through every VideoRoom event (opened, guest invited, consent, joins and
leaves, a recording started and stopped, closed, reopened, moved, closed for good), for tests
that publish or rebuild them."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from commands.appointments.messages import CancelAppointment, RescheduleAppointment
from commands.context import CommandContext
from commands.scheduling import Scheduling
from commands.telehealth.messages import (
    CloseVideoRoom,
    InviteVideoGuest,
    MoveVideoRoom,
    OpenVideoRoom,
    RecordRecordingConsent,
    RecordVideoEvent,
    StartRecording,
    StopRecording,
)
from domain.actor import Actor, Role
from tests.builders import as_, as_patient, as_staff, book, create_slot, provider, register_provider

SYSTEM = CommandContext(Actor(UUID(int=7), Role.SYSTEM))
GUEST_NAME = "Ingrid Interpreter-Phiinfo"


def drive_video_visit(app: Scheduling, start: datetime, patient_id: UUID) -> UUID:
    """A booked video visit of `patient_id` (registered already) at `start`, its room run
    through every event, then the visit cancelled and its room closed; its appointment id."""
    provider_id = register_provider(app)
    slot_id = create_slot(app, provider_id, start, appointment_types=["video"])
    visit = book(app, slot_id, patient_id, appointment_type="video").id
    opened = OpenVideoRoom(appointment_id=visit, provider="loopback", provider_room_id="RM1")
    app.open_video_room(opened, SYSTEM)
    app.invite_video_guest(
        InviteVideoGuest(appointment_id=visit, guest_name=GUEST_NAME, role="interpreter"),
        as_staff(),
    )
    app.record_recording_consent(
        RecordRecordingConsent(appointment_id=visit), as_patient(patient_id)
    )
    doctor = as_(provider(provider_id))
    patient = f"patient:{patient_id}"
    for n, (kind, identity, minutes) in enumerate(
        [
            ("participant_joined", patient, 0),
            ("participant_joined", f"provider:{provider_id}", 3),
            ("participant_left", patient, 10),
            ("participant_joined", patient, 11),
        ]
    ):
        event = RecordVideoEvent(
            appointment_id=visit,
            event_id=f"EV{n}-{uuid4()}",
            kind=kind,  # type: ignore[arg-type]
            identity=identity,
            at=start + timedelta(minutes=minutes),
            disconnect_reason="client_initiated" if kind == "participant_left" else None,
        )
        app.record_video_event(event, SYSTEM)
    app.start_recording(StartRecording(appointment_id=visit), doctor)
    app.stop_recording(StopRecording(appointment_id=visit), doctor)
    app.close_video_room(CloseVideoRoom(appointment_id=visit, reason="moved"), SYSTEM)
    app.open_video_room(opened, SYSTEM)  # reopened
    later = create_slot(app, provider_id, start + timedelta(hours=2), appointment_types=["video"])
    moved = RescheduleAppointment(appointment_id=visit, new_slot_id=later, reason="clash")
    app.reschedule(moved, as_staff())
    app.move_video_room(MoveVideoRoom(appointment_id=visit), SYSTEM)
    app.cancel(CancelAppointment(appointment_id=visit, reason="unwell"), as_staff())
    app.close_video_room(CloseVideoRoom(appointment_id=visit, reason="cancelled"), SYSTEM)
    return visit
