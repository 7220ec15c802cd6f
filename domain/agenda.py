"""Per-patient, per-UTC-day agendas that refuse overlapping active appointments.

Same day-bucket idea as the provider calendar: each appointment is entered in every UTC day it
touches, in the same atomic save as the booking, so two concurrent overlapping bookings of one
patient conflict on a shared agenda version and only one can win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import AppointmentOverlapError
from domain.timerange import TimeRange

AGENDA_NAMESPACE = UUID("0b7e4a52-3f0d-4c47-a7f4-8f4f8a3e2d10")


@dataclass(frozen=True)
class AgendaEntry:
    start: datetime
    end: datetime
    hold_expires_at: datetime | None

    def is_active(self, now: datetime) -> bool:
        return self.hold_expires_at is None or now < self.hold_expires_at


class PatientAgenda(Aggregate):
    class Opened(Aggregate.Created):
        patient_id: UUID
        day: date
        meta: EventMeta

    class Entered(Aggregate.Event):
        appointment_id: UUID
        start: datetime
        end: datetime
        hold_expires_at: datetime | None
        meta: EventMeta

    class Confirmed(Aggregate.Event):
        appointment_id: UUID
        meta: EventMeta

    class Withdrawn(Aggregate.Event):
        appointment_id: UUID
        meta: EventMeta

    @staticmethod
    def create_id(patient_id: UUID, day: date) -> UUID:
        return uuid5(AGENDA_NAMESPACE, f"{patient_id}/{day.isoformat()}")

    @event(Opened)
    def __init__(self, patient_id: UUID, day: date, meta: EventMeta) -> None:
        self.patient_id = patient_id
        self.day = day
        self.entries: dict[UUID, AgendaEntry] = {}

    def enter(
        self,
        appointment_id: UUID,
        time: TimeRange,
        now: datetime,
        hold_expires_at: datetime | None,
        meta: EventMeta,
    ) -> None:
        other_id = self.clash(appointment_id, time, now)
        if other_id is not None:
            msg = f"the patient already has appointment {other_id} at an overlapping time"
            raise AppointmentOverlapError(msg)
        self._entered(appointment_id, time.start, time.end, hold_expires_at, meta)

    def clash(self, appointment_id: UUID, time: TimeRange, now: datetime) -> UUID | None:
        """Another active appointment of the patient overlapping `time`, if any."""
        for other_id, entry in self.entries.items():
            if other_id == appointment_id or not entry.is_active(now):
                continue
            if time.overlaps(TimeRange(entry.start, entry.end)):
                return other_id
        return None

    @event(Entered)
    def _entered(
        self,
        appointment_id: UUID,
        start: datetime,
        end: datetime,
        hold_expires_at: datetime | None,
        meta: EventMeta,
    ) -> None:
        self.entries[appointment_id] = AgendaEntry(start, end, hold_expires_at)

    def confirm(self, appointment_id: UUID, meta: EventMeta) -> None:
        entry = self.entries.get(appointment_id)
        if entry is not None and entry.hold_expires_at is not None:
            self._confirmed(appointment_id, meta)

    @event(Confirmed)
    def _confirmed(self, appointment_id: UUID, meta: EventMeta) -> None:
        entry = self.entries[appointment_id]
        self.entries[appointment_id] = AgendaEntry(entry.start, entry.end, None)

    def withdraw(self, appointment_id: UUID, meta: EventMeta) -> None:
        if appointment_id in self.entries:
            self._withdrawn(appointment_id, meta)

    @event(Withdrawn)
    def _withdrawn(self, appointment_id: UUID, meta: EventMeta) -> None:
        del self.entries[appointment_id]
