"""Command Structs of the waitlist (issue 11)."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from commands.appointments.messages import AppointmentType
from commands.structs import Command

Tier = Annotated[int, msgspec.Meta(ge=0, le=5)]
Specialty = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Weekdays = Annotated[
    list[Annotated[int, msgspec.Meta(ge=1, le=7)]], msgspec.Meta(min_length=1, max_length=7)
]


class PreferredWindow(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Local times in the entry's zone, on ISO weekdays (1 = Monday; every day if left out)."""

    start: time
    end: time
    days: Weekdays = msgspec.field(default_factory=lambda: [1, 2, 3, 4, 5, 6, 7])


class SearchArea(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    radius_km: Annotated[float, msgspec.Meta(gt=0, le=500)]


class JoinWaitlist(Command, frozen=True, kw_only=True):
    """Wait for a seat with a provider or in a specialty. `appointment_id`: "move me earlier",
    a later appointment of the patient's that an accepted offer reschedules. `tier`: staff only."""

    patient_id: UUID | None = None
    provider_id: UUID | None = None
    specialty: Specialty | None = None
    appointment_type: AppointmentType = "in_person"
    earliest: date | None = None
    deadline: date | None = None
    windows: Annotated[list[PreferredWindow], msgspec.Meta(max_length=14)] = []
    area: SearchArea | None = None
    time_zone: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    tier: Tier | None = None
    appointment_id: UUID | None = None


class LeaveWaitlist(Command, frozen=True, kw_only=True):
    entry_id: UUID


class SetWaitlistPriority(Command, frozen=True, kw_only=True):
    entry_id: UUID
    tier: Tier


class OfferWaitlistSeat(Command, frozen=True, kw_only=True):
    """The offer policy offers a seat of `slot_id` to the entry under a hold; `rank` records
    why this entry (kept on the event for auditors)."""

    entry_id: UUID
    slot_id: UUID
    rank: dict[str, Any] = {}


class AcceptWaitlistOffer(Command, frozen=True, kw_only=True):
    """Book the offered seat; with `appointment_id` (or an entry joined to move one), move that
    later appointment into it instead (a reschedule: new seat first, old released, atomically)."""

    entry_id: UUID
    offer_id: UUID
    appointment_id: UUID | None = None


class DeclineWaitlistOffer(Command, frozen=True, kw_only=True):
    entry_id: UUID
    offer_id: UUID


class ExpireWaitlistOffer(Command, frozen=True, kw_only=True):
    entry_id: UUID
    offer_id: UUID


class WithdrawWaitlistOffer(Command, frozen=True, kw_only=True):
    """The policy takes an open offer back: its seat's slot was blocked."""

    entry_id: UUID
    offer_id: UUID
    reason: Literal["slot_blocked"] = "slot_blocked"


class CloseWaitlistEntry(Command, frozen=True, kw_only=True):
    """The policy closes an entry: its patient booked a matching appointment elsewhere, its
    deadline passed, or the visit booked from its offer took place."""

    entry_id: UUID
    why: Literal["booked_elsewhere", "deadline", "fulfilled"]
    appointment_id: UUID | None = None


class RebookDisplaced(Command, frozen=True, kw_only=True):
    """A patient the clinic displaced (their slot blocked, or the provider cancelled) gets a
    top-priority entry for the same provider and type; the policy then offers the nearest seat."""

    appointment_id: UUID
    cause: Literal["blocked", "clinic_cancelled"]
