"""The reminder policy (issue 10): a tracked consumer of the event log, like a projection.

For every booking, reschedule, cancellation, no-show (and its reversal), hold expiry, slot
block, preference or consent change, it re-plans each appointment concerned from its current
state (`domain.reminder.desired_reminders`), adds the notices the event asks for, and has the
view make the stored plan equal to the desired one, with its position, in one transaction. It
plans as of now (its clock): a replay re-plans each appointment from its current state, which
is what the stored plan must equal anyway. It never sends: the scheduler hands due rows to
send jobs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID, uuid5

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection

from domain.appointment import Appointment
from domain.contact_preferences import ContactPreferences
from domain.notification import Category
from domain.patient import Patient
from domain.reminder import ReminderSettings, desired_reminders
from domain.slot import Slot
from domain.waitlist import WaitlistEntry
from projections.notifications.plan import AppointmentPlan, Notice, PlanningReader, notices

NAME = "notifications"
# The events that re-plan their appointment, and the notice each adds (if any).
APPOINTMENT_EVENTS: dict[type[Any], str | None] = {
    Appointment.Scheduled: "confirmation",
    Appointment.BookedFromHold: "confirmation",
    Appointment.Rescheduled: "reschedule",
    Appointment.Cancelled: "cancellation",
    Appointment.HoldExpired: None,
    Appointment.MarkedNoShow: None,
    Appointment.NoShowReverted: None,
    Appointment.Confirmed: None,
    Appointment.CheckedIn: None,
    Appointment.Started: None,
    Appointment.Completed: None,
}
PATIENT_EVENTS = (
    Patient.DetailsUpdated,
    Patient.Erased,
)
NOTIFIED_STATUSES = frozenset({"booked", "confirmed", "checked_in"})


class Now(Protocol):
    def now(self) -> datetime: ...


class UtcNow:
    def now(self) -> datetime:
        return datetime.now(UTC)


class PlanView(TrackingRecorder, ABC):
    @abstractmethod
    def planned_status(self, appointment_id: UUID) -> str | None:
        """The appointment's status when last planned (None: never planned)."""

    @abstractmethod
    def patient_appointments(self, patient_id: UUID) -> list[UUID]:
        """The patient's planned appointments that are still active."""

    @abstractmethod
    def reconcile(
        self, plans: Sequence[AppointmentPlan], notices: Sequence[Notice], tracking: Tracking
    ) -> None:
        """Make each plan's stored reminders equal to its desired ones (unsent ones not
        desired are removed, desired ones added), add the notices once, and record the
        position, in one transaction."""


def notice_event_id(aggregate_id: UUID, version: int) -> UUID:
    """The id the notices an event asked for carry (`event_id`): stable across re-runs."""
    return uuid5(aggregate_id, str(version))


class ReminderPolicy(Projection[PlanView]):
    name = NAME
    reader: ClassVar[PlanningReader]
    clock: ClassVar[Now] = UtcNow()
    settings: ClassVar[ReminderSettings] = ReminderSettings()

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        now = self.clock.now()
        event_id = notice_event_id(domain_event.originator_id, domain_event.originator_version)
        plans: list[AppointmentPlan] = []
        found: list[Notice] = []
        if isinstance(domain_event, WaitlistEntry.Offered):
            found.extend(self._offer_notices(event_id, domain_event, now))
        for appointment_id, notice in self._concerned(domain_event):
            current = self.reader.appointment(appointment_id)
            if current is None:
                continue
            state, provider_id = current
            before = self.view.planned_status(appointment_id)
            audience = self.reader.audience(state.patient_id, Category.REMINDERS)
            reminders = desired_reminders(state, audience, now, self.settings)
            plans.append(AppointmentPlan(state, provider_id, reminders))
            if notice is not None and _notice_wanted(notice, state.status, before):
                contact = self.reader.audience(state.patient_id, Category.APPOINTMENTS)
                found.extend(notices(event_id, notice, state, contact, now))
        self.view.reconcile(plans, found, tracking)

    def _offer_notices(
        self, event_id: UUID, offered: WaitlistEntry.Offered, now: datetime
    ) -> list[Notice]:
        """Tell the patient a seat is held for them, until the offer lapses. The offer was
        recorded before this runs and never waits for it; its hold gets no reminders."""
        current = self.reader.appointment(offered.appointment_id)
        if current is None:
            return []
        contact = self.reader.audience(offered.patient_id, Category.APPOINTMENTS)
        return notices(event_id, "waitlist_offer", current[0], contact, now, offered.expires_at)

    def _concerned(self, event: Any) -> list[tuple[UUID, str | None]]:
        kind = type(event)
        if kind in APPOINTMENT_EVENTS:
            return [(event.originator_id, APPOINTMENT_EVENTS[kind])]
        if isinstance(event, Slot.Blocked):
            return [(a, "slot_blocked") for a in event.affected_appointment_ids]
        if isinstance(event, ContactPreferences.Event):
            # Its later events carry only the aggregate's id; the reader maps it back.
            patient_id = self.reader.preferences_patient(event.originator_id)
        elif isinstance(event, PATIENT_EVENTS):
            patient_id = event.originator_id
        else:
            return []
        if patient_id is None:
            return []
        return [(a, None) for a in self.view.patient_appointments(patient_id)]


def _notice_wanted(kind: str, status: str, before: str | None) -> bool:
    if kind == "confirmation":
        return status in NOTIFIED_STATUSES
    if kind in ("cancellation", "slot_blocked"):
        # A hold that lapsed or was dropped was never confirmed to anyone.
        return before in NOTIFIED_STATUSES or kind == "slot_blocked"
    return status in NOTIFIED_STATUSES


def reminder_policy(
    reader: PlanningReader,
    settings: ReminderSettings | None = None,
    clock: Now | None = None,
) -> type[ReminderPolicy]:
    """The policy bound to what it reads (the application) and its reminder settings."""

    class Bound(ReminderPolicy):
        name = NAME  # eventsourcing names a projection by its class otherwise

    Bound.reader = reader
    Bound.settings = settings or ReminderSettings()
    Bound.clock = clock or UtcNow()
    return Bound
