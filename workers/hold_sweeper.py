"""Expires holds whose time has run out, so read models and waitlists see them end.

Capacity never depends on this worker: an expired hold stops counting the moment it expires.
The read model only nominates candidates; the Appointment aggregate decides, so a hold booked
in the meantime is left alone."""

from __future__ import annotations

import threading
from uuid import UUID

import structlog

from commands.appointments.messages import ExpireHold
from commands.context import CommandContext
from commands.ports import Clock
from commands.scheduling import Scheduling
from domain.actor import Actor, Role
from domain.errors import InvalidTransitionError, NotFoundError, TooEarlyError
from projections.queries import SchedulingQueries

log = structlog.stdlib.get_logger("slotwise.holds")

SWEEPER = Actor(UUID("00000000-0000-4000-8000-00000000a11d"), Role.SYSTEM)


def sweep_once(
    scheduling: Scheduling, queries: SchedulingQueries, clock: Clock, batch: int = 100
) -> int:
    """Expire every overdue hold the read model knows of; returns how many were expired."""
    expired = 0
    for appointment_id in queries.expired_holds(clock.now(), batch):
        try:
            scheduling.expire_hold(
                ExpireHold(appointment_id=appointment_id), CommandContext(SWEEPER)
            )
        except (InvalidTransitionError, TooEarlyError, NotFoundError):
            # Booked, cancelled or extended since the read model saw it: nothing to do.
            continue
        expired += 1
    return expired


def run_sweeper(
    scheduling: Scheduling,
    queries: SchedulingQueries,
    clock: Clock,
    stop: threading.Event,
    interval: float = 5.0,
) -> None:
    while not stop.is_set():
        try:
            count = sweep_once(scheduling, queries, clock)
            if count:
                log.info("holds expired", count=count)
        except Exception:
            log.exception("hold sweep failed; retrying", interval_s=interval)
        stop.wait(interval)
