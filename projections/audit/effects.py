"""Side effects in a request's causal chain (`GET /v1/audit/explain/{correlation_id}`): what the
system did in the world because of the request's events, after it answered: a video room
opened, moved or closed at the provider, and messages sent or skipped.

Each capability with side effects contributes one `EffectSource`; explain asks every source it
was given (`EFFECT_SOURCES`, or the list its composition root passes). Notification deliveries
are one more entry there (`infra.postgres.notifications.effects.DeliveryEffects`, which reads
the delivery records and so is added by the API's composition root), without touching explain.

Attribution: a request that changed what a side effect follows caused the side effects recorded
after its last such change and before the next one by another request. A video room follows
the plan its appointment's booking, reschedule, cancellation, completion and no-show make (the
events the video projection turns into plan changes); a confirmation or a check-in does not
move it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from domain.appointment import Appointment
from domain.video_room import VideoRoom
from domain.video_visit import room_id
from projections.audit.trail import AuditedEvent, SideEffect
from projections.video import HANDLERS as VIDEO_HANDLERS


@dataclass(frozen=True)
class Following:
    """The sealed events of `aggregate_id` with one of `topics`, after position `after` and
    before the next event of `subject_id` with one of `until_topics` recorded under another
    correlation id than `correlation_id`."""

    aggregate_id: UUID
    topics: tuple[str, ...]
    after: int
    subject_id: UUID
    until_topics: tuple[str, ...]
    correlation_id: UUID


class EffectLog(Protocol):
    def following(self, wanted: Following) -> list[tuple[AuditedEvent, dict[str, Any]]]:
        """The events wanted in log order, each with its stored state's top-level fields as
        stored (a personal value stays ciphertext; sources read only plain fields)."""
        ...


class EffectSource(Protocol):
    def effects(
        self, correlation_id: UUID, events: Sequence[AuditedEvent], log: EffectLog
    ) -> list[SideEffect]:
        """The side effects caused by the request whose events (in log order) are `events`."""
        ...


def topic_of(event_class: type[Any]) -> str:
    """The topic the event store records an event class under."""
    return f"{event_class.__module__}:{event_class.__qualname__}"


APPOINTMENT_EVENTS = f"{Appointment.__module__}:Appointment."
# The appointment events a room follows: those the video projection makes plan changes of.
ROOM_PLAN_TOPICS = tuple(
    sorted(topic_of(c) for c in VIDEO_HANDLERS if topic_of(c).startswith(APPOINTMENT_EVENTS))
)
ROOM_EFFECTS = {
    topic_of(VideoRoom.Opened): "video_room.opened",
    topic_of(VideoRoom.Reopened): "video_room.reopened",
    topic_of(VideoRoom.Moved): "video_room.moved",
    topic_of(VideoRoom.Closed): "video_room.closed",
}


def last_positions(events: Sequence[AuditedEvent], causes: Sequence[str]) -> dict[UUID, int]:
    """The aggregates on which the request recorded an event of a type in `causes`, each with
    the request's last such position on it."""
    last: dict[UUID, int] = {}
    for event in events:
        if event.event_type in causes:
            last[event.aggregate_id] = max(event.position, last.get(event.aggregate_id, 0))
    return last


class VideoRoomEffects:
    """Rooms opened, reopened, moved and closed at the video provider for the request's
    appointments (the room policy records each on the visit's VideoRoom after acting)."""

    def effects(
        self, correlation_id: UUID, events: Sequence[AuditedEvent], log: EffectLog
    ) -> list[SideEffect]:
        found: list[SideEffect] = []
        for appointment_id, after in last_positions(events, ROOM_PLAN_TOPICS).items():
            wanted = Following(
                aggregate_id=room_id(appointment_id),
                topics=tuple(ROOM_EFFECTS),
                after=after,
                subject_id=appointment_id,
                until_topics=ROOM_PLAN_TOPICS,
                correlation_id=correlation_id,
            )
            for event, state in log.following(wanted):
                reason = state.get("reason")
                found.append(
                    SideEffect(
                        kind=ROOM_EFFECTS[event.event_type],
                        subject_id=appointment_id,
                        effect_id=event.aggregate_id,
                        at=event.recorded_at,
                        position=event.position,
                        detail=reason if isinstance(reason, str) else None,
                        seal=event.seal,
                    )
                )
        return found


# The sources read from the event log alone; the API adds DeliveryEffects (delivery records).
EFFECT_SOURCES: tuple[EffectSource, ...] = (VideoRoomEffects(),)
