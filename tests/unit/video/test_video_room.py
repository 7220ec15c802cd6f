"""The VideoRoom aggregate and the visit's pure rules, given events / when / then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.errors import TooEarlyError, TooLateError
from domain.video_room import VideoRoom
from domain.video_visit import (
    RecordingNotConsentedError,
    RoomNotOpenError,
    VideoPolicy,
    appointment_of,
    join_window,
    room_id,
    room_name,
    room_should_be_open,
)
from tests.builders import META

START = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)
POLICY = VideoPolicy(lead=timedelta(minutes=10), grace=timedelta(minutes=15))
CHECK_IN = timedelta(minutes=30)


def given_open() -> VideoRoom:
    room = VideoRoom.open(uuid4(), uuid4(), uuid4(), "loopback", None, START, END, START, META)
    room.collect_events()
    return room


def names(room: VideoRoom) -> list[str]:
    return [type(e).__qualname__ for e in room.collect_events()]


def test_the_room_is_keyed_and_named_by_its_appointment_only() -> None:
    appointment = uuid4()
    room = VideoRoom.open(appointment, uuid4(), uuid4(), "livekit", "RM1", START, END, START, META)
    assert room.id == room_id(appointment)
    assert room.name == room_name(appointment) == f"visit-{appointment}"
    assert appointment_of(room.name) == appointment
    assert appointment_of("someone-else") is None
    assert appointment_of("visit-not-a-uuid") is None


def test_a_room_opens_the_lead_before_the_start_and_at_once_inside_it() -> None:
    assert not room_should_be_open(START, END, START - timedelta(minutes=11), POLICY)
    assert room_should_be_open(START, END, START - timedelta(minutes=10), POLICY)
    assert room_should_be_open(START, END, START + timedelta(minutes=5), POLICY)
    assert room_should_be_open(START, END, END + timedelta(minutes=14), POLICY)
    assert not room_should_be_open(START, END, END + timedelta(minutes=15), POLICY)


def test_joining_is_allowed_from_the_check_in_window_to_the_end_plus_grace() -> None:
    with pytest.raises(TooEarlyError):
        join_window(START, END, CHECK_IN, POLICY, START - timedelta(minutes=31))
    opening = START - timedelta(minutes=30)
    assert join_window(START, END, CHECK_IN, POLICY, opening) == opening + POLICY.token_lifetime
    near_end = END + timedelta(minutes=10)
    assert join_window(START, END, CHECK_IN, POLICY, near_end) == END + POLICY.grace
    with pytest.raises(TooLateError):
        join_window(START, END, CHECK_IN, POLICY, END + POLICY.grace)


def test_a_join_and_a_leave_are_recorded_once_each() -> None:
    room = given_open()
    at = START + timedelta(minutes=1)
    assert room.participant_event("e1", "participant_joined", "patient:1", at, None, META)
    assert not room.participant_event("e1", "participant_joined", "patient:1", at, None, META)
    left = at + timedelta(minutes=4)
    assert room.participant_event("e2", "participant_left", "patient:1", left, "client", META)
    assert names(room) == ["VideoRoom.ParticipantJoined", "VideoRoom.ParticipantLeft"]
    assert room.presence["patient:1"].seconds == 240


def test_a_rejoin_counts_as_a_reconnect_and_time_adds_up() -> None:
    room = given_open()
    t = START
    for n, (kind, minute) in enumerate(
        [
            ("participant_joined", 0),
            ("participant_left", 3),
            ("participant_joined", 4),
            ("participant_left", 10),
        ]
    ):
        room.participant_event(
            f"e{n}", kind, "provider:9", t + timedelta(minutes=minute), None, META
        )
    events = room.collect_events()
    assert [getattr(e, "joins", None) for e in events] == [1, None, 2, None]
    assert [getattr(e, "seconds_in_room", None) for e in events] == [None, 180, None, 540]
    assert room.presence["provider:9"].reconnects == 1


def test_recording_needs_the_patients_consent_first() -> None:
    room = given_open()
    with pytest.raises(RecordingNotConsentedError):
        room.start_recording(START, META)
    room.record_consent(START, META)
    room.record_consent(START, META)  # recorded once
    room.start_recording(START, META)
    room.start_recording(START, META)  # already recording
    room.stop_recording(START + timedelta(minutes=5), META)
    assert names(room) == [
        "VideoRoom.RecordingConsentRecorded",
        "VideoRoom.RecordingStarted",
        "VideoRoom.RecordingStopped",
    ]


def test_closing_ends_a_recording_and_happens_once() -> None:
    room = given_open()
    room.record_consent(START, META)
    room.start_recording(START, META)
    room.collect_events()
    assert room.close("completed", END, META)
    assert not room.close("completed", END, META)
    assert names(room) == ["VideoRoom.RecordingStopped", "VideoRoom.Closed"]
    with pytest.raises(RoomNotOpenError):
        room.start_recording(END, META)


def test_a_room_closed_by_a_move_reopens_but_not_one_closed_for_good() -> None:
    room = given_open()
    room.close("moved", START, META)
    assert room.reopen("RM2", START, META)
    assert not room.reopen("RM2", START, META)
    room.close("cancelled", START, META)
    with pytest.raises(RoomNotOpenError):
        room.reopen("RM3", START, META)
