"""Command Structs of video visits."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from commands.structs import AwareDatetime, Command, Name, ShortText

CloseReason = Literal["completed", "cancelled", "no_show", "moved", "ended"]


class OpenVideoRoom(Command, frozen=True, kw_only=True):
    """The room policy opened the provider's room; recorded once (again only after a move)."""

    appointment_id: UUID
    provider: ShortText
    provider_room_id: ShortText | None = None


class MoveVideoRoom(Command, frozen=True, kw_only=True):
    """The appointment was rescheduled: the room follows its new times."""

    appointment_id: UUID


class CloseVideoRoom(Command, frozen=True, kw_only=True):
    appointment_id: UUID
    reason: CloseReason


class RecordVideoEvent(Command, frozen=True, kw_only=True):
    """A verified provider webhook: a participant joined or left."""

    appointment_id: UUID
    event_id: ShortText
    kind: Literal["participant_joined", "participant_left", "room_finished"]
    identity: ShortText | None = None
    at: AwareDatetime
    disconnect_reason: ShortText | None = None


class InviteVideoGuest(Command, frozen=True, kw_only=True):
    """Staff invite an interpreter or a caregiver to the visit, by name and role."""

    appointment_id: UUID
    guest_name: Name
    role: Literal["interpreter", "caregiver"]


class RecordRecordingConsent(Command, frozen=True, kw_only=True):
    """The patient consents to this visit being recorded."""

    appointment_id: UUID


class StartRecording(Command, frozen=True, kw_only=True):
    appointment_id: UUID


class StopRecording(Command, frozen=True, kw_only=True):
    appointment_id: UUID
