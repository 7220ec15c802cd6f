"""The analytics read model: a fact row per appointment and per slot (with its seats), and a
small provider dimension. Measures over them are defined in projections/analytics_queries.py
and docs/analytics.md.

Each row is keyed by the id of the one aggregate whose events write it, and every change sets
values rather than adding to them, so re-applying an event changes nothing and events of
different aggregates may be applied in any order. What crosses aggregates (a provider's zone,
specialty or name for an appointment, slot or payment) is joined at query time, never copied in
here; the fees of a booking are those its Scheduled event recorded. Revenue rows:
projections/revenue.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate

from domain.appointment import BOOKING_FEES, Appointment, Status
from domain.provider import Provider, average_rating
from domain.slot import Slot, SlotStatus
from projections.changes import Change, Delete, Handlers, RowProjection, Update, Upsert
from projections.demographics import BANDS, register_demographics
from projections.lifecycle import Values, register_lifecycle
from projections.revenue import REVENUE_TABLES, register_revenue

PROVIDERS = "an_providers"
APPOINTMENTS = "an_appointments"
SLOTS = "an_slots"
SEATS = "an_slot_seats"
STATUS_HISTORY = "an_slot_status_history"
SEAT_HISTORY = "an_seat_history"
TABLES = (
    *(PROVIDERS, APPOINTMENTS, SLOTS, SEATS, STATUS_HISTORY, SEAT_HISTORY),
    *(*REVENUE_TABLES, BANDS),
)

HANDLERS: Handlers[list[Change]] = Handlers(list)
on = HANDLERS.on


def changes_for(event: object) -> list[Change]:
    """The analytics row changes one domain event makes; events it ignores make none."""
    return HANDLERS(event)


def _stamp(event: Aggregate.Event) -> dict[str, Any]:
    return {"version": event.originator_version, "updated_at": event.timestamp}


def _appointment(event: Aggregate.Event, /, **values: Any) -> list[Change]:
    return [Update(APPOINTMENTS, {"id": event.originator_id}, {**values, **_stamp(event)})]


def _slot(event: Aggregate.Event, **values: Any) -> list[Change]:
    changes: list[Change] = [
        Update(SLOTS, {"id": event.originator_id}, {**values, **_stamp(event)})
    ]
    if "status" in values:
        key = {"slot_id": event.originator_id, "version": event.originator_version}
        history = {"at": event.timestamp, "status": values["status"]}
        changes.append(Upsert(STATUS_HISTORY, key, history))
    return changes


def _seat(event: Slot.SeatTaken | Slot.HoldConverted | Slot.SeatReleased) -> dict[str, Any]:
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


@on(Provider.Registered)
def _(event: Provider.Registered) -> list[Change]:
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


@on(Provider.ProfileUpdated)
def _(event: Provider.ProfileUpdated) -> list[Change]:
    values = {**_provider_values(event.changes), **_stamp(event)}
    return [Update(PROVIDERS, {"id": event.originator_id}, values)]


@on(Provider.Rated)
def _(event: Provider.Rated) -> list[Change]:
    average = average_rating(event.rating_sum, event.rating_count)
    values = {"rating": average, "rating_count": event.rating_count, **_stamp(event)}
    return [Update(PROVIDERS, {"id": event.originator_id}, values)]


@on(Appointment.JoinedSeries)
def _(event: Appointment.JoinedSeries) -> list[Change]:
    return _appointment(event, series_id=event.series_id)


@on(Appointment.LinkedToVisit)
def _(event: Appointment.LinkedToVisit) -> list[Change]:
    return _appointment(event, follows_id=event.follows_id)


@on(Slot.Created)
def _(event: Slot.Created) -> list[Change]:
    values = {
        "provider_id": event.provider_id,
        "start_at": event.start,
        "end_at": event.end,
        "capacity": event.capacity,
        "status": SlotStatus.OPEN.value,
        "appointment_types": list(event.appointment_types),
        **_stamp(event),
    }
    key = {"slot_id": event.originator_id, "version": event.originator_version}
    opened = {"at": event.timestamp, "status": SlotStatus.OPEN.value}
    return [Upsert(SLOTS, {"id": event.originator_id}, values), Upsert(STATUS_HISTORY, key, opened)]


@on(Slot.SeatTaken)
def _(event: Slot.SeatTaken) -> list[Change]:
    held = event.hold_until is not None
    taken = {
        "taken_at": event.timestamp,
        "booked_at": None if held else event.timestamp,
        "released_at": None,
    }
    return [
        Upsert(SEATS, _seat(event), {"held": held}),
        Upsert(SEAT_HISTORY, _seat(event), taken),
        *_slot(event),
    ]


@on(Slot.HoldConverted)
def _(event: Slot.HoldConverted) -> list[Change]:
    return [
        Update(SEATS, _seat(event), {"held": False}),
        Update(SEAT_HISTORY, _seat(event), {"booked_at": event.timestamp}),
        *_slot(event),
    ]


@on(Slot.SeatReleased)
def _(event: Slot.SeatReleased) -> list[Change]:
    return [
        Delete(SEATS, _seat(event)),
        Update(SEAT_HISTORY, _seat(event), {"released_at": event.timestamp}),
        *_slot(event),
    ]


@on(Slot.Blocked)
def _(event: Slot.Blocked) -> list[Change]:
    return _slot(event, status=SlotStatus.BLOCKED.value)


@on(Slot.Unblocked)
def _(event: Slot.Unblocked) -> list[Change]:
    return _slot(event, status=SlotStatus.OPEN.value)


@on(Slot.Cancelled)
def _(event: Slot.Cancelled) -> list[Change]:
    return _slot(event, status=SlotStatus.CANCELLED.value)


@on(Appointment.Scheduled)
def _(event: Appointment.Scheduled) -> list[Change]:
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
        **{name: getattr(event, name) for name in BOOKING_FEES},
        **_stamp(event),
    }
    return [Upsert(APPOINTMENTS, {"id": event.originator_id}, values)]


# What this read model keeps beside the lifecycle columns every appointment model keeps.
EXTRAS: Handlers[Values] = Handlers(dict)


@EXTRAS.on(Appointment.HoldExpired)
def _(e: Appointment.HoldExpired) -> Values:
    return {"hold_expired_at": e.timestamp}


@EXTRAS.on(Appointment.Rescheduled)
def _(e: Appointment.Rescheduled) -> Values:
    return {"rescheduled_at": e.timestamp}


register_lifecycle(HANDLERS, _appointment, EXTRAS)
register_revenue(HANDLERS, _stamp)
register_demographics(HANDLERS, _stamp)


class AnalyticsProjection(RowProjection):
    name = "analytics"
    handlers = HANDLERS
