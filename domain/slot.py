"""The Slot aggregate: a provider's bookable time with seats. It owns the capacity rule, so
every seat taken or released is a write to this aggregate under optimistic concurrency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import (
    ConflictError,
    HoldExpiredError,
    SlotFullError,
    SlotUnavailableError,
    ValidationError,
)
from domain.limits import (
    MAX_CAPACITY,
    MAX_OVERBOOK_ALLOWANCE,
    MAX_SLOT_LENGTH,
    check_fields,
    check_reason,
)
from domain.timerange import TimeRange

APPOINTMENT_TYPES = frozenset({"in_person", "video", "phone"})


class SlotStatus(StrEnum):
    OPEN = "open"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Allocation:
    """A seat taken by one appointment: a hold until `expires_at`, or a booking."""

    expires_at: datetime | None
    overbooked: bool

    def is_live(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


def validate_slot_terms(capacity: int, overbook_allowance: int, types: list[str]) -> None:
    check_fields(
        {
            "capacity": capacity,
            "overbook_allowance": overbook_allowance,
            "appointment_types": types,
        },
        {"capacity": int, "overbook_allowance": int, "appointment_types": list},
        "slot",
    )
    if not 1 <= capacity <= MAX_CAPACITY:
        raise ValidationError(f"capacity must be between 1 and {MAX_CAPACITY}")
    if not 0 <= overbook_allowance <= MAX_OVERBOOK_ALLOWANCE:
        msg = f"overbook_allowance must be between 0 and {MAX_OVERBOOK_ALLOWANCE}"
        raise ValidationError(msg)
    unknown = set(types) - APPOINTMENT_TYPES
    if not types or unknown:
        msg = f"appointment_types must be a non-empty subset of {sorted(APPOINTMENT_TYPES)}"
        raise ValidationError(msg)


class Slot(Aggregate):
    class Created(Aggregate.Created):
        provider_id: UUID
        start: datetime
        end: datetime
        capacity: int
        overbook_allowance: int
        appointment_types: list[str]
        location: str | None
        room: str | None
        meta: EventMeta

    @event(Created)
    def __init__(
        self,
        id: UUID,
        provider_id: UUID,
        start: datetime,
        end: datetime,
        capacity: int,
        overbook_allowance: int,
        appointment_types: list[str],
        location: str | None,
        room: str | None,
        meta: EventMeta,
    ) -> None:
        self.provider_id = provider_id
        self.start = start
        self.end = end
        self.capacity = capacity
        self.overbook_allowance = overbook_allowance
        self.appointment_types = list(appointment_types)
        self.location = location
        self.room = room
        self.status = SlotStatus.OPEN
        self.allocations: dict[UUID, Allocation] = {}

    @classmethod
    def create(
        cls,
        *,
        slot_id: UUID,
        provider_id: UUID,
        time: TimeRange,
        capacity: int,
        overbook_allowance: int,
        appointment_types: list[str],
        location: str | None,
        room: str | None,
        meta: EventMeta,
    ) -> Slot:
        validate_slot_terms(capacity, overbook_allowance, appointment_types)
        if time.duration > MAX_SLOT_LENGTH:
            hours = int(MAX_SLOT_LENGTH.total_seconds()) // 3600
            raise ValidationError(f"a slot may last at most {hours} hours")
        place = {"location": location, "room": room}
        check_fields(place, {"location": (str, type(None)), "room": (str, type(None))}, "slot")
        return cls(
            provider_id=provider_id,
            start=time.start,
            end=time.end,
            capacity=capacity,
            overbook_allowance=overbook_allowance,
            appointment_types=sorted(set(appointment_types)),
            location=location,
            room=room,
            meta=meta,
            id=slot_id,
        )

    @property
    def time(self) -> TimeRange:
        return TimeRange(self.start, self.end)

    def live_seats(self, now: datetime) -> int:
        """Seats taken now: bookings plus holds that have not expired (no sweeper needed)."""
        return sum(1 for a in self.allocations.values() if a.is_live(now))

    def free_seats(self, now: datetime) -> int:
        return max(self.capacity - self.live_seats(now), 0)

    def take_seat(
        self,
        appointment_id: UUID,
        appointment_type: str,
        now: datetime,
        *,
        hold_until: datetime | None,
        may_overbook: bool,
        meta: EventMeta,
    ) -> None:
        """Take a seat for an appointment: a hold when `hold_until` is given, else a booking.
        Only a caller allowed to overbook may go past capacity, up to the allowance."""
        if self.status is not SlotStatus.OPEN:
            raise SlotUnavailableError(f"slot is {self.status.value}")
        if appointment_type not in self.appointment_types:
            raise SlotUnavailableError(f"slot does not offer {appointment_type!r} appointments")
        if now >= self.end:
            raise SlotUnavailableError("slot is in the past")
        if appointment_id in self.allocations and self.allocations[appointment_id].is_live(now):
            raise ConflictError("this appointment already holds a seat on the slot")
        taken = self.live_seats(now)
        overbooked = taken >= self.capacity
        limit = self.capacity + (self.overbook_allowance if may_overbook else 0)
        if taken >= limit:
            raise SlotFullError("no seat left on this slot")
        self._seat_taken(appointment_id, hold_until, overbooked, meta)

    class SeatTaken(Aggregate.Event):
        appointment_id: UUID
        hold_until: datetime | None
        overbooked: bool
        meta: EventMeta

    @event(SeatTaken)
    def _seat_taken(
        self,
        appointment_id: UUID,
        hold_until: datetime | None,
        overbooked: bool,
        meta: EventMeta,
    ) -> None:
        self.allocations[appointment_id] = Allocation(hold_until, overbooked)

    def convert_hold(self, appointment_id: UUID, now: datetime, meta: EventMeta) -> None:
        allocation = self.allocations.get(appointment_id)
        if allocation is None or allocation.expires_at is None:
            raise ConflictError("no hold on this slot for the appointment")
        if self.status is not SlotStatus.OPEN:
            raise SlotUnavailableError(f"slot is {self.status.value}")
        if not allocation.is_live(now):
            raise HoldExpiredError("the hold has expired")
        self._hold_converted(appointment_id, meta)

    class HoldConverted(Aggregate.Event):
        appointment_id: UUID
        meta: EventMeta

    @event(HoldConverted)
    def _hold_converted(self, appointment_id: UUID, meta: EventMeta) -> None:
        previous = self.allocations[appointment_id]
        self.allocations[appointment_id] = Allocation(None, previous.overbooked)

    def release_seat(self, appointment_id: UUID, reason: str, meta: EventMeta) -> bool:
        """Give the appointment's seat back. Releasing twice is a no-op, so a seat can never
        be freed twice for one appointment."""
        if appointment_id not in self.allocations:
            return False
        self._seat_released(appointment_id, reason, meta)
        return True

    class SeatReleased(Aggregate.Event):
        appointment_id: UUID
        reason: str
        meta: EventMeta

    @event(SeatReleased)
    def _seat_released(self, appointment_id: UUID, reason: str, meta: EventMeta) -> None:
        del self.allocations[appointment_id]

    def booked_appointment_ids(self, now: datetime) -> list[UUID]:
        return sorted(a for a, alloc in self.allocations.items() if alloc.is_live(now))

    def block(self, reason: str, now: datetime, meta: EventMeta) -> bool:
        check_reason(reason)
        if self.status is SlotStatus.CANCELLED:
            return False
        if self.status is SlotStatus.BLOCKED:
            return False
        self._blocked(reason, self.booked_appointment_ids(now), meta)
        return True

    class Blocked(Aggregate.Event):
        reason: str
        affected_appointment_ids: list[UUID]
        meta: EventMeta

    @event(Blocked)
    def _blocked(self, reason: str, affected_appointment_ids: list[UUID], meta: EventMeta) -> None:
        self.status = SlotStatus.BLOCKED

    def unblock(self, meta: EventMeta) -> bool:
        if self.status is not SlotStatus.BLOCKED:
            return False
        self._unblocked(meta)
        return True

    class Unblocked(Aggregate.Event):
        meta: EventMeta

    @event(Unblocked)
    def _unblocked(self, meta: EventMeta) -> None:
        self.status = SlotStatus.OPEN

    def cancel(self, reason: str, now: datetime, meta: EventMeta) -> None:
        check_reason(reason)
        if self.status is SlotStatus.CANCELLED:
            raise ConflictError("slot is already cancelled")
        if self.booked_appointment_ids(now):
            msg = "slot has booked appointments: cancel or reschedule them first, or block it"
            raise ConflictError(msg)
        self._cancelled(reason, meta)

    class Cancelled(Aggregate.Event):
        reason: str
        meta: EventMeta

    @event(Cancelled)
    def _cancelled(self, reason: str, meta: EventMeta) -> None:
        self.status = SlotStatus.CANCELLED
