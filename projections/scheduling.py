"""The scheduling read model: appointments, slots and their seats, providers, patients.

Every event advances the position, including those that change no row, so a caller waiting
for the position a command returned is never left waiting on an event this model ignores."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.appointment import Status
from domain.slot import SlotStatus
from projections.changes import Change, Delete, Handlers, RowView, Update, Upsert
from projections.lifecycle import register_lifecycle

APPOINTMENTS = "rm_appointments"
SLOTS = "rm_slots"
SEATS = "rm_slot_seats"
PROVIDERS = "rm_providers"
PATIENTS = "rm_patients"
TABLES = (APPOINTMENTS, SLOTS, SEATS, PROVIDERS, PATIENTS)


def _stamp(event: Any) -> dict[str, Any]:
    return {"version": event.originator_version, "updated_at": event.timestamp}


def _appointment(event: Any, **values: Any) -> list[Change]:
    return [Update(APPOINTMENTS, {"id": event.originator_id}, {**values, **_stamp(event)})]


def _slot(event: Any, **values: Any) -> list[Change]:
    return [Update(SLOTS, {"id": event.originator_id}, {**values, **_stamp(event)})]


HANDLERS = Handlers()
on = HANDLERS.on


def changes_for(event: Any) -> list[Change]:
    """The row changes one domain event makes; events this model ignores make none."""
    return HANDLERS.changes_for(event)


@on("Provider.Registered")
def _(event: Any) -> list[Change]:
    return [_provider_row(event, event.profile)]


@on("Provider.ProfileUpdated")
def _(event: Any) -> list[Change]:
    return [_provider_row(event, event.changes, partial=True)]


def _provider_row(event: Any, profile: dict[str, Any], *, partial: bool = False) -> Change:
    values: dict[str, Any] = {"profile": profile, **_stamp(event)}
    for column in ("name", "time_zone", "specializations"):
        if column in profile:
            values[column] = profile[column]
    if partial:
        return Update(PROVIDERS, {"id": event.originator_id}, values, merge=frozenset({"profile"}))
    return Upsert(PROVIDERS, {"id": event.originator_id}, values)


@on("Patient.Registered")
def _(event: Any) -> list[Change]:
    details = event.details
    values = {"name": details["name"], "time_zone": details["time_zone"], **_stamp(event)}
    return [Upsert(PATIENTS, {"id": event.originator_id}, values)]


@on("Patient.DetailsUpdated")
def _(event: Any) -> list[Change]:
    values = {k: event.changes[k] for k in ("name", "time_zone") if k in event.changes}
    return [Update(PATIENTS, {"id": event.originator_id}, {**values, **_stamp(event)})]


@on("Slot.Created")
def _(event: Any) -> list[Change]:
    values = {
        "provider_id": event.provider_id,
        "start_at": event.start,
        "end_at": event.end,
        "capacity": event.capacity,
        "overbook_allowance": event.overbook_allowance,
        "appointment_types": list(event.appointment_types),
        "location": event.location,
        "room": event.room,
        "status": SlotStatus.OPEN.value,
        **_stamp(event),
    }
    return [Upsert(SLOTS, {"id": event.originator_id}, values)]


@on("Slot.SeatTaken")
def _(event: Any) -> list[Change]:
    key = {"slot_id": event.originator_id, "appointment_id": event.appointment_id}
    seat = Upsert(SEATS, key, {"hold_expires_at": event.hold_until, "overbooked": event.overbooked})
    return [seat, *_slot(event)]


@on("Slot.HoldConverted")
def _(event: Any) -> list[Change]:
    key = {"slot_id": event.originator_id, "appointment_id": event.appointment_id}
    return [Update(SEATS, key, {"hold_expires_at": None}), *_slot(event)]


@on("Slot.SeatReleased")
def _(event: Any) -> list[Change]:
    key = {"slot_id": event.originator_id, "appointment_id": event.appointment_id}
    return [Delete(SEATS, key), *_slot(event)]


@on("Slot.Blocked")
def _(event: Any) -> list[Change]:
    return _slot(event, status=SlotStatus.BLOCKED.value, block_reason=event.reason)


@on("Slot.Unblocked")
def _(event: Any) -> list[Change]:
    return _slot(event, status=SlotStatus.OPEN.value, block_reason=None)


@on("Slot.Cancelled")
def _(event: Any) -> list[Change]:
    return _slot(event, status=SlotStatus.CANCELLED.value)


@on("Appointment.Scheduled")
def _(event: Any) -> list[Change]:
    held = event.hold_expires_at is not None
    values = {
        "patient_id": event.patient_id,
        "provider_id": event.provider_id,
        "slot_id": event.slot_id,
        "start_at": event.start,
        "end_at": event.end,
        "appointment_type": event.appointment_type,
        "reason": event.reason,
        "status": (Status.HELD if held else Status.BOOKED).value,
        "hold_expires_at": event.hold_expires_at,
        "booked_at": None if held else event.timestamp,
        "overbooked": event.overbooked,
        "created_at": event.timestamp,
        **_stamp(event),
    }
    return [Upsert(APPOINTMENTS, {"id": event.originator_id}, values)]


register_lifecycle(
    on,
    _appointment,
    {
        "Appointment.BookedFromHold": lambda e: {"hold_expires_at": None},
        "Appointment.Cancelled": lambda e: {
            "cancel_reason": e.reason,
            "cancelled_by_role": e.meta.actor_role,
            "cancellation_fee": e.fee,
            "cancellation_currency": e.currency,
        },
        "Appointment.HoldExpired": lambda e: {
            "cancelled_at": e.timestamp,
            "cancel_reason": "hold expired",
            "cancelled_by_role": e.meta.actor_role,
        },
        "Appointment.Rescheduled": lambda e: {"rescheduled_from": e.from_start},
    },
)


class SchedulingProjection(Projection[RowView]):
    name = "scheduling"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        identity = (domain_event.originator_id, domain_event.originator_version)
        self.view.apply(changes_for(domain_event), tracking, identity)
