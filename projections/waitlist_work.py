"""What the offer policy reads from the waitlist projection (the port), and its work items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True)
class Opening:
    """A seat that may have come free on `slot_id` (by `kind`: released, unblocked, created)."""

    id: str
    slot_id: UUID
    kind: str
    freed_at: datetime
    provider_id: UUID
    start_at: datetime
    appointment_types: list[str]
    specializations: list[str]


@dataclass(frozen=True)
class Candidate:
    entry_id: UUID
    tier: int
    joined_at: datetime


@dataclass(frozen=True)
class Booking:
    appointment_id: UUID
    kind: str  # booked, completed


class WaitlistWork(Protocol):
    """The policy's view of the projection. Every list is in a deterministic order."""

    def due_offers(self, now: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        """(entry id, offer id) of open offers whose expiry has passed."""
        ...

    def pending_openings(self, limit: int) -> list[Opening]: ...

    def candidates(self, opening: Opening, now: datetime, limit: int) -> list[Candidate]:
        """Entries that may suit the opening's seat, best ranked first (tier, joined, id)."""
        ...

    def resolve_opening(self, opening_id: str, outcome: str, now: datetime) -> None: ...

    def pending_bookings(self, limit: int) -> list[Booking]: ...

    def handled_booking(self, booking: Booking, now: datetime) -> None: ...

    def open_entries_of(self, patient_id: UUID) -> list[UUID]: ...

    def entries_accepted_with(self, appointment_id: UUID) -> list[UUID]: ...

    def open_offer_holding(self, appointment_id: UUID) -> tuple[UUID, UUID] | None:
        """The open offer (entry id, offer id) whose hold is `appointment_id`, if any."""

    def past_deadline(self, now: datetime, limit: int) -> list[UUID]: ...

    def pending_displaced(self, limit: int) -> list[tuple[UUID, str]]: ...

    def handled_displaced(self, appointment_id: UUID, cause: str, now: datetime) -> None: ...

    def nearest_free_slots(
        self,
        provider_id: UUID,
        appointment_type: str,
        around: datetime,
        after: datetime,
        limit: int,
    ) -> list[UUID]:
        """Open slots of the provider offering the type with a free seat now, starting after
        `after`, nearest to `around` first (the scheduling projection's rows)."""
        ...
