"""The appointment lifecycle as read-model columns: status, instants and measures that every
appointment read model keeps, derived from the events in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.appointment import Status

Values = dict[str, Any]

LIFECYCLE: dict[str, Callable[[Any], Values]] = {
    "Appointment.BookedFromHold": lambda e: {
        "status": Status.BOOKED.value,
        "booked_at": e.timestamp,
    },
    "Appointment.Confirmed": lambda e: {
        "status": Status.CONFIRMED.value,
        "confirmed_at": e.timestamp,
    },
    "Appointment.CheckedIn": lambda e: {"status": Status.CHECKED_IN.value, "checked_in_at": e.at},
    "Appointment.Started": lambda e: {
        "status": Status.IN_PROGRESS.value,
        "started_at": e.at,
        "wait_seconds": e.wait_seconds,
    },
    "Appointment.Completed": lambda e: {
        "status": Status.COMPLETED.value,
        "completed_at": e.at,
        "duration_seconds": e.duration_seconds,
        "follow_up_requested": e.follow_up_requested,
    },
    "Appointment.Cancelled": lambda e: {
        "status": Status.CANCELLED.value,
        "cancelled_at": e.at,
        "late_cancellation": e.late,
    },
    "Appointment.HoldExpired": lambda e: {"status": Status.CANCELLED.value},
    "Appointment.Rescheduled": lambda e: {
        "status": Status.BOOKED.value,
        "slot_id": e.slot_id,
        "start_at": e.start,
        "end_at": e.end,
        "confirmed_at": None,
    },
    "Appointment.MarkedNoShow": lambda e: {"status": Status.NO_SHOW.value, "no_show_at": e.at},
    "Appointment.NoShowReverted": lambda e: {"status": e.restored_status, "no_show_at": None},
}


def register_lifecycle(
    on: Callable[[str], Callable[[Callable[[Any], Any]], Any]],
    write: Callable[..., Any],
    extras: dict[str, Callable[[Any], Values]],
) -> None:
    """Register, through a projection's `on`, a handler per lifecycle event that writes the
    shared columns plus that projection's `extras` for the event with `write(event, **values)`."""
    for name, shared in LIFECYCLE.items():
        extra = extras.get(name)

        def handle(event: Any, shared: Callable[[Any], Values] = shared, extra: Any = extra) -> Any:
            return write(event, **shared(event), **(extra(event) if extra else {}))

        on(name)(handle)
