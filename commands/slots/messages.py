"""Command Structs of slot publishing."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated
from uuid import UUID

import msgspec

from commands.appointments.messages import AppointmentType
from commands.structs import AwareDatetime, Command, ShortText

Seats = Annotated[int, msgspec.Meta(ge=1, le=500)]
Allowance = Annotated[int, msgspec.Meta(ge=0, le=50)]
Types = Annotated[list[AppointmentType], msgspec.Meta(min_length=1, max_length=3)]


class CreateSlot(Command, frozen=True, kw_only=True):
    provider_id: UUID
    start: AwareDatetime
    end: AwareDatetime
    capacity: Seats = 1
    overbook_allowance: Allowance = 0
    appointment_types: Types = msgspec.field(default_factory=lambda: ["in_person"])
    location: str | None = None
    room: str | None = None


class WorkingSession(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A stretch of working time on a weekday, in the provider's own zone."""

    weekday: Annotated[int, msgspec.Meta(ge=1, le=7)]
    start: time
    end: time
    slot_minutes: Annotated[int, msgspec.Meta(ge=5, le=480)]
    buffer_minutes: Annotated[int, msgspec.Meta(ge=0, le=240)] = 0


class GenerateSlots(Command, frozen=True, kw_only=True):
    provider_id: UUID
    first_day: date
    last_day: date
    sessions: Annotated[list[WorkingSession], msgspec.Meta(min_length=1, max_length=100)]
    excluded_dates: list[date] = []
    capacity: Seats = 1
    overbook_allowance: Allowance = 0
    appointment_types: Types = msgspec.field(default_factory=lambda: ["in_person"])
    location: str | None = None
    room: str | None = None


class BlockWindow(Command, frozen=True, kw_only=True):
    provider_id: UUID
    start: AwareDatetime
    end: AwareDatetime
    reason: ShortText


class UnblockWindow(Command, frozen=True, kw_only=True):
    provider_id: UUID
    start: AwareDatetime
    end: AwareDatetime


class CancelSlot(Command, frozen=True, kw_only=True):
    slot_id: UUID
    reason: ShortText
