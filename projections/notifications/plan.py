"""What the reminder policy decides for one event: which appointments to re-plan, and which
notices (confirmation, reschedule, cancellation, slot blocked) to add. Pure: the policy hands
it what it read and writes what it returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.notification import Category, Channel, SkipReason, send_time
from domain.reminder import AppointmentState, Audience, PlannedReminder

# A message kind's category and whether it waits for its appointment (never sent after start).
NOTICE_KINDS: dict[str, tuple[Category, bool]] = {
    "confirmation": (Category.APPOINTMENTS, True),
    "reschedule": (Category.APPOINTMENTS, True),
    "cancellation": (Category.APPOINTMENTS, False),
    "slot_blocked": (Category.APPOINTMENTS, False),
    # Block: waitlist offers (issue 11); bounded by the offer's expiry, not the start.
    "waitlist_offer": (Category.APPOINTMENTS, True),
}


@dataclass(frozen=True)
class Notice:
    """One message caused by one event, on one channel: one send per (event, channel)."""

    event_id: UUID
    kind: str
    category: Category
    channel: Channel
    patient_id: UUID
    appointment_id: UUID | None
    start: datetime | None
    due_at: datetime
    deadline: datetime | None
    skip: SkipReason | None = None

    @property
    def key(self) -> str:
        return f"{self.event_id}:{self.kind}:{self.channel.value}"


@dataclass(frozen=True)
class AppointmentPlan:
    """An appointment's current state and the reminders it should have now."""

    appointment: AppointmentState
    provider_id: UUID
    reminders: list[PlannedReminder]


class PlanningReader(Protocol):
    """What the policy reads of the current state (through the application)."""

    def appointment(self, appointment_id: UUID) -> tuple[AppointmentState, UUID] | None:
        """The appointment's state and its provider, or None."""
        ...

    def audience(self, patient_id: UUID, category: Category) -> Audience:
        """The channels `category` may use for the patient (none once erased), their quiet
        hours and zone."""
        ...

    def preferences_patient(self, preferences_id: UUID) -> UUID | None:
        """The patient whose contact preferences these are."""
        ...


def notices(
    event_id: UUID,
    kind: str,
    appointment: AppointmentState,
    audience: Audience,
    now: datetime,
    deadline: datetime | None = None,
) -> list[Notice]:
    """The notice `kind` about `appointment`, on each allowed channel, quiet hours applied;
    never sent after `deadline` (by default its start, for a kind bounded by it)."""
    category, bounded = NOTICE_KINDS[kind]
    if deadline is None and bounded:
        deadline = appointment.start
    found: list[Notice] = []
    for channel in audience.channels:
        quiet = None if channel is Channel.IN_APP else audience.quiet
        at = send_time(now, now, quiet, audience.zone, deadline)
        skip = None if at is not None else SkipReason.QUIET_HOURS_EXHAUSTED
        if skip is not None and deadline is not None and now >= deadline:
            skip = SkipReason.TOO_LATE
        found.append(
            Notice(
                event_id,
                kind,
                category,
                channel,
                appointment.patient_id,
                appointment.appointment_id,
                appointment.start,
                now if at is None else at,
                deadline,
                skip,
            )
        )
    return found
