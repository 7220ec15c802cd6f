"""The Feedback aggregate: a patient's rating (1-5) of a completed visit, with an optional
comment. Given once per visit (its id derives from the visit's) and editable for a week."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import TooLateError, ValidationError
from domain.limits import check_fields
from domain.personal import PersonalData, personal

FEEDBACK_NAMESPACE = UUID("c2a9e3f4-71b8-4d0a-8e6f-3b5d9a1c7e42")
EDITABLE_FOR = timedelta(days=7)


def _check(rating: int, comment: str) -> None:
    check_fields({"comment": comment}, {"comment": str}, "feedback")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError("rating must be a whole number from 1 to 5")


class Feedback(Aggregate):
    class Given(Aggregate.Created):
        visit_id: UUID
        patient_id: UUID
        provider_id: UUID
        rating: int
        comment: PersonalData | str  # str only when empty
        at: datetime
        meta: EventMeta

    @staticmethod
    def create_id(visit_id: UUID) -> UUID:
        return uuid5(FEEDBACK_NAMESPACE, str(visit_id))

    @event(Given)
    def __init__(
        self,
        id: UUID,
        visit_id: UUID,
        patient_id: UUID,
        provider_id: UUID,
        rating: int,
        comment: PersonalData | str,
        at: datetime,
        meta: EventMeta,
    ) -> None:
        self.given_at = at
        self.visit_id = visit_id
        self.patient_id = patient_id
        self.provider_id = provider_id
        self.rating = rating
        self.comment = comment

    @classmethod
    def give(
        cls,
        *,
        visit_id: UUID,
        patient_id: UUID,
        provider_id: UUID,
        rating: int,
        comment: str,
        now: datetime,
        meta: EventMeta,
    ) -> Feedback:
        _check(rating, comment)
        return cls(
            id=cls.create_id(visit_id),
            visit_id=visit_id,
            patient_id=patient_id,
            provider_id=provider_id,
            rating=rating,
            comment=personal(patient_id, comment) if comment else "",
            at=now,
            meta=meta,
        )

    def edit(self, rating: int, comment: str, now: datetime, meta: EventMeta) -> int:
        """Change the rating and comment; returns the rating it replaces."""
        _check(rating, comment)
        if now > self.given_at + EDITABLE_FOR:
            raise TooLateError(f"feedback can be edited for {EDITABLE_FOR.days} days")
        previous = self.rating
        stored = personal(self.patient_id, comment) if comment else ""
        self._edited(rating, stored, meta)
        return previous

    class Edited(Aggregate.Event):
        rating: int
        comment: PersonalData | str
        meta: EventMeta

    @event(Edited)
    def _edited(self, rating: int, comment: PersonalData | str, meta: EventMeta) -> None:
        self.rating = rating
        self.comment = comment
