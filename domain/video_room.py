"""A video visit's room (issue 13): a small aggregate of its own beside the Appointment, keyed by
the appointment, recording what the product decided and what the provider reported: opened,
moved, closed, who joined and left (each provider event once), the patient's consent to
recording and the recordings the provider started and stopped. The visit's rules (when a room
is open, who joins until when) are in `video_visit.py`."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import NotFoundError
from domain.personal import PersonalData
from domain.video_visit import (
    MAX_SEEN_EVENTS,
    Guest,
    GuestRole,
    Presence,
    RecordingNotConsentedError,
    RoomNotOpenError,
    room_id,
    room_name,
)


class VideoRoom(Aggregate):
    class Opened(Aggregate.Created):
        appointment_id: UUID
        patient_id: UUID
        provider_id: UUID
        name: str
        provider: str
        provider_room_id: str | None
        start: datetime
        end: datetime
        at: datetime
        meta: EventMeta

    @staticmethod
    def create_id(appointment_id: UUID, **_: object) -> UUID:
        return room_id(appointment_id)

    @event(Opened)
    def __init__(
        self,
        appointment_id: UUID,
        patient_id: UUID,
        provider_id: UUID,
        name: str,
        provider: str,
        provider_room_id: str | None,
        start: datetime,
        end: datetime,
        at: datetime,
        meta: EventMeta,
    ) -> None:
        self.appointment_id = appointment_id
        self.patient_id = patient_id
        self.provider_id = provider_id
        self.name = name
        self.provider = provider
        self.provider_room_id = provider_room_id
        self.start = start
        self.end = end
        self.is_open = True
        self.closed_reason: str | None = None
        self.seen: list[str] = []
        self.presence: dict[str, Presence] = {}
        self.guests: dict[UUID, Guest] = {}
        self.consent_recorded = False
        self.recording_started_at: datetime | None = None

    @classmethod
    def open(
        cls,
        appointment_id: UUID,
        patient_id: UUID,
        provider_id: UUID,
        provider: str,
        provider_room_id: str | None,
        start: datetime,
        end: datetime,
        at: datetime,
        meta: EventMeta,
    ) -> VideoRoom:
        return cls(
            appointment_id=appointment_id,
            patient_id=patient_id,
            provider_id=provider_id,
            name=room_name(appointment_id),
            provider=provider,
            provider_room_id=provider_room_id,
            start=start,
            end=end,
            at=at,
            meta=meta,
        )

    def reopen(self, provider_room_id: str | None, at: datetime, meta: EventMeta) -> bool:
        """Open again after a move closed it; False (nothing recorded) when open already."""
        if self.is_open:
            return False
        if self.closed_reason not in ("moved", "ended"):
            raise RoomNotOpenError("the visit's room was closed for good")
        self._reopened(provider_room_id, at, meta)
        return True

    class Reopened(Aggregate.Event):
        provider_room_id: str | None
        at: datetime
        meta: EventMeta

    @event(Reopened)
    def _reopened(self, provider_room_id: str | None, at: datetime, meta: EventMeta) -> None:
        self.provider_room_id = provider_room_id
        self.is_open = True
        self.closed_reason = None

    def move(self, start: datetime, end: datetime, meta: EventMeta) -> bool:
        if (start, end) == (self.start, self.end):
            return False
        self._moved(start, end, meta)
        return True

    class Moved(Aggregate.Event):
        start: datetime
        end: datetime
        meta: EventMeta

    @event(Moved)
    def _moved(self, start: datetime, end: datetime, meta: EventMeta) -> None:
        self.start, self.end = start, end

    def close(self, reason: str, at: datetime, meta: EventMeta) -> bool:
        if not self.is_open:
            return False
        self.stop_recording(at, meta)  # a recording ends with its room
        self._closed(reason, at, meta)
        return True

    class Closed(Aggregate.Event):
        reason: str  # completed, cancelled, no_show, moved, ended
        at: datetime
        meta: EventMeta

    @event(Closed)
    def _closed(self, reason: str, at: datetime, meta: EventMeta) -> None:
        self.is_open = False
        self.closed_reason = reason

    def participant_event(
        self,
        event_id: str,
        kind: str,
        identity: str | None,
        at: datetime,
        reason: str | None,
        meta: EventMeta,
    ) -> bool:
        """Record a provider's join or leave once; False for a redelivery (or nothing to
        record: a leave of someone never seen to join)."""
        if event_id in self.seen or identity is None:
            return False
        presence = self.presence.get(identity, Presence())
        if kind == "participant_joined":
            self._joined(event_id, identity, at, presence.joins + 1, meta)
            return True
        if kind == "participant_left":
            seconds = presence.seconds
            if presence.joined_at is not None:
                seconds += max((at - presence.joined_at).total_seconds(), 0.0)
            self._left(event_id, identity, at, reason, round(seconds, 3), meta)
            return True
        return False

    def _seen(self, event_id: str) -> None:
        self.seen.append(event_id)
        del self.seen[:-MAX_SEEN_EVENTS]

    class ParticipantJoined(Aggregate.Event):
        """`joins`: this participant's joins so far, this one included (more than one: they
        reconnected)."""

        event_id: str
        identity: str
        at: datetime
        joins: int
        meta: EventMeta

    @event(ParticipantJoined)
    def _joined(
        self, event_id: str, identity: str, at: datetime, joins: int, meta: EventMeta
    ) -> None:
        self._seen(event_id)
        presence = self.presence.setdefault(identity, Presence())
        presence.joins = joins
        presence.first_joined_at = presence.first_joined_at or at
        presence.joined_at = at

    class ParticipantLeft(Aggregate.Event):
        """`seconds_in_room`: this participant's time in the room so far, over every join."""

        event_id: str
        identity: str
        at: datetime
        disconnect_reason: str | None
        seconds_in_room: float
        meta: EventMeta

    @event(ParticipantLeft)
    def _left(
        self,
        event_id: str,
        identity: str,
        at: datetime,
        disconnect_reason: str | None,
        seconds_in_room: float,
        meta: EventMeta,
    ) -> None:
        self._seen(event_id)
        presence = self.presence.setdefault(identity, Presence())
        presence.seconds = seconds_in_room
        presence.joined_at = None
        presence.last_disconnect_reason = disconnect_reason

    def invite(self, guest_id: UUID, role: GuestRole, name: PersonalData, meta: EventMeta) -> None:
        self._invited(guest_id, role.value, name, meta)

    class GuestInvited(Aggregate.Event):
        guest_id: UUID
        role: str
        name: PersonalData | str
        meta: EventMeta

    @event(GuestInvited)
    def _invited(
        self, guest_id: UUID, role: str, name: PersonalData | str, meta: EventMeta
    ) -> None:
        self.guests[guest_id] = Guest(GuestRole(role), name)

    def guest(self, guest_id: UUID) -> Guest:
        found = self.guests.get(guest_id)
        if found is None:
            raise NotFoundError(f"guest {guest_id} not found")
        return found

    def record_consent(self, at: datetime, meta: EventMeta) -> None:
        if not self.consent_recorded:
            self._consented(at, meta)

    class RecordingConsentRecorded(Aggregate.Event):
        """The patient's consent to recording this visit; `meta` says who recorded it."""

        at: datetime
        meta: EventMeta

    @event(RecordingConsentRecorded)
    def _consented(self, at: datetime, meta: EventMeta) -> None:
        self.consent_recorded = True

    def start_recording(self, at: datetime, meta: EventMeta) -> None:
        if not self.consent_recorded:
            raise RecordingNotConsentedError("the patient's consent to recording is not recorded")
        if not self.is_open:
            raise RoomNotOpenError("the visit's room is not open")
        if self.recording_started_at is None:
            self._recording_started(at, meta)

    class RecordingStarted(Aggregate.Event):
        at: datetime
        meta: EventMeta

    @event(RecordingStarted)
    def _recording_started(self, at: datetime, meta: EventMeta) -> None:
        self.recording_started_at = at

    def stop_recording(self, at: datetime, meta: EventMeta) -> None:
        if self.recording_started_at is not None:
            self._recording_stopped(self.recording_started_at, at, meta)

    class RecordingStopped(Aggregate.Event):
        started_at: datetime
        at: datetime
        meta: EventMeta

    @event(RecordingStopped)
    def _recording_stopped(self, started_at: datetime, at: datetime, meta: EventMeta) -> None:
        self.recording_started_at = None
