"""Who acts, and the metadata every event carries about the request that caused it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


class Role(StrEnum):
    PATIENT = "patient"
    PROVIDER = "provider"
    STAFF = "staff"
    AUDITOR = "auditor"
    ANALYST = "analyst"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """The authenticated caller. `subject` is a patient id for patients, a provider id for
    providers, and a user id otherwise."""

    subject: UUID
    role: Role


@dataclass(frozen=True)
class EventMeta:
    """Recorded on every event: who, through which command, in which request chain."""

    actor_id: UUID
    actor_role: str
    correlation_id: UUID
    causation_id: UUID
    command: str
