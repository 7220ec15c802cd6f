"""Command Structs of the appointment lifecycle."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from commands.structs import Command, LongText, ShortText

AppointmentType = Literal["in_person", "video", "phone"]
Symptoms = Annotated[list[ShortText], msgspec.Meta(max_length=50)]


class HoldAppointment(Command, frozen=True, kw_only=True):
    slot_id: UUID
    appointment_type: AppointmentType
    patient_id: UUID | None = None
    reason: ShortText = ""
    symptoms: Symptoms = []
    hold_minutes: int | None = None


class BookAppointment(Command, frozen=True, kw_only=True):
    """Book a seat directly, or convert a hold by naming its `appointment_id`."""

    slot_id: UUID | None = None
    appointment_id: UUID | None = None
    appointment_type: AppointmentType = "in_person"
    patient_id: UUID | None = None
    reason: ShortText = ""
    symptoms: Symptoms = []
    overbook: bool = False


class ConfirmAppointment(Command, frozen=True, kw_only=True):
    appointment_id: UUID


class CheckIn(Command, frozen=True, kw_only=True):
    appointment_id: UUID


class StartAppointment(Command, frozen=True, kw_only=True):
    appointment_id: UUID


class FollowUpRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Come back after `interval_days` for an appointment of `appointment_type`; the notes are
    for staff (personal data, encrypted like every note)."""

    interval_days: Annotated[int, msgspec.Meta(ge=1, le=730)]
    appointment_type: AppointmentType = "in_person"
    notes: ShortText = ""


class CompleteAppointment(Command, frozen=True, kw_only=True):
    appointment_id: UUID
    notes: LongText = ""
    private_notes: LongText = ""
    vitals: dict[str, Any] = {}
    follow_up_requested: bool = False
    follow_up: FollowUpRequest | None = None


class CancelAppointment(Command, frozen=True, kw_only=True):
    appointment_id: UUID
    reason: ShortText
    fee: Decimal | None = None
    currency: str | None = None


class RescheduleAppointment(Command, frozen=True, kw_only=True):
    appointment_id: UUID
    new_slot_id: UUID
    reason: ShortText = ""


class MarkNoShow(Command, frozen=True, kw_only=True):
    appointment_id: UUID


class RevertNoShow(Command, frozen=True, kw_only=True):
    appointment_id: UUID
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class ExpireHold(Command, frozen=True, kw_only=True):
    appointment_id: UUID
