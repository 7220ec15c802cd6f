"""The scheduling read model: appointments, slots and their seats, providers, patients."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from domain.appointment import Appointment, Status
from domain.follow_up import FollowUp, FollowUpStatus
from domain.patient import Patient
from domain.personal import ERASED, text_of
from domain.provider import Provider, average_rating
from domain.slot import Slot, SlotStatus
from projections.changes import Change, Delete, Handlers, Redact, RowProjection, Update, Upsert
from projections.lifecycle import Values, register_lifecycle

APPOINTMENTS = "rm_appointments"
SLOTS = "rm_slots"
SEATS = "rm_slot_seats"
PROVIDERS = "rm_providers"
PATIENTS = "rm_patients"
FOLLOW_UPS = "rm_follow_ups"
TABLES = (APPOINTMENTS, SLOTS, SEATS, PROVIDERS, PATIENTS, FOLLOW_UPS)
HOLD_EXPIRED = "hold expired"  # the cancel reason of an expired hold: written by the system
# What an erasure leaves: texts the system wrote, and empty ones (recorded plain: see
# domain.appointment.tagged), which a rebuild writes again as they are.
KEPT = (HOLD_EXPIRED, "")


def _stamp(event: Aggregate.Event) -> dict[str, Any]:
    return {"version": event.originator_version, "updated_at": event.timestamp}


def _appointment(event: Aggregate.Event, /, **values: Any) -> list[Change]:
    return [Update(APPOINTMENTS, {"id": event.originator_id}, {**values, **_stamp(event)})]


def _slot(event: Aggregate.Event, **values: Any) -> list[Change]:
    return [Update(SLOTS, {"id": event.originator_id}, {**values, **_stamp(event)})]


HANDLERS: Handlers[list[Change]] = Handlers(list)
on = HANDLERS.on


def changes_for(event: object) -> list[Change]:
    """The row changes one domain event makes; events this model ignores make none."""
    return HANDLERS(event)


@on(Provider.Registered)
def _(event: Provider.Registered) -> list[Change]:
    return [_provider_row(event, event.profile)]


@on(Provider.ProfileUpdated)
def _(event: Provider.ProfileUpdated) -> list[Change]:
    return [_provider_row(event, event.changes, partial=True)]


def _provider_row(
    event: Provider.Registered | Provider.ProfileUpdated,
    profile: dict[str, Any],
    *,
    partial: bool = False,
) -> Change:
    values: dict[str, Any] = {"profile": profile, **_stamp(event)}
    for column in ("name", "time_zone", "specializations"):
        if column in profile:
            values[column] = profile[column]
    if partial:
        return Update(PROVIDERS, {"id": event.originator_id}, values, merge=frozenset({"profile"}))
    return Upsert(PROVIDERS, {"id": event.originator_id}, values)


@on(Provider.Rated)
def _(event: Provider.Rated) -> list[Change]:
    average = average_rating(event.rating_sum, event.rating_count)
    values = {"rating": average, "rating_count": event.rating_count, **_stamp(event)}
    return [Update(PROVIDERS, {"id": event.originator_id}, values)]


@on(Patient.Registered)
def _(event: Patient.Registered) -> list[Change]:
    details = event.details
    values = {"name": text_of(details["name"]), "time_zone": details["time_zone"], **_stamp(event)}
    return [Upsert(PATIENTS, {"id": event.originator_id}, values)]


@on(Patient.DetailsUpdated)
def _(event: Patient.DetailsUpdated) -> list[Change]:
    values: dict[str, Any] = {}
    if "name" in event.changes:
        values["name"] = text_of(event.changes["name"])
    if "time_zone" in event.changes:
        values["time_zone"] = event.changes["time_zone"]
    return [Update(PATIENTS, {"id": event.originator_id}, {**values, **_stamp(event)})]


@on(Patient.Erased)
def _(event: Patient.Erased) -> list[Change]:
    # What a rebuild writes once the key is gone: every personal text reads as the marker.
    patient = {"patient_id": event.originator_id}
    return [
        Update(PATIENTS, {"id": event.originator_id}, {"name": ERASED, **_stamp(event)}),
        Redact(APPOINTMENTS, patient, ("reason", "cancel_reason"), ERASED, keep=KEPT),
        Redact(FOLLOW_UPS, patient, ("notes",), ERASED, keep=KEPT),
    ]


@on(Slot.Created)
def _(event: Slot.Created) -> list[Change]:
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


@on(Slot.SeatTaken)
def _(event: Slot.SeatTaken) -> list[Change]:
    key = {"slot_id": event.originator_id, "appointment_id": event.appointment_id}
    seat = Upsert(SEATS, key, {"hold_expires_at": event.hold_until, "overbooked": event.overbooked})
    return [seat, *_slot(event)]


@on(Slot.HoldConverted)
def _(event: Slot.HoldConverted) -> list[Change]:
    key = {"slot_id": event.originator_id, "appointment_id": event.appointment_id}
    return [Update(SEATS, key, {"hold_expires_at": None}), *_slot(event)]


@on(Slot.SeatReleased)
def _(event: Slot.SeatReleased) -> list[Change]:
    key = {"slot_id": event.originator_id, "appointment_id": event.appointment_id}
    return [Delete(SEATS, key), *_slot(event)]


@on(Slot.Blocked)
def _(event: Slot.Blocked) -> list[Change]:
    return _slot(event, status=SlotStatus.BLOCKED.value, block_reason=event.reason)


@on(Slot.Unblocked)
def _(event: Slot.Unblocked) -> list[Change]:
    return _slot(event, status=SlotStatus.OPEN.value, block_reason=None)


@on(Slot.Cancelled)
def _(event: Slot.Cancelled) -> list[Change]:
    return _slot(event, status=SlotStatus.CANCELLED.value)


@on(Appointment.Scheduled)
def _(event: Appointment.Scheduled) -> list[Change]:
    held = event.hold_expires_at is not None
    values = {
        "patient_id": event.patient_id,
        "provider_id": event.provider_id,
        "slot_id": event.slot_id,
        "start_at": event.start,
        "end_at": event.end,
        "appointment_type": event.appointment_type,
        "reason": text_of(event.reason),
        "status": (Status.HELD if held else Status.BOOKED).value,
        "hold_expires_at": event.hold_expires_at,
        "booked_at": None if held else event.timestamp,
        "overbooked": event.overbooked,
        "created_at": event.timestamp,
        **_stamp(event),
    }
    return [Upsert(APPOINTMENTS, {"id": event.originator_id}, values)]


@on(Appointment.JoinedSeries)
def _(event: Appointment.JoinedSeries) -> list[Change]:
    return _appointment(event, series_id=event.series_id, recurrence_id=event.recurrence_id)


@on(Appointment.LinkedToVisit)
def _(event: Appointment.LinkedToVisit) -> list[Change]:
    return _appointment(event, follows_id=event.follows_id)


@on(FollowUp.Requested)
def _(event: FollowUp.Requested) -> list[Change]:
    values = {
        "visit_id": event.visit_id,
        "patient_id": event.patient_id,
        "provider_id": event.provider_id,
        "appointment_type": event.appointment_type,
        "interval_days": event.interval_days,
        "due_from": event.due_from,
        "notes": text_of(event.notes),
        "status": FollowUpStatus.OPEN.value,
        "requested_at": event.timestamp,
        **_stamp(event),
    }
    return [Upsert(FOLLOW_UPS, {"id": event.originator_id}, values)]


@on(FollowUp.Booked)
def _(event: FollowUp.Booked) -> list[Change]:
    values = {"status": FollowUpStatus.BOOKED.value, "appointment_id": event.appointment_id}
    return [Update(FOLLOW_UPS, {"id": event.originator_id}, {**values, **_stamp(event)})]


@on(FollowUp.Dismissed)
def _(event: FollowUp.Dismissed) -> list[Change]:
    values = {"status": FollowUpStatus.DISMISSED.value, **_stamp(event)}
    return [Update(FOLLOW_UPS, {"id": event.originator_id}, values)]


# What this read model keeps beside the lifecycle columns every appointment model keeps.
EXTRAS: Handlers[Values] = Handlers(dict)


@EXTRAS.on(Appointment.BookedFromHold)
def _(e: Appointment.BookedFromHold) -> Values:
    return {"hold_expires_at": None}


@EXTRAS.on(Appointment.Cancelled)
def _(e: Appointment.Cancelled) -> Values:
    return {
        "cancel_reason": text_of(e.reason),
        "cancelled_by_role": e.meta.actor_role,
        "cancellation_fee": e.fee,
        "cancellation_currency": e.currency,
    }


@EXTRAS.on(Appointment.HoldExpired)
def _(e: Appointment.HoldExpired) -> Values:
    return {
        "cancelled_at": e.timestamp,
        "cancel_reason": HOLD_EXPIRED,
        "cancelled_by_role": e.meta.actor_role,
    }


@EXTRAS.on(Appointment.Rescheduled)
def _(e: Appointment.Rescheduled) -> Values:
    return {"rescheduled_from": e.from_start}


register_lifecycle(HANDLERS, _appointment, EXTRAS)


class SchedulingProjection(RowProjection):
    name = "scheduling"
    handlers = HANDLERS
