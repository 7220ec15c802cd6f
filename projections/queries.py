"""Read-side DTOs, the query Protocol the API depends on, and who may see what."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, Protocol, TypeVar
from uuid import UUID

import msgspec

from domain.access import appointment_scope
from domain.actor import Actor, Role
from domain.errors import ForbiddenError

T = TypeVar("T")


class AppointmentView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    patient_id: UUID
    provider_id: UUID
    slot_id: UUID
    start: datetime
    end: datetime
    appointment_type: str
    status: str
    fhir_status: str
    reason: str
    hold_expires_at: datetime | None
    booked_at: datetime | None
    confirmed_at: datetime | None
    checked_in_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    no_show_at: datetime | None
    wait_seconds: int | None
    duration_seconds: int | None
    late_cancellation: bool | None
    cancel_reason: str | None
    overbooked: bool
    version: int
    updated_at: datetime | None = None  # the time of the last event applied to the row
    series_id: UUID | None = None  # an occurrence of a recurring series ...
    recurrence_id: datetime | None = None  # ... and its original start
    follows_id: UUID | None = None  # the visit this follow-up appointment follows


class SlotView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    provider_id: UUID
    start: datetime
    end: datetime
    capacity: int
    overbook_allowance: int
    appointment_types: list[str]
    location: str | None
    room: str | None
    status: str
    booked_seats: int
    held_seats: int
    free_seats: int
    version: int
    updated_at: datetime | None = None  # the time of the last event applied to the row


class ScheduleSummary(msgspec.Struct, frozen=True, kw_only=True):
    total: int
    free: int
    booked: int
    blocked: int
    cancelled: int


class ProviderSchedule(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: UUID
    time_zone: str
    first_day: date
    last_day: date
    slots: list[SlotView]
    appointments: list[AppointmentView]
    summary: ScheduleSummary


class NoShowRow(msgspec.Struct, frozen=True, kw_only=True):
    """`rate` = no_shows / due, where `due` counts appointments whose start fell in the period
    and that were completed, in progress, checked in or no-shows (cancelled ones are not due).
    It is null when nothing was due."""

    provider_id: UUID
    provider_name: str
    due: int
    no_shows: int
    rate: Decimal | None


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True, omit_defaults=True):
    items: list[T]
    limit: int
    offset: int
    next_offset: int | None
    total: int | None = None  # every match, on the reads that count them (FHIR searches)


@dataclass(frozen=True)
class AppointmentFilter:
    patient_id: UUID | None = None
    provider_id: UUID | None = None
    statuses: tuple[str, ...] = ()
    start_from: datetime | None = None
    start_to: datetime | None = None
    ends_after: datetime | None = None
    newest_first: bool = False
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class SlotFilter:
    start_from: datetime
    start_to: datetime
    provider_id: UUID | None = None
    appointment_type: str | None = None
    limit: int = 50
    offset: int = 0


def scoped(actor: Actor, wanted: AppointmentFilter) -> AppointmentFilter:
    """Narrow a listing to what the caller may see: patients their own, providers theirs."""
    scope = appointment_scope(actor)
    if scope is None:
        raise ForbiddenError("this role may not list appointments")
    if scope.patient_id is not None:
        wanted = replace(wanted, patient_id=scope.patient_id)
    if scope.provider_id is not None:
        wanted = replace(wanted, provider_id=scope.provider_id)
    return wanted


def may_see_schedule(actor: Actor, provider_id: UUID) -> bool:
    if actor.role in (Role.STAFF, Role.AUDITOR):
        return True
    return actor.role is Role.PROVIDER and actor.subject == provider_id


class SchedulingQueries(Protocol):
    def position(self) -> int: ...

    def appointment(self, appointment_id: UUID) -> AppointmentView | None: ...

    def appointments(self, wanted: AppointmentFilter, now: datetime) -> Page[AppointmentView]: ...

    def available_slots(self, wanted: SlotFilter, now: datetime) -> Page[SlotView]: ...

    def schedule(
        self, provider_id: UUID, first_day: date, last_day: date, now: datetime
    ) -> ProviderSchedule | None: ...

    def no_shows(self, start_from: datetime, start_to: datetime) -> list[NoShowRow]: ...

    def expired_holds(self, now: datetime, limit: int) -> list[UUID]:
        """Appointments still held although their hold ran out before `now`."""
        ...
