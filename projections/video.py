"""The video projection (issue 13): the room policy's plans (which video visit wants its room
open or closed, and whether it is) and the read model of each visit's room: status, who joined
when, time in room, reconnects and disconnect reasons, consent and recordings.

The plan follows the Appointment's events; what the room is follows the VideoRoom's, which
the policy records after acting on the provider."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.appointment import Appointment
from domain.video_room import VideoRoom
from projections.changes import Change, Handlers, RowProjection, Update, Upsert

PLANS = "video_room_plans"
ROOMS = "rm_video_rooms"
PARTICIPANTS = "rm_video_participants"
RECORDINGS = "rm_video_recordings"
TABLES = (PLANS, ROOMS, PARTICIPANTS, RECORDINGS)

HANDLERS: Handlers[list[Change]] = Handlers(list)
on = HANDLERS.on


def changes_for(event: object) -> list[Change]:
    return HANDLERS(event)


def _plan(event: Aggregate.Event, appointment_id: UUID, **values: Any) -> Change:
    return Update(
        PLANS, {"appointment_id": appointment_id}, {**values, "updated_at": event.timestamp}
    )


def _wanted(event: Aggregate.Event, wanted: str, reason: str | None = None) -> list[Change]:
    # An Update of a plan that does not exist (an in-person visit) changes nothing.
    return [_plan(event, event.originator_id, wanted=wanted, close_reason=reason)]


@on(Appointment.Scheduled)
def _(event: Appointment.Scheduled) -> list[Change]:
    if event.appointment_type != "video":
        return []
    values = {
        "patient_id": event.patient_id,
        "provider_id": event.provider_id,
        "start_at": event.start,
        "end_at": event.end,
        "wanted": "held" if event.hold_expires_at is not None else "open",
        "room_open": False,
        "updated_at": event.timestamp,
    }
    return [Upsert(PLANS, {"appointment_id": event.originator_id}, values)]


@on(Appointment.BookedFromHold)
def _(event: Appointment.BookedFromHold) -> list[Change]:
    return _wanted(event, "open")


@on(Appointment.Rescheduled)
def _(event: Appointment.Rescheduled) -> list[Change]:
    values: dict[str, Any] = {"start_at": event.start, "end_at": event.end, "wanted": "open"}
    if event.provider_id is not None:
        values["provider_id"] = event.provider_id
    return [_plan(event, event.originator_id, **values)]


@on(Appointment.Cancelled)
def _(event: Appointment.Cancelled) -> list[Change]:
    return _wanted(event, "closed", "cancelled")


@on(Appointment.HoldExpired)
def _(event: Appointment.HoldExpired) -> list[Change]:
    return _wanted(event, "closed", "cancelled")


@on(Appointment.Completed)
def _(event: Appointment.Completed) -> list[Change]:
    return _wanted(event, "closed", "completed")


@on(Appointment.MarkedNoShow)
def _(event: Appointment.MarkedNoShow) -> list[Change]:
    return _wanted(event, "closed", "no_show")


@on(Appointment.NoShowReverted)
def _(event: Appointment.NoShowReverted) -> list[Change]:
    return _wanted(event, "open")


@on(VideoRoom.Opened)
def _(event: VideoRoom.Opened) -> list[Change]:
    # Later events of the room are keyed by its id (derived from the appointment's).
    times = {"room_id": event.originator_id, "room_start_at": event.start, "room_end_at": event.end}
    room = {
        "room_id": event.originator_id,
        "room_name": event.name,
        "patient_id": event.patient_id,
        "provider_id": event.provider_id,
        "provider": event.provider,
        "status": "open",
        "start_at": event.start,
        "end_at": event.end,
        "opened_at": event.at,
        "version": event.originator_version,
    }
    return [
        _plan(event, event.appointment_id, room_open=True, **times),
        Upsert(ROOMS, {"appointment_id": event.appointment_id}, room),
    ]


@on(VideoRoom.Reopened)
def _(event: VideoRoom.Reopened) -> list[Change]:
    return [
        Update(PLANS, {"room_id": event.originator_id}, {"room_open": True}),
        Update(ROOMS, {"room_id": event.originator_id}, {"status": "open", "close_reason": None}),
    ]


@on(VideoRoom.Moved)
def _(event: VideoRoom.Moved) -> list[Change]:
    times = {"room_start_at": event.start, "room_end_at": event.end}
    return [
        Update(PLANS, {"room_id": event.originator_id}, times),
        Update(
            ROOMS, {"room_id": event.originator_id}, {"start_at": event.start, "end_at": event.end}
        ),
    ]


@on(VideoRoom.Closed)
def _(event: VideoRoom.Closed) -> list[Change]:
    closed = {"status": "closed", "closed_at": event.at, "close_reason": event.reason}
    return [
        Update(PLANS, {"room_id": event.originator_id}, {"room_open": False}),
        Update(ROOMS, {"room_id": event.originator_id}, closed),
    ]


@on(VideoRoom.ParticipantJoined)
def _(event: VideoRoom.ParticipantJoined) -> list[Change]:
    role = event.identity.partition(":")[0]
    values: dict[str, Any] = {"role": role, "joins": event.joins, "in_room_since": event.at}
    if event.joins == 1:
        values["first_joined_at"] = event.at
    return [
        Upsert(PARTICIPANTS, {"room_id": event.originator_id, "identity": event.identity}, values)
    ]


@on(VideoRoom.ParticipantLeft)
def _(event: VideoRoom.ParticipantLeft) -> list[Change]:
    values = {
        "role": event.identity.partition(":")[0],
        "in_room_since": None,
        "last_left_at": event.at,
        "seconds_in_room": event.seconds_in_room,
        "last_disconnect_reason": event.disconnect_reason,
    }
    return [
        Upsert(PARTICIPANTS, {"room_id": event.originator_id, "identity": event.identity}, values)
    ]


@on(VideoRoom.RecordingConsentRecorded)
def _(event: VideoRoom.RecordingConsentRecorded) -> list[Change]:
    consent = {
        "consent_recorded_at": event.at,
        "consent_recorded_by": event.meta.actor_id,
        "consent_recorded_by_role": event.meta.actor_role,
    }
    return [Update(ROOMS, {"room_id": event.originator_id}, consent)]


@on(VideoRoom.RecordingStarted)
def _(event: VideoRoom.RecordingStarted) -> list[Change]:
    key = {"room_id": event.originator_id, "started_at": event.at}
    return [Upsert(RECORDINGS, key, {"started_by": event.meta.actor_id})]


@on(VideoRoom.RecordingStopped)
def _(event: VideoRoom.RecordingStopped) -> list[Change]:
    key = {"room_id": event.originator_id, "started_at": event.started_at}
    return [Update(RECORDINGS, key, {"stopped_at": event.at})]


class VideoProjection(RowProjection):
    name = "video"
    handlers = HANDLERS
