"""A saved analytics report (issue 14): an analyst's definition of a measure, its grouping,
filters and period, re-run on demand. It holds no figures: a run reads the analytics model."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import ValidationError

GROUPINGS = {
    "appointments": frozenset({"day", "hour", "provider", "specialty"}),
    "revenue": frozenset({"day", "method", "service", "provider", "specialty"}),
    "performance": frozenset(),
    "access": frozenset(),
    "patients": frozenset(),
    "demographics": frozenset({"age_band", "sex", "gender", "postal_prefix"}),
}


class Measure(StrEnum):
    APPOINTMENTS = "appointments"
    REVENUE = "revenue"
    PERFORMANCE = "performance"
    ACCESS = "access"
    PATIENTS = "patients"
    DEMOGRAPHICS = "demographics"


def check_definition(
    measure: Measure, group_by: str | None, start: datetime, end: datetime
) -> None:
    allowed = GROUPINGS[measure.value]
    if group_by is not None and group_by not in allowed:
        if not allowed:
            raise ValidationError(f"{measure.value} cannot be grouped")
        raise ValidationError(f"{measure.value} can be grouped by {', '.join(sorted(allowed))}")
    if measure is Measure.DEMOGRAPHICS and group_by is None:
        raise ValidationError("demographics need group_by: age_band, gender, postal_prefix or sex")
    if start.tzinfo is None or end.tzinfo is None or not start < end:
        raise ValidationError("a report's period needs aware instants with from before to")


class SavedReport(Aggregate):
    class Saved(Aggregate.Created):
        owner_id: UUID
        name: str
        measure: str
        group_by: str | None
        provider_id: UUID | None
        specialty: str | None
        start_from: datetime
        start_to: datetime
        meta: EventMeta

    @event(Saved)
    def __init__(
        self,
        id: UUID,
        owner_id: UUID,
        name: str,
        measure: str,
        group_by: str | None,
        provider_id: UUID | None,
        specialty: str | None,
        start_from: datetime,
        start_to: datetime,
        meta: EventMeta,
    ) -> None:
        self.owner_id = owner_id
        self.name = name
        self.measure = Measure(measure)
