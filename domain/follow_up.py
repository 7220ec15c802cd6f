"""The FollowUp aggregate: a request, made when a visit is completed, that the patient come back
after an interval for an appointment of a given type. Booking it links the new appointment to
the visit it follows. One per visit: its id derives from the visit's."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import ConflictError, ValidationError
from domain.limits import check_fields
from domain.personal import PersonalData, personal

FOLLOW_UP_NAMESPACE = UUID("5b0c6f0e-2c1d-4a8e-9f53-1f0e7d6a4b21")
MAX_INTERVAL_DAYS = 730


class FollowUpStatus(StrEnum):
    OPEN = "open"
    BOOKED = "booked"
    DISMISSED = "dismissed"


class FollowUp(Aggregate):
    class Requested(Aggregate.Created):
        visit_id: UUID
        patient_id: UUID
        provider_id: UUID
        appointment_type: str
        interval_days: int
        due_from: datetime
        notes: PersonalData | str  # for staff; str only when empty
        meta: EventMeta

    @staticmethod
    def create_id(visit_id: UUID) -> UUID:
        return uuid5(FOLLOW_UP_NAMESPACE, str(visit_id))

    @event(Requested)
    def __init__(
        self,
        id: UUID,
        visit_id: UUID,
        patient_id: UUID,
        provider_id: UUID,
        appointment_type: str,
        interval_days: int,
        due_from: datetime,
        notes: PersonalData | str,
        meta: EventMeta,
    ) -> None:
        self.visit_id = visit_id
        self.patient_id = patient_id
        self.provider_id = provider_id
        self.appointment_type = appointment_type
        self.interval_days = interval_days
        self.due_from = due_from
        self.status = FollowUpStatus.OPEN
        self.appointment_id: UUID | None = None

    @classmethod
    def request(
        cls,
        *,
        visit_id: UUID,
        patient_id: UUID,
        provider_id: UUID,
        completed_at: datetime,
        appointment_type: str,
        interval_days: int,
        notes: str,
        meta: EventMeta,
    ) -> FollowUp:
        if not 1 <= interval_days <= MAX_INTERVAL_DAYS:
            raise ValidationError(f"interval_days must be between 1 and {MAX_INTERVAL_DAYS}")
        check_fields({"notes": notes}, {"notes": str}, "follow_up")
        stored: PersonalData | str = personal(patient_id, notes) if notes else ""
        return cls(
            id=cls.create_id(visit_id),
            visit_id=visit_id,
            patient_id=patient_id,
            provider_id=provider_id,
            appointment_type=appointment_type,
            interval_days=interval_days,
            due_from=completed_at + timedelta(days=interval_days),
            notes=stored,
            meta=meta,
        )

    def _require_open(self) -> None:
        if self.status is not FollowUpStatus.OPEN:
            raise ConflictError(f"the follow-up request is {self.status.value}")

    def book(self, appointment_id: UUID, meta: EventMeta) -> None:
        self._require_open()
        self._booked(appointment_id, meta)

    class Booked(Aggregate.Event):
        appointment_id: UUID
        meta: EventMeta

    @event(Booked)
    def _booked(self, appointment_id: UUID, meta: EventMeta) -> None:
        self.status = FollowUpStatus.BOOKED
        self.appointment_id = appointment_id

    def dismiss(self, meta: EventMeta) -> None:
        self._require_open()
        self._dismissed(meta)

    class Dismissed(Aggregate.Event):
        meta: EventMeta

    @event(Dismissed)
    def _dismissed(self, meta: EventMeta) -> None:
        self.status = FollowUpStatus.DISMISSED
