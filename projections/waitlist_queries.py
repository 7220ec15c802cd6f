"""The waitlist's read side for the API: a patient's entries and offers, a queue with
positions, and the offer metrics per provider and period (definitions in docs/waitlist.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec


class OfferView(msgspec.Struct, frozen=True, kw_only=True):
    offer_id: UUID
    slot_id: UUID
    provider_id: UUID
    appointment_id: UUID  # the hold on the seat while the offer is open
    slot_start: datetime
    offered_at: datetime
    expires_at: datetime
    status: str  # open, accepted, declined, expired, withdrawn
    answered_at: datetime | None
    moved_appointment_id: UUID | None
    rank: dict[str, Any] | None  # why this patient: staff and auditors only


class EntryView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    patient_id: UUID
    provider_id: UUID | None
    specialty: str | None
    appointment_type: str
    time_zone: str
    earliest: date
    deadline: date | None
    windows: list[dict[str, Any]]
    has_area: bool
    tier: int
    joined_at: datetime
    origin: str
    moves_appointment_id: UUID | None
    status: str
    cooldown_until: datetime | None
    accepted_appointment_id: UUID | None
    closed_reason: str | None
    version: int
    offers: list[OfferView]


class QueuePlace(msgspec.Struct, frozen=True, kw_only=True):
    position: int  # 1 is offered the next suitable seat first
    entry_id: UUID
    patient_id: UUID
    provider_id: UUID | None
    specialty: str | None
    appointment_type: str
    tier: int
    joined_at: datetime
    status: str
    cooldown_until: datetime | None


class Rate(msgspec.Struct, frozen=True, kw_only=True):
    """A share with its numerator and denominator; `value` is null when nothing was counted."""

    value: float | None
    numerator: int
    denominator: int


class WaitlistMetrics(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: UUID
    period_from: datetime
    period_to: datetime
    offers: int
    accepted: int
    declined: int
    expired: int
    acceptance_rate: Rate  # accepted / (accepted + declined + expired)
    freed_seats: int
    filled_from_waitlist: int
    fill_rate: Rate  # filled_from_waitlist / freed_seats
    median_seconds_to_fill: float | None
    filled_count: int
    moves: int  # accepted offers that moved a later appointment earlier
    days_gained_total: float | None
    days_gained_median: float | None


class WaitlistQueries(Protocol):
    def entries_of(self, patient_id: UUID, limit: int) -> list[EntryView]: ...

    def entry(self, entry_id: UUID) -> EntryView | None: ...

    def queue(
        self, provider_id: UUID | None, specialty: str | None, limit: int
    ) -> list[QueuePlace]: ...

    def metrics(self, provider_id: UUID, start: datetime, end: datetime) -> WaitlistMetrics: ...
