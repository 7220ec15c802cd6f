"""Who may see which appointments. Identity comes from the caller's token (DOMAIN.md §2); these
pure rules serve both sides: the write side reports an appointment its caller may not see as
missing, the read side narrows listings and lookups to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.actor import Actor, Role

# Staff and auditors by role; the system actor sweeps expired holds and runs policies on
# appointments of every patient and provider.
SEES_EVERY_APPOINTMENT = frozenset({Role.STAFF, Role.AUDITOR, Role.SYSTEM})


class Visit(Protocol):
    """What the rule needs of an appointment: the aggregate and its read-model view both."""

    @property
    def patient_id(self) -> UUID: ...

    @property
    def provider_id(self) -> UUID: ...


@dataclass(frozen=True)
class AppointmentScope:
    """The appointments of `patient_id` and of `provider_id` where given; all where neither is."""

    patient_id: UUID | None = None
    provider_id: UUID | None = None

    def covers(self, visit: Visit) -> bool:
        if self.patient_id is not None and self.patient_id != visit.patient_id:
            return False
        return self.provider_id is None or self.provider_id == visit.provider_id


def appointment_scope(actor: Actor) -> AppointmentScope | None:
    """The appointments `actor` may see: a patient their own, a provider theirs; None for a
    role that sees no single appointment (an analyst sees figures only)."""
    if actor.role in SEES_EVERY_APPOINTMENT:
        return AppointmentScope()
    if actor.role is Role.PATIENT:
        return AppointmentScope(patient_id=actor.subject)
    if actor.role is Role.PROVIDER:
        return AppointmentScope(provider_id=actor.subject)
    return None


def may_see(actor: Actor, visit: Visit) -> bool:
    scope = appointment_scope(actor)
    return scope is not None and scope.covers(visit)
