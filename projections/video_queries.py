"""What the video projection's tables answer (issue 13): the room policy's plans, a visit's room
as the API shows it, and no-show candidates; and the query port over them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True)
class RoomPlan:
    """A video visit as the room policy sees it (a row of `video_room_plans`)."""

    appointment_id: UUID
    start_at: datetime
    end_at: datetime
    wanted: str  # held, open or closed
    close_reason: str | None
    room_open: bool
    room_start_at: datetime | None
    room_end_at: datetime | None


@dataclass(frozen=True)
class Participant:
    identity: str
    role: str
    joins: int
    first_joined_at: datetime | None
    in_room_since: datetime | None
    last_left_at: datetime | None
    seconds_in_room: float
    last_disconnect_reason: str | None

    @property
    def reconnects(self) -> int:
        return max(self.joins - 1, 0)


@dataclass(frozen=True)
class Recording:
    started_at: datetime
    started_by: UUID
    stopped_at: datetime | None


@dataclass(frozen=True)
class VideoVisit:
    """A visit's room as the read model holds it."""

    appointment_id: UUID
    patient_id: UUID
    provider_id: UUID
    room_name: str
    provider: str
    status: str
    start_at: datetime
    end_at: datetime
    opened_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    consent_recorded_at: datetime | None
    consent_recorded_by: UUID | None
    consent_recorded_by_role: str | None
    participants: list[Participant]
    recordings: list[Recording]

    def first_join(self, role: str) -> datetime | None:
        joins = [p.first_joined_at for p in self.participants if p.role == role]
        return min((j for j in joins if j is not None), default=None)

    @property
    def patient_wait_seconds(self) -> float | None:
        """From the patient's first join to the provider's, when the patient came first."""
        patient, provider = self.first_join("patient"), self.first_join("provider")
        if patient is None or provider is None:
            return None
        return max((provider - patient).total_seconds(), 0.0)

    @property
    def duration_seconds(self) -> float | None:
        """From the first join of anyone to the last leave (or the close), once it ended."""
        firsts = [p.first_joined_at for p in self.participants if p.first_joined_at]
        if not firsts or any(p.in_room_since for p in self.participants):
            return None
        lasts = [p.last_left_at for p in self.participants if p.last_left_at]
        end = max(lasts, default=self.closed_at)
        return None if end is None else max((end - min(firsts)).total_seconds(), 0.0)


@dataclass(frozen=True)
class NoShowCandidate:
    appointment_id: UUID
    patient_id: UUID


class VideoQueries(Protocol):
    def due_plans(
        self, now: datetime, lead: timedelta, grace: timedelta, limit: int
    ) -> list[RoomPlan]:
        """Plans whose room may need opening, moving or closing now."""
        ...

    def visit(self, appointment_id: UUID) -> VideoVisit | None: ...

    def no_show_candidates(
        self, now: datetime, grace: timedelta, limit: int
    ) -> list[NoShowCandidate]:
        """Video visits past start + grace whose patient never joined, still booked."""
        ...

    def position(self) -> int: ...
