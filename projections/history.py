"""As-of views: an appointment or a provider's schedule as it was at a past record time or log
position, rebuilt from the event log (never from the current read models) through the same
projection handlers and the same queries as the live read model: an appointment, a provider's
schedule, and a patient's agenda (their appointments). "Record time" is when Slotwise
learned of a change (the event's timestamp), not when the visit took place."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from uuid import UUID

import msgspec

from projections.queries import AppointmentFilter, AppointmentView, Page, ProviderSchedule


class AsOf(msgspec.Struct, frozen=True, kw_only=True):
    """What an as-of answer corresponds to: the last log position included, and the first
    signed checkpoint whose tree holds it (None until one is signed)."""

    position: int
    checkpoint_size: int | None


class History(Protocol):
    def position_at(self, when: datetime) -> int:
        """The last log position recorded at or before `when` (0 if none)."""
        ...

    def label(self, position: int) -> AsOf: ...

    def appointment(self, appointment_id: UUID, position: int) -> AppointmentView | None: ...

    def schedule(
        self, provider_id: UUID, first_day: date, last_day: date, position: int, now: datetime
    ) -> ProviderSchedule | None: ...

    def agenda(
        self, wanted: AppointmentFilter, position: int, now: datetime
    ) -> Page[AppointmentView]:
        """The appointments of `wanted.patient_id` (which must be set), filtered as `wanted`
        says, as they were after `position`."""
        ...
