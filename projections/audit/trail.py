"""Audit queries for auditors: who did what to a patient, what an actor did, the events of an
aggregate, a request's causal chain, and the anomaly report. Writes come from the auditor's
index of the event log (written by its sealer), reads from the access records; every answer
names its position in its log, its hashes and the first signed checkpoint covering it (null
until one is signed), so an auditor can ask for an inclusion proof of exactly that entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

import msgspec

from projections.queries import Page

Order = Literal["newest", "oldest"]


class Sealed(msgspec.Struct, frozen=True, kw_only=True):
    """Where an entry sits in its sealed log."""

    log: str  # the log's checkpoint origin
    leaf_index: int
    leaf_hash: str  # hex
    chain_hash: str  # hex
    checkpoint_size: int | None  # the first signed checkpoint whose tree holds it


class AuditedEvent(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    aggregate_id: UUID
    version: int
    event_type: str  # the stored topic, e.g. domain.appointment:Appointment.Cancelled
    recorded_at: datetime | None
    actor_id: UUID | None
    actor_role: str | None
    command: str | None
    correlation_id: UUID | None
    causation_id: UUID | None
    idempotency_key: str | None
    patient_id: UUID | None  # the patient the aggregate concerns, if any
    seal: Sealed


class AccessEntry(msgspec.Struct, frozen=True, kw_only=True):
    """An access record as sealed (decoded from the sealed bytes), and its place in its log."""

    position: int
    recorded_at: datetime
    action: str
    resource_type: str
    route: str
    method: str
    path_params: dict[str, str]
    query: dict[str, list[str]]
    outcome: int
    patient_ids: list[UUID]
    resource_ids: list[UUID]
    actor_id: UUID | None
    actor_role: str | None
    token_id: str | None
    client: str | None
    correlation_id: str | None
    purpose_of_use: str | None
    seal: Sealed | None  # null until the access sealer has sealed it


class TrailEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One thing done to a patient's data: a write (an event) or a read (an access record)."""

    kind: Literal["write", "read"]
    at: datetime | None
    actor_id: UUID | None
    actor_role: str | None
    what: str  # the command of a write; the route of a read
    position: int  # in the event log (writes) or the access log (reads)
    aggregate_id: UUID | None  # writes
    event_type: str | None  # writes
    outcome: int | None  # reads: the status answered
    correlation_id: str | None


class ProjectionApplied(msgspec.Struct, frozen=True, kw_only=True):
    projection: str
    position: int  # where the projection stands now
    applied: bool  # whether it has applied every event of the request


class SideEffect(msgspec.Struct, frozen=True, kw_only=True):
    """One thing done because of the request. `kind`, e.g. `video_room.opened`; `subject_id` the
    aggregate the request changed (an appointment); `effect_id` the record of the effect (the
    visit's VideoRoom); `position` and `seal` of the event recording it, when it is one."""

    kind: str
    subject_id: UUID
    effect_id: UUID
    at: datetime | None
    position: int | None
    detail: str | None  # e.g. why a room closed: completed, cancelled, no_show, moved, ended
    seal: Sealed | None


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    """The causal chain of one request (its correlation id)."""

    correlation_id: UUID
    commands: list[str]
    actors: list[UUID]
    idempotency_keys: list[str]
    events: list[AuditedEvent]  # in log order; caused-by links in each one's causation_id
    projections: list[ProjectionApplied]
    reads: list[AccessEntry]  # access records of the same correlation id
    # What the system did because of the request's events, after it answered: video rooms
    # opened, moved, closed (projections/audit/effects.py; messages once they are sent).
    side_effects: list[SideEffect]


class HeavyReader(msgspec.Struct, frozen=True, kw_only=True):
    actor_id: UUID
    actor_role: str | None
    distinct_patients: int
    threshold: int  # the one applied to this actor's role


class OutsideCare(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's reads of a patient they have no appointment with (any outcome)."""

    actor_id: UUID
    patient_id: UUID
    reads: int
    first_at: datetime
    last_at: datetime


class AnomalyReport(msgspec.Struct, frozen=True, kw_only=True):
    start: datetime
    end: datetime
    threshold: int  # more distinct patients than this in the period is reported
    role_thresholds: dict[str, int]  # the same for these roles instead
    heavy_readers: list[HeavyReader]
    outside_care: list[OutsideCare]


@dataclass(frozen=True)
class Thresholds:
    """How many distinct patients an actor may read in the period asked before the anomaly
    report names them: `default`, or their role's number in `by_role`."""

    default: int
    by_role: Mapping[str, int] = field(default_factory=dict)

    def of(self, role: str | None) -> int:
        return self.by_role.get(role or "", self.default)


@dataclass(frozen=True)
class EventQuery:
    patient_id: UUID | None = None
    actor_id: UUID | None = None
    aggregate_id: UUID | None = None
    correlation_id: UUID | None = None
    command: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    order: Order = "newest"
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class AccessQuery:
    patient_id: UUID | None = None
    actor_id: UUID | None = None
    correlation_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    order: Order = "newest"
    limit: int = 50
    offset: int = 0


class AuditTrail(Protocol):
    def events(self, wanted: EventQuery) -> Page[AuditedEvent]: ...
    def accesses(self, wanted: AccessQuery) -> Page[AccessEntry]: ...
    def patient_trail(
        self, patient_id: UUID, start: datetime | None, end: datetime | None, order: Order,
        limit: int, offset: int,
    ) -> Page[TrailEntry]: ...  # fmt: skip
    def explain(self, correlation_id: UUID) -> Explanation | None: ...
    def anomalies(self, start: datetime, end: datetime, limits: Thresholds) -> AnomalyReport: ...
