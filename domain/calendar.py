"""Per-provider, per-UTC-day calendars that refuse overlapping slots.

A provider's slots are spread over one small aggregate per UTC day they touch. Two overlapping
slots always share a day, so checking every day bucket a new slot touches, inside the same
atomic save, enforces "no provider has overlapping slots" without one ever-growing aggregate.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import SlotOverlapError
from domain.timerange import TimeRange

CALENDAR_NAMESPACE = UUID("6f1c1d1e-8a57-4c59-9d0e-2f0a6d1c9e11")


class ProviderCalendar(Aggregate):
    class Opened(Aggregate.Created):
        provider_id: UUID
        day: date
        meta: EventMeta

    class SlotPlaced(Aggregate.Event):
        slot_id: UUID
        start: datetime
        end: datetime
        meta: EventMeta

    class SlotRemoved(Aggregate.Event):
        slot_id: UUID
        meta: EventMeta

    @staticmethod
    def create_id(provider_id: UUID, day: date) -> UUID:
        return uuid5(CALENDAR_NAMESPACE, f"{provider_id}/{day.isoformat()}")

    @event(Opened)
    def __init__(self, provider_id: UUID, day: date, meta: EventMeta) -> None:
        self.provider_id = provider_id
        self.day = day
        self.entries: dict[UUID, tuple[datetime, datetime]] = {}
        # Slot ids never return once removed: a cancelled slot's id is taken for good.
        self.removed: set[UUID] = set()

    def find_overlap(self, time: TimeRange) -> UUID | None:
        for slot_id, (start, end) in self.entries.items():
            if time.overlaps(TimeRange(start, end)):
                return slot_id
        return None

    def has_exact(self, slot_id: UUID, time: TimeRange) -> bool:
        return self.entries.get(slot_id) == (time.start, time.end)

    def was_removed(self, slot_id: UUID) -> bool:
        return slot_id in self.removed

    def place(self, slot_id: UUID, time: TimeRange, meta: EventMeta) -> None:
        clash = self.find_overlap(time)
        if clash is not None:
            start, end = self.entries[clash]
            msg = f"overlaps slot {clash} ({start.isoformat()} to {end.isoformat()})"
            raise SlotOverlapError(msg)
        self._placed(slot_id, time.start, time.end, meta)

    @event(SlotPlaced)
    def _placed(self, slot_id: UUID, start: datetime, end: datetime, meta: EventMeta) -> None:
        self.entries[slot_id] = (start, end)

    def remove(self, slot_id: UUID, meta: EventMeta) -> None:
        if slot_id in self.entries:
            self._removed(slot_id, meta)

    @event(SlotRemoved)
    def _removed(self, slot_id: UUID, meta: EventMeta) -> None:
        del self.entries[slot_id]
        self.removed.add(slot_id)
