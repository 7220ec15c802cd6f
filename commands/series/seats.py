"""Finding the seat each occurrence of a series needs, inside the write.

Slots are found through the provider's calendar day buckets (the event store, not a read model):
an occurrence is booked in the provider's slot that starts at that instant and offers the type.
Each check reads the aggregates the booking then writes, in the same workspace, so what one
occurrence takes is seen by the next, and the save's optimistic concurrency settles any race.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from commands.workspace import Workspace
from domain.agenda import PatientAgenda
from domain.calendar import ProviderCalendar
from domain.errors import DomainError
from domain.policies import BookingWindow, check_booking_window
from domain.slot import Slot, SlotStatus

ALTERNATIVES = 3
# Alternatives are looked for on the occurrence's UTC day and the days either side, loading at
# most this many candidate slots, nearest first.
ALTERNATIVE_DAYS = 1
ALTERNATIVE_LOADS = 24


@dataclass(frozen=True)
class Refusal:
    """Why an occurrence cannot be booked, and the nearest free seats instead."""

    recurrence_id: datetime
    reason: str  # no-slot | slot-unavailable | slot-full | patient-overlap | booking-window
    detail: str
    alternatives: list[dict[str, Any]] = field(default_factory=list)

    def as_record(self) -> dict[str, Any]:
        return {
            "recurrence_id": self.recurrence_id.isoformat(),
            "reason": self.reason,
            "detail": self.detail,
            "alternatives": self.alternatives,
        }


@dataclass
class SeatFinder:
    ws: Workspace
    provider_id: UUID
    appointment_type: str
    patient_id: UUID
    now: datetime
    window: BookingWindow | None  # a patient's booking window; staff book any future seat

    def slots_on(self, day_of: datetime) -> dict[UUID, tuple[datetime, datetime]]:
        calendar = self.ws.find(
            ProviderCalendar, ProviderCalendar.create_id(self.provider_id, day_of.date())
        )
        return dict(calendar.entries) if calendar is not None else {}

    def slot_at(self, start: datetime) -> Slot | None:
        for slot_id, (begins, _) in self.slots_on(start).items():
            if begins == start:
                return self.ws.get(Slot, slot_id, "slot")
        return None

    def problem(self, appointment_id: UUID, slot: Slot) -> tuple[str, str] | None:
        """Why `appointment_id` cannot take a seat on `slot` now, or None if it can."""
        if slot.status is not SlotStatus.OPEN:
            return "slot-unavailable", f"the slot is {slot.status.value}"
        if self.appointment_type not in slot.appointment_types:
            return "slot-unavailable", f"the slot does not offer {self.appointment_type}"
        if self.window is not None:
            try:
                check_booking_window(slot.start, self.now, self.window)
            except DomainError as error:
                return "booking-window", str(error)
        elif slot.start <= self.now:
            return "slot-unavailable", "the slot has started"
        if slot.free_seats(self.now) < 1:
            return "slot-full", "no seat left on the slot"
        for day in slot.time.utc_days():
            agenda = self.ws.find(PatientAgenda, PatientAgenda.create_id(self.patient_id, day))
            other = agenda.clash(appointment_id, slot.time, self.now) if agenda else None
            if other is not None:
                return "patient-overlap", f"the patient has appointment {other} then"
        return None

    def judge(self, appointment_id: UUID, start: datetime) -> tuple[Slot | None, Refusal | None]:
        """The slot for the occurrence at `start`, or why there is none to book."""
        slot = self.slot_at(start)
        if slot is None:
            detail = f"the provider has no slot starting at {start.isoformat()}"
            return None, self.refuse(appointment_id, start, "no-slot", detail)
        problem = self.problem(appointment_id, slot)
        if problem is not None:
            return None, self.refuse(appointment_id, start, *problem)
        return slot, None

    def refuse(self, appointment_id: UUID, start: datetime, reason: str, detail: str) -> Refusal:
        return Refusal(start, reason, detail, self.alternatives(appointment_id, start))

    def alternatives(self, appointment_id: UUID, start: datetime) -> list[dict[str, Any]]:
        """The nearest free seats of the provider for the type around `start`."""
        candidates: dict[UUID, datetime] = {}
        for offset in range(-ALTERNATIVE_DAYS, ALTERNATIVE_DAYS + 1):
            for slot_id, (begins, _) in self.slots_on(start + timedelta(days=offset)).items():
                if begins != start:
                    candidates[slot_id] = begins
        found: list[dict[str, Any]] = []
        nearest = sorted(candidates, key=lambda s: (abs(candidates[s] - start), candidates[s]))
        for slot_id in nearest[:ALTERNATIVE_LOADS]:
            slot = self.ws.get(Slot, slot_id, "slot")
            if self.problem(appointment_id, slot) is None:
                found.append(
                    {
                        "slot_id": str(slot.id),
                        "start": slot.start.isoformat(),
                        "end": slot.end.isoformat(),
                    }
                )
            if len(found) == ALTERNATIVES:
                break
        return found
