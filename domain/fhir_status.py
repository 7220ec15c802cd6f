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
