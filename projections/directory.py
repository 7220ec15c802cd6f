"""The read side of the directory (providers, patients) and of every slot whatever its status:
DTOs and the query Protocol, over the scheduling read model's rows. The FHIR facade reads
Practitioner, PractitionerRole, Schedule, Patient and Slot through it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

import msgspec

from domain.actor import Actor, Role
from projections.queries import AppointmentFilter, Page, SlotView


class ProviderView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    time_zone: str
    specializations: list[str]
    address: str | None
    first_slot_start: datetime | None  # the provider's published slots span these instants
    last_slot_end: datetime | None
    version: int
    updated_at: datetime
    rating: Decimal | None = None  # the average of patients' ratings of their visits
    rating_count: int = 0


class PatientView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    time_zone: str
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class DirectoryFilter:
    """Providers or patients: by id, by a part of the name, by specialty (providers)."""

    ids: tuple[UUID, ...] = ()
    name: str | None = None
    specialty: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class SlotSearch:
    """Slots of any status. `fhir_statuses` are Slot.status codes (domain/fhir_status.py);
    `bookable_after` keeps only slots starting after that instant."""

    provider_id: UUID | None = None
    start_from: datetime | None = None
    start_to: datetime | None = None
    fhir_statuses: tuple[str, ...] = ()
    appointment_type: str | None = None
    specialty: str | None = None
    location: str | None = None
    bookable_after: datetime | None = None
    limit: int = 50
    offset: int = 0


def may_see_patient(actor: Actor, patient_id: UUID) -> bool:
    """A patient sees their own record, staff every one; nobody else any."""
    if actor.role is Role.STAFF:
        return True
    return actor.role is Role.PATIENT and actor.subject == patient_id


class DirectoryQueries(Protocol):
    """Pages here carry `total`, the number of every match."""

    def provider(self, provider_id: UUID) -> ProviderView | None: ...

    def providers(self, wanted: DirectoryFilter) -> Page[ProviderView]: ...

    def patient(self, patient_id: UUID) -> PatientView | None: ...

    def patients(self, wanted: DirectoryFilter) -> Page[PatientView]: ...

    def slot(self, slot_id: UUID, now: datetime) -> SlotView | None: ...

    def slots(self, wanted: SlotSearch, now: datetime) -> Page[SlotView]: ...

    def appointment_total(self, wanted: AppointmentFilter) -> int:
        """How many appointments match, for a search's `total`."""
        ...
