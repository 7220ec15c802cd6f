"""Who may do what. Identity comes from the caller's token, never from a request body."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from domain.access import Visit, may_see
from domain.actor import Actor, Role
from domain.appointment import Appointment
from domain.errors import ForbiddenError, NotFoundError


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise ForbiddenError(f"this action needs one of the roles: {allowed}")


def patient_for(actor: Actor, requested: UUID | None) -> UUID:
    """The patient a booking is for: the caller themself, or whom staff name."""
    if actor.role is Role.PATIENT:
        if requested is not None and requested != actor.subject:
            raise ForbiddenError("patients book for themselves only")
        return actor.subject
    require_role(actor, Role.STAFF)
    if requested is None:
        raise ForbiddenError("staff must name the patient_id they book for")
    return requested


def require_own_schedule(actor: Actor, provider_id: UUID) -> None:
    if actor.role is Role.STAFF:
        return
    if actor.role is Role.PROVIDER and actor.subject == provider_id:
        return
    raise ForbiddenError("only staff or the provider may change this schedule")


class Concerning(Visit, Protocol):
    """An aggregate of one patient and one provider (an appointment, a series, a request)."""

    @property
    def id(self) -> UUID: ...


def require_visible(actor: Actor, thing: Concerning, what: str = "appointment") -> None:
    # Someone else's appointment (series, request) is reported as missing, so its existence
    # does not leak.
    if not may_see(actor, thing):
        raise NotFoundError(f"{what} {thing.id} not found")


def require_acting(actor: Actor, appointment: Appointment, *roles: Role) -> None:
    require_visible(actor, appointment)
    require_role(actor, *roles)
