"""The analytics read model: a fact row per appointment and per slot (with its seats), and a
small provider dimension. Measures over them are defined in projections/analytics_queries.py
and docs/analytics.md.

Each row is keyed by the id of the one aggregate whose events write it, and every change sets
values rather than adding to them, so re-applying an event changes nothing and events of
different aggregates may be applied in any order. What crosses aggregates (a provider's zone,
specialty or fee for an appointment or slot) is joined at query time, never copied in here.

Every event advances the position, including those that change no row, so a caller waiting
for the position a command returned is never left waiting on an event this model ignores."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.appointment import Status
from domain.slot import SlotStatus
from projections.changes import Change, Delete, Handlers, RowView, Update, Upsert
from projections.lifecycle import register_lifecycle

PROVIDERS = "an_providers"
APPOINTMENTS = "an_appointments"
SLOTS = "an_slots"
SEATS = "an_slot_seats"
TABLES = (PROVIDERS, APPOINTMENTS, SLOTS, SEATS)

HANDLERS = Handlers()
on = HANDLERS.on


def changes_for(event: Any) -> list[Change]:
    """The analytics row changes one domain event makes; events it ignores make none."""
    return HANDLERS.changes_for(event)


def _stamp(event: Any) -> dict[str, Any]:
    return {"version": event.originator_version, "updated_at": event.timestamp}


def _appointment(event: Any, **values: Any) -> list[Change]:
    return [Update(APPOINTMENTS, {"id": event.originator_id}, {**values, **_stamp(event)})]


def _slot(event: Any, **values: Any) -> list[Change]:
    return [Update(SLOTS, {"id": event.originator_id}, {**values, **_stamp(event)})]


def _seat(event: Any) -> dict[str, Any]:
    return {"slot_id": event.originator_id, "appointment_id": event.appointment_id}


def _provider_values(profile: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in ("name", "time_zone", "fee_currency"):
        if column in profile:
            values[column] = profile[column]
    if "specializations" in profile:
        specializations = profile["specializations"] or []
        values["specialty"] = specializations[0] if specializations else None
    if "fee_amount" in profile:
        fee = profile["fee_amount"]
        values["fee_amount"] = None if fee is None else Decimal(str(fee))
    return values


@on("Provider.Registered")
def _(event: Any) -> list[Change]:
    values = {
        "name": None,
        "time_zone": None,
        "specialty": None,
        "fee_amount": None,
        "fee_currency": None,
        **_provider_values(event.profile),
        **_stamp(event),
    }
    return [Upsert(PROVIDERS, {"id": event.originator_id}, values)]


@on("Provider.ProfileUpdated")
def _(event: Any) -> list[Change]:
    values = {**_provider_values(event.changes), **_stamp(event)}
    return [Update(PROVIDERS, {"id": event.originator_id}, values)]


@on("Slot.Created")
def _(event: Any) -> list[Change]:
    values = {
        "provider_id": event.provider_id,
        "start_at": event.start,
        "end_at": event.end,
        "capacity": event.capacity,
        "status": SlotStatus.OPEN.value,
        **_stamp(event),
    }
    return [Upsert(SLOTS, {"id": event.originator_id}, values)]


@on("Slot.SeatTaken")
def _(event: Any) -> list[Change]:
    return [Upsert(SEATS, _seat(event), {"held": event.hold_until is not None}), *_slot(event)]


@on("Slot.HoldConverted")
def _(event: Any) -> list[Change]:
    return [Update(SEATS, _seat(event), {"held": False}), *_slot(event)]


@on("Slot.SeatReleased")
def _(event: Any) -> list[Change]:
    return [Delete(SEATS, _seat(event)), *_slot(event)]


@on("Slot.Blocked")
def _(event: Any) -> list[Change]:
    return _slot(event, status=SlotStatus.BLOCKED.value)


@on("Slot.Unblocked")
def _(event: Any) -> list[Change]:
    return _slot(event, status=SlotStatus.OPEN.value)


@on("Slot.Cancelled")
def _(event: Any) -> list[Change]:
    return _slot(event, status=SlotStatus.CANCELLED.value)


@on("Appointment.Scheduled")
def _(event: Any) -> list[Change]:
    held = event.hold_expires_at is not None
    values = {
        "provider_id": event.provider_id,
        "patient_id": event.patient_id,
        "slot_id": event.slot_id,
        "appointment_type": event.appointment_type,
        "start_at": event.start,
        "end_at": event.end,
        "status": (Status.HELD if held else Status.BOOKED).value,
        "overbooked": event.overbooked,
        "scheduled_at": event.timestamp,
        "booked_at": None if held else event.timestamp,
        **_stamp(event),
    }
    return [Upsert(APPOINTMENTS, {"id": event.originator_id}, values)]


register_lifecycle(
    on,
    _appointment,
    {
        "Appointment.HoldExpired": lambda e: {"hold_expired_at": e.timestamp},
        "Appointment.Rescheduled": lambda e: {"rescheduled_at": e.timestamp},
    },
)


class AnalyticsProjection(Projection[RowView]):
    name = "analytics"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        identity = (domain_event.originator_id, domain_event.originator_version)
        self.view.apply(changes_for(domain_event), tracking, identity)
