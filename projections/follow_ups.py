"""The read side of follow-up requests (rows of the scheduling projection, rm_follow_ups): the
DTO, the filter and the query Protocol, and who may list which."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol
from uuid import UUID

import msgspec

from domain.actor import Actor, Role
from domain.errors import ForbiddenError
from projections.queries import Page


class FollowUpView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    visit_id: UUID
    patient_id: UUID
    provider_id: UUID
    appointment_type: str
    interval_days: int
    due_from: datetime
    notes: str | None  # for staff and the provider; None for the patient
    status: str
    appointment_id: UUID | None
    requested_at: datetime
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class FollowUpFilter:
    provider_id: UUID | None = None
    patient_id: UUID | None = None
    statuses: tuple[str, ...] = ("open",)
    limit: int = 50
    offset: int = 0


def scoped_follow_ups(actor: Actor, wanted: FollowUpFilter) -> FollowUpFilter:
    """Staff list anyone's; a provider their own; a patient their own; no one else any."""
    if actor.role is Role.STAFF:
        return wanted
    if actor.role is Role.PROVIDER:
        return replace(wanted, provider_id=actor.subject)
    if actor.role is Role.PATIENT:
        return replace(wanted, patient_id=actor.subject)
    raise ForbiddenError("follow-up requests are listed for staff, providers and patients")


def as_seen_by(actor: Actor, view: FollowUpView) -> FollowUpView:
    """The notes are for staff and the provider, not the patient."""
    if actor.role is Role.PATIENT:
        return msgspec.structs.replace(view, notes=None)
    return view


class FollowUpQueries(Protocol):
    def follow_ups(self, wanted: FollowUpFilter) -> Page[FollowUpView]:
        """Requests matching `wanted`, the soonest due first."""
        ...
