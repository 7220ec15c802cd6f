"""The recording policy (issue 13): makes the video provider record a visit exactly while the
product says it is recorded. It is a tracked consumer of the event log (eventsourcing's
ProjectionRunner, its position in `video_recording_tracking`), never part of the request that
records `VideoRoom.RecordingStarted` or `RecordingStopped`.

For each of those events it loads the visit's VideoRoom as it is now and makes the provider
match it: recording while the room is open, the patient's consent is recorded and a recording
is started; otherwise not. So a redelivered or replayed event changes nothing (both provider
calls are idempotent) and a start already stopped again is not started. A provider failure
stops the consumer at that event (reported as the `video_recording` projection's last error)
and the worker retries it after a backoff: no event is skipped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from uuid import UUID

import structlog
from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection

from commands.ports import VideoRooms
from domain.video_room import VideoRoom

log = structlog.stdlib.get_logger("slotwise.video")

NAME = "video_recording"
LoadRoom = Callable[[UUID], VideoRoom | None]


def should_record(room: VideoRoom) -> bool:
    """Only with the patient's consent recorded, in an open room, while a recording runs."""
    return room.consent_recorded and room.is_open and room.recording_started_at is not None


def drive(room: VideoRoom, rooms: VideoRooms) -> Literal["started", "stopped", "elsewhere"]:
    """Make the provider record `room` or not, as `should_record` says."""
    if room.provider != rooms.provider:
        # Opened at another provider (the setting changed since): nothing here can record it.
        log.warning("video room at another provider", room=room.name, provider=room.provider)
        return "elsewhere"
    if should_record(room):
        recording = rooms.start_recording(room.name)
        log.info("video recording started", room=room.name, recording=recording)
        return "started"
    rooms.stop_recording(room.name)
    log.info("video recording stopped", room=room.name)
    return "stopped"


class RecordingPolicy(Projection[TrackingRecorder]):
    # Every event, not only the recording ones: its position then follows the log's head, so
    # a caller can wait on a position and its lag reads like any projection's.
    name = NAME

    def __init__(self, view: TrackingRecorder, rooms: VideoRooms, load: LoadRoom) -> None:
        super().__init__(view)
        self._rooms = rooms
        self._load = load

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        if isinstance(domain_event, VideoRoom.RecordingStarted | VideoRoom.RecordingStopped):
            room = self._load(domain_event.originator_id)
            if room is not None:
                drive(room, self._rooms)
        # Only once the provider did it: a failure above leaves the position where it was.
        self.view.insert_tracking(tracking)


def recording_policy(rooms: VideoRooms, load: LoadRoom) -> type[RecordingPolicy]:
    """The class to give eventsourcing's ProjectionRunner (which constructs a projection from
    its view alone), bound to the provider and a loader of rooms as they are now."""

    class BoundRecordingPolicy(RecordingPolicy):
        name = NAME

        def __init__(self, view: TrackingRecorder) -> None:
            super().__init__(view, rooms, load)

    return BoundRecordingPolicy
