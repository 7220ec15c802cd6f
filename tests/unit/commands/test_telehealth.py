"""Video visits on the in-memory application: the policy's records, join grants and their every
refusal, participant events, guests, consent and recording."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from commands.appointments.messages import CancelAppointment
from commands.context import CommandContext
from commands.scheduling import Scheduling
from commands.telehealth.messages import (
    CloseVideoRoom,
    InviteVideoGuest,
    OpenVideoRoom,
    RecordRecordingConsent,
    RecordVideoEvent,
    StartRecording,
)
from domain.actor import Actor, Role
from domain.errors import (
    ForbiddenError,
    InvalidTransitionError,
    NotFoundError,
    TooEarlyError,
    TooLateError,
)
from domain.video_room import VideoRoom
from domain.video_visit import RecordingNotConsentedError, RoomNotOpenError, room_id
from tests.builders import TEN, as_, as_staff, book, create_slot, patient, provider
from tests.fakes import FixedClock

SYSTEM = CommandContext(Actor(uuid4(), Role.SYSTEM))


@pytest.fixture
def slot_id(app: Scheduling, provider_id: UUID) -> UUID:
    return create_slot(app, provider_id, appointment_types=["in_person", "video"])


@pytest.fixture
def visit(app: Scheduling, slot_id: UUID, patient_id: UUID) -> UUID:
    return book(app, slot_id, patient_id, appointment_type="video").id


def opened(app: Scheduling, visit: UUID) -> VideoRoom:
    app.open_video_room(OpenVideoRoom(appointment_id=visit, provider="loopback"), SYSTEM)
    return app.load(VideoRoom, room_id(visit), "room")


def test_the_policy_opens_a_room_once_and_closes_it_once(app: Scheduling, visit: UUID) -> None:
    first = opened(app, visit)
    again = opened(app, visit)
    assert (first.version, again.version) == (1, 1)
    app.close_video_room(CloseVideoRoom(appointment_id=visit, reason="completed"), SYSTEM)
    app.close_video_room(CloseVideoRoom(appointment_id=visit, reason="completed"), SYSTEM)
    room = app.load(VideoRoom, room_id(visit), "room")
    assert (room.is_open, room.closed_reason, room.version) == (False, "completed", 2)


def test_only_the_system_records_what_the_policy_did(
    app: Scheduling, visit: UUID, patient_id: UUID
) -> None:
    with pytest.raises(ForbiddenError):
        app.open_video_room(OpenVideoRoom(appointment_id=visit, provider="x"), as_staff())


def test_an_in_person_visit_has_no_room(app: Scheduling, slot_id: UUID, patient_id: UUID) -> None:
    in_person = book(app, slot_id, patient_id).id
    with pytest.raises(NotFoundError):
        app.open_video_room(OpenVideoRoom(appointment_id=in_person, provider="x"), SYSTEM)


def test_a_cancelled_visit_gets_no_room(app: Scheduling, visit: UUID) -> None:
    app.cancel(CancelAppointment(appointment_id=visit, reason="ill"), as_staff())
    with pytest.raises(InvalidTransitionError):
        opened(app, visit)


@pytest.fixture
def open_visit(app: Scheduling, visit: UUID, clock: FixedClock) -> UUID:
    opened(app, visit)
    clock.set(TEN - timedelta(minutes=5))
    return visit


def test_the_patient_and_provider_get_grants_and_only_the_provider_hosts(
    app: Scheduling, open_visit: UUID, patient_id: UUID, provider_id: UUID, clock: FixedClock
) -> None:
    mine = app.join_grant(open_visit, patient(patient_id), None)
    theirs = app.join_grant(open_visit, provider(provider_id), None)
    assert (mine.identity, mine.host) == (f"patient:{patient_id}", False)
    assert (theirs.identity, theirs.host) == (f"provider:{provider_id}", True)
    assert mine.room == theirs.room == f"visit-{open_visit}"
    assert mine.expires_at == clock.now() + timedelta(minutes=10)


@pytest.mark.parametrize(
    "who",
    [
        Actor(uuid4(), Role.PATIENT),  # another patient
        Actor(uuid4(), Role.PROVIDER),  # another provider
        Actor(uuid4(), Role.ANALYST),
        Actor(uuid4(), Role.AUDITOR),
    ],
)
def test_anyone_else_is_told_the_visit_does_not_exist(
    app: Scheduling, open_visit: UUID, who: Actor
) -> None:
    with pytest.raises(NotFoundError):
        app.join_grant(open_visit, who, None)


def test_staff_join_only_on_behalf_of_a_guest_they_invited(
    app: Scheduling, open_visit: UUID
) -> None:
    staff = Actor(uuid4(), Role.STAFF)
    with pytest.raises(NotFoundError):
        app.join_grant(open_visit, staff, None)
    with pytest.raises(NotFoundError):
        app.join_grant(open_visit, staff, uuid4())
    invite = InviteVideoGuest(
        appointment_id=open_visit, guest_name="Ana Interpreter", role="interpreter"
    )
    guest_id = app.invite_video_guest(invite, as_(staff)).ids["guest_id"]
    grant = app.join_grant(open_visit, staff, guest_id)
    assert (grant.identity, grant.host) == (f"interpreter:{guest_id}", False)


def test_a_patient_cannot_invite_or_join_as_a_guest(
    app: Scheduling, open_visit: UUID, patient_id: UUID
) -> None:
    invite = InviteVideoGuest(appointment_id=open_visit, guest_name="Mum", role="caregiver")
    with pytest.raises(ForbiddenError):
        app.invite_video_guest(invite, as_(patient(patient_id)))
    with pytest.raises(ForbiddenError):
        app.join_grant(open_visit, patient(patient_id), uuid4())


def test_no_grant_too_early_or_after_the_end(
    app: Scheduling, open_visit: UUID, patient_id: UUID, clock: FixedClock
) -> None:
    clock.set(TEN - timedelta(minutes=31))
    with pytest.raises(TooEarlyError):
        app.join_grant(open_visit, patient(patient_id), None)
    clock.set(TEN + timedelta(minutes=30 + 15))
    with pytest.raises(TooLateError):
        app.join_grant(open_visit, patient(patient_id), None)


def test_no_grant_for_a_cancelled_visit(
    app: Scheduling, open_visit: UUID, patient_id: UUID
) -> None:
    app.cancel(CancelAppointment(appointment_id=open_visit, reason="ill"), as_staff())
    with pytest.raises(InvalidTransitionError):
        app.join_grant(open_visit, patient(patient_id), None)


def test_before_the_room_opens_the_caller_is_told_when_to_come_back(
    app: Scheduling, visit: UUID, patient_id: UUID, clock: FixedClock
) -> None:
    clock.set(TEN - timedelta(minutes=25))
    with pytest.raises(RoomNotOpenError) as refused:
        app.join_grant(visit, patient(patient_id), None)
    assert refused.value.retry_after == 15 * 60


def test_webhook_events_are_recorded_once(
    app: Scheduling, open_visit: UUID, clock: FixedClock
) -> None:
    joined = RecordVideoEvent(
        appointment_id=open_visit,
        event_id="EV1",
        kind="participant_joined",
        identity="patient:1",
        at=clock.now(),
    )
    app.record_video_event(joined, SYSTEM)
    app.record_video_event(joined, SYSTEM)
    room = app.load(VideoRoom, room_id(open_visit), "room")
    assert room.presence["patient:1"].joins == 1


def test_the_provider_records_only_with_consent(
    app: Scheduling, open_visit: UUID, patient_id: UUID, provider_id: UUID
) -> None:
    start = StartRecording(appointment_id=open_visit)
    with pytest.raises(RecordingNotConsentedError):
        app.start_recording(start, as_(provider(provider_id)))
    with pytest.raises(ForbiddenError):
        app.start_recording(start, as_(patient(patient_id)))
    app.record_recording_consent(
        RecordRecordingConsent(appointment_id=open_visit), as_(patient(patient_id))
    )
    app.start_recording(start, as_(provider(provider_id)))
    room = app.load(VideoRoom, room_id(open_visit), "room")
    assert room.recording_started_at is not None
    with pytest.raises(NotFoundError):
        app.start_recording(start, as_(Actor(uuid4(), Role.PROVIDER)))
