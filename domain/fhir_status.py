"""Slotwise appointment statuses as FHIR `Appointment.status` codes (DOMAIN.md §3): what the
read model shows beside each status, and what a FHIR facade answers."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from domain.appointment import Status

FHIR_STATUS: Mapping[Status, str] = MappingProxyType(
    {
        Status.HELD: "pending",
        Status.BOOKED: "booked",
        Status.CONFIRMED: "booked",
        Status.CHECKED_IN: "checked-in",
        Status.IN_PROGRESS: "arrived",
        Status.COMPLETED: "fulfilled",
        Status.CANCELLED: "cancelled",
        Status.NO_SHOW: "noshow",
    }
)

# Slot.status: an open slot with a free seat is free; a full one is busy-tentative while a
# hold (not yet run out) takes a seat, else busy; blocked and cancelled slots take no booking.
SLOT_STATUSES = ("free", "busy", "busy-tentative", "busy-unavailable")


def slot_fhir_status(status: str, free_seats: int, held_seats: int) -> str:
    if status != "open":
        return "busy-unavailable"
    if free_seats > 0:
        return "free"
    return "busy-tentative" if held_seats > 0 else "busy"
