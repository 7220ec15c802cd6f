"""Command Structs of follow-up requests."""

from __future__ import annotations

from uuid import UUID

from commands.structs import Command, ShortText


class BookFollowUp(Command, frozen=True, kw_only=True):
    """Book the follow-up request in a slot; the appointment is linked to the visit it follows."""

    follow_up_id: UUID
    slot_id: UUID
    reason: ShortText = ""


class DismissFollowUp(Command, frozen=True, kw_only=True):
    follow_up_id: UUID
