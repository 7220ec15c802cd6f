"""The rules of a video visit (issue 13), beside its room's aggregate (`video_room.py`): the
room's name and id derived from the appointment (naming nobody), when a room should be open
(`room_should_be_open`), who may join until when (`join_window`), guests, and a participant's
time in the room. The product owns these rules, not the video provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.actor import Role
from domain.errors import ConflictError, TooEarlyError, TooLateError
from domain.personal import PersonalData

ROOM_PREFIX = "visit-"
# Remembered provider event ids per room, for deduplication; a visit sees far fewer.
MAX_SEEN_EVENTS = 2000


def room_id(appointment_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"slotwise:video-room:{appointment_id}")


def room_name(appointment_id: UUID) -> str:
    """The provider's room name: from the appointment id, so it names nobody."""
    return f"{ROOM_PREFIX}{appointment_id}"


def appointment_of(name: str) -> UUID | None:
    if not name.startswith(ROOM_PREFIX):
        return None
    try:
        return UUID(name[len(ROOM_PREFIX) :])
    except ValueError:
        return None


class GuestRole(StrEnum):
    INTERPRETER = "interpreter"
    CAREGIVER = "caregiver"


class RecordingNotConsentedError(ConflictError):
    """Recording needs the patient's consent for this visit, recorded first."""


class RoomNotOpenError(ConflictError):
    """The visit's room is not open (yet, or any more)."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class VideoPolicy:
    """`lead`: how long before the start a room opens. `grace`: joins allowed until the end plus
    this. `token_lifetime`: a join token's longest life."""

    lead: timedelta = timedelta(minutes=10)
    grace: timedelta = timedelta(minutes=15)
    token_lifetime: timedelta = timedelta(minutes=10)


def opens_at(start: datetime, policy: VideoPolicy) -> datetime:
    return start - policy.lead


def room_should_be_open(start: datetime, end: datetime, now: datetime, policy: VideoPolicy) -> bool:
    """From the lead before the start (at once for one booked inside it) to the end + grace."""
    return opens_at(start, policy) <= now < end + policy.grace


def join_window(
    start: datetime, end: datetime, check_in_before: timedelta, policy: VideoPolicy, now: datetime
) -> datetime:
    """When a token minted `now` expires; raises when `now` is outside the visit's window, from
    the check-in window's start to the end plus the grace."""
    if now < start - check_in_before:
        raise TooEarlyError(f"joining opens {check_in_before} before the start")
    last = end + policy.grace
    if now >= last:
        raise TooLateError("the visit's video has ended")
    return min(now + policy.token_lifetime, last)


@dataclass(frozen=True)
class Guest:
    role: GuestRole
    name: PersonalData | str


@dataclass
class Presence:
    """One participant's time in the room, from the provider's joins and leaves."""

    joins: int = 0
    first_joined_at: datetime | None = None
    joined_at: datetime | None = None  # while in the room
    seconds: float = 0.0
    last_disconnect_reason: str | None = None

    @property
    def reconnects(self) -> int:
        return max(self.joins - 1, 0)


def identity_of(role: Role | GuestRole, subject: UUID) -> str:
    return f"{role.value}:{subject}"
