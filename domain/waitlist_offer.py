"""What an entry's offers are made of: the entry's statuses, an open offer, and the refusal of
an offer the entry may not take; and the patient's search area as stored (their personal data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.errors import ConflictError
from domain.personal import PersonalData, personal
from domain.waitlist_rules import Area


class EntryStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    FULFILLED = "fulfilled"


OPEN = frozenset({EntryStatus.WAITING, EntryStatus.OFFERED, EntryStatus.DECLINED})


class NotEligibleError(ConflictError):
    """The entry may not be offered this seat now (status, cool-down, or the seat's fit)."""


@dataclass(frozen=True)
class Offer:
    offer_id: UUID
    slot_id: UUID
    provider_id: UUID
    appointment_id: UUID  # the hold on the seat, in the patient's name
    slot_start: datetime
    offered_at: datetime
    expires_at: datetime


def stored_area(patient_id: UUID, area: Area | None) -> PersonalData | None:
    if area is None:
        return None
    return personal(patient_id, [area.latitude, area.longitude, area.radius_km])


def area_of(stored: object) -> Area | None:
    if isinstance(stored, PersonalData) and isinstance(stored.value, list):
        lat, lon, radius = (float(v) for v in stored.value)  # type: ignore[arg-type]
        return Area(lat, lon, radius)
    return None
