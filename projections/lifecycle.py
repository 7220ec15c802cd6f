"""The appointment lifecycle as read-model columns: status, instants and measures that every
appointment read model keeps, derived from the events in one place."""

from __future__ import annotations

from typing import Any, Protocol

from domain.appointment import Appointment, Status
from projections.changes import Change, Handlers

Values = dict[str, Any]

LIFECYCLE: Handlers[Values] = Handlers(dict)
on = LIFECYCLE.on


@on(Appointment.BookedFromHold)
def _(e: Appointment.BookedFromHold) -> Values:
    return {"status": Status.BOOKED.value, "booked_at": e.timestamp}


@on(Appointment.Confirmed)
def _(e: Appointment.Confirmed) -> Values:
    return {"status": Status.CONFIRMED.value, "confirmed_at": e.timestamp}


@on(Appointment.CheckedIn)
def _(e: Appointment.CheckedIn) -> Values:
    return {"status": Status.CHECKED_IN.value, "checked_in_at": e.at}


@on(Appointment.Started)
def _(e: Appointment.Started) -> Values:
    return {"status": Status.IN_PROGRESS.value, "started_at": e.at, "wait_seconds": e.wait_seconds}


@on(Appointment.Completed)
def _(e: Appointment.Completed) -> Values:
    return {
        "status": Status.COMPLETED.value,
        "completed_at": e.at,
        "duration_seconds": e.duration_seconds,
        "follow_up_requested": e.follow_up_requested,
    }


@on(Appointment.Cancelled)
def _(e: Appointment.Cancelled) -> Values:
    return {"status": Status.CANCELLED.value, "cancelled_at": e.at, "late_cancellation": e.late}


@on(Appointment.HoldExpired)
def _(e: Appointment.HoldExpired) -> Values:
    return {"status": Status.CANCELLED.value}


@on(Appointment.Rescheduled)
def _(e: Appointment.Rescheduled) -> Values:
    kept = e.confirmation_kept
    values: Values = {
        "status": (Status.CONFIRMED if kept else Status.BOOKED).value,
        "slot_id": e.slot_id,
        "start_at": e.start,
        "end_at": e.end,
    }
    if not kept:
        values["confirmed_at"] = None
    if e.provider_id is not None:  # staff moved the visit to another provider
        values["provider_id"] = e.provider_id
    if e.overbooked is not None:  # recorded since version 2: the new seat's
        values["overbooked"] = e.overbooked
    return values


@on(Appointment.MarkedNoShow)
def _(e: Appointment.MarkedNoShow) -> Values:
    return {"status": Status.NO_SHOW.value, "no_show_at": e.at}


@on(Appointment.NoShowReverted)
def _(e: Appointment.NoShowReverted) -> Values:
    return {"status": e.restored_status, "no_show_at": None}


class Write(Protocol):
    def __call__(self, event: Appointment.Event, /, **values: Any) -> list[Change]: ...


def register_lifecycle(
    handlers: Handlers[list[Change]], write: Write, extras: Handlers[Values]
) -> None:
    """Register in `handlers` a handler per lifecycle event that writes the shared columns plus
    that projection's `extras` for the event with `write(event, **values)`."""
    strays = [event_class.__qualname__ for event_class in extras if event_class not in LIFECYCLE]
    if strays:
        raise ValueError(f"not lifecycle events: {', '.join(strays)}")

    def handle(event: Appointment.Event) -> list[Change]:
        return write(event, **LIFECYCLE(event), **extras(event))

    for event_class in LIFECYCLE:
        handlers.on(event_class)(handle)
