"""The Series aggregate: a patient's recurring appointments with one provider, from one rule.

Each occurrence is an ordinary Appointment carrying the series id and its recurrence id (the
occurrence's original start, which never changes when the occurrence is rescheduled). The
series records which occurrences it booked and which it refused (partial mode). "This and
following" splits it: the later occurrences move to a new series, which names its parent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import ConflictError, ValidationError


class SeriesConflictError(ConflictError):
    """Occurrences of a series cannot be booked or moved; `conflicts` lists each with the
    reason and the nearest free alternatives (ids and times only)."""

    def __init__(self, message: str, conflicts: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.conflicts = conflicts


class SeriesMode(StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    PARTIAL = "partial"


class Series(Aggregate):
    class Booked(Aggregate.Created):
        patient_id: UUID
        provider_id: UUID
        appointment_type: str
        rule: str
        zone: str
        first_start: datetime
        exdates: list[datetime]
        mode: str
        recurrence_ids: list[datetime]
        appointment_ids: list[UUID]
        refused: list[dict[str, Any]]
        split_from: UUID | None
        meta: EventMeta

    @event(Booked)
    def __init__(
        self,
        id: UUID,
        patient_id: UUID,
        provider_id: UUID,
        appointment_type: str,
        rule: str,
        zone: str,
        first_start: datetime,
        exdates: list[datetime],
        mode: str,
        recurrence_ids: list[datetime],
        appointment_ids: list[UUID],
        refused: list[dict[str, Any]],
        split_from: UUID | None,
        meta: EventMeta,
    ) -> None:
        if len(recurrence_ids) != len(appointment_ids):
            raise ValidationError("every booked occurrence needs its appointment")
        self.patient_id = patient_id
        self.provider_id = provider_id
        self.appointment_type = appointment_type
        self.rule = rule
        self.zone = zone
        self.first_start = first_start
        self.exdates = list(exdates)
        self.mode = SeriesMode(mode)
        self.occurrences: dict[datetime, UUID] = dict(
            zip(recurrence_ids, appointment_ids, strict=True)
        )
        self.refused = list(refused)
        self.split_from = split_from
        self.split_at: datetime | None = None
        self.children: list[UUID] = []

    @property
    def intact(self) -> bool:
        """Whether its occurrences are still those its rule describes from its first start
        (neither split off another series nor cut short by a split)."""
        return self.split_from is None and self.split_at is None

    def appointment_at(self, recurrence_id: datetime) -> UUID:
        found = self.occurrences.get(recurrence_id)
        if found is None:
            msg = f"the series has no booked occurrence {recurrence_id.isoformat()}"
            raise ValidationError(msg)
        return found

    def following(self, recurrence_id: datetime) -> dict[datetime, UUID]:
        """The occurrences at or after `recurrence_id`, in order."""
        self.appointment_at(recurrence_id)
        return {r: a for r, a in sorted(self.occurrences.items()) if r >= recurrence_id}

    def split(self, recurrence_id: datetime, new_series_id: UUID, meta: EventMeta) -> None:
        """Hand the occurrences from `recurrence_id` on to the series `new_series_id`."""
        if recurrence_id == min(self.occurrences, default=None):
            raise ConflictError("splitting at the first occurrence would leave nothing behind")
        self.appointment_at(recurrence_id)
        self._split(recurrence_id, new_series_id, meta)

    class Split(Aggregate.Event):
        at: datetime
        new_series_id: UUID
        meta: EventMeta

    @event(Split)
    def _split(self, at: datetime, new_series_id: UUID, meta: EventMeta) -> None:
        self.occurrences = {r: a for r, a in self.occurrences.items() if r < at}
        self.refused = [r for r in self.refused if datetime.fromisoformat(r["recurrence_id"]) < at]
        self.split_at = at
        self.children.append(new_series_id)
