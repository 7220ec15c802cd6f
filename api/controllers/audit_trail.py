"""Audit queries for auditors (docs/audit.md): who did what to a patient (writes and reads,
time-ordered), events by patient, actor, aggregate, correlation id, command or period, access
records by patient, actor or period, a request's causal chain, and the anomaly report. Every
answer names each entry's position, hashes and covering checkpoint. Auditors only; their own
reads here are audited too."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import FromPath, FromQuery, QueryParameter

from api.auth import roles
from api.deps import Injected, Offset, optional_aware, page_size
from api.openapi import FOUND_OR_NOT, GUARDED, QUERY, documented
from api.read_audit import audits_reads
from commands.ports import Clock
from domain.actor import Role
from domain.errors import NotFoundError, ValidationError
from projections.audit.access import Access
from projections.audit.trail import (
    AccessEntry,
    AccessQuery,
    AnomalyReport,
    AuditedEvent,
    AuditTrail,
    EventQuery,
    Explanation,
    Order,
    Thresholds,
    TrailEntry,
)
from projections.queries import Page

Start = Annotated[datetime | None, QueryParameter(name="from", description="Record time, from")]
End = Annotated[datetime | None, QueryParameter(name="to", description="Record time, before")]
MAX_ANOMALY_PERIOD = timedelta(days=31)


class AuditTrailController(Controller):
    path = "/v1/audit"
    tags = ["audit"]
    guards = [roles(Role.AUDITOR)]

    @audits_reads("AuditTrail")
    @get(
        "/patients/{patient_id:uuid}/trail",
        sync_to_thread=True,
        summary="Who did what to this patient: writes and reads, time-ordered",
        **documented("getPatientTrail", *QUERY, *GUARDED),
    )
    def patient_trail(
        self,
        trail: Injected[AuditTrail],
        page_cap: Injected[int],
        access: Injected[Access],
        patient_id: FromPath[UUID],
        start: Start = None,
        end: End = None,
        order: FromQuery[Order] = "newest",
        limit: FromQuery[int] = 50,
        offset: Offset = 0,
    ) -> Page[TrailEntry]:
        """Every event of an aggregate that concerns the patient (their registration,
        appointments, agenda days) and every access record naming them, newest first by
        default; `from`/`to` bound the record time."""
        return trail.patient_trail(
            patient_id,
            optional_aware(start, "from"),
            optional_aware(end, "to"),
            order,
            page_size(limit, page_cap),
            offset,
        )

    @audits_reads("AuditEvent")
    @get(
        "/events",
        sync_to_thread=True,
        summary="Stored events by patient, actor, aggregate, correlation id, command or period",
        **documented("listAuditEvents", *QUERY, *GUARDED),
    )
    def events(
        self,
        trail: Injected[AuditTrail],
        page_cap: Injected[int],
        access: Injected[Access],
        patient_id: FromQuery[UUID | None] = None,
        actor_id: FromQuery[UUID | None] = None,
        aggregate_id: FromQuery[UUID | None] = None,
        correlation_id: FromQuery[UUID | None] = None,
        command: FromQuery[str | None] = None,
        start: Start = None,
        end: End = None,
        order: FromQuery[Order] = "newest",
        limit: FromQuery[int] = 50,
        offset: Offset = 0,
    ) -> Page[AuditedEvent]:
        """Each event with its metadata (no personal values), its position, leaf and chain
        hashes and the first signed checkpoint covering it."""
        if command is not None and not (command.isidentifier() and len(command) <= 100):
            raise ValidationError("command must be a command name such as BookAppointment")
        page = trail.events(
            EventQuery(
                patient_id=patient_id,
                actor_id=actor_id,
                aggregate_id=aggregate_id,
                correlation_id=correlation_id,
                command=command,
                start=optional_aware(start, "from"),
                end=optional_aware(end, "to"),
                order=order,
                limit=page_size(limit, page_cap),
                offset=offset,
            )
        )
        access.saw(patients=[e.patient_id for e in page.items if e.patient_id is not None])
        return page

    @audits_reads("AccessRecord")
    @get(
        "/access",
        sync_to_thread=True,
        summary="Access records by patient, actor or period: who looked at whose data",
        **documented("listAccessRecords", *QUERY, *GUARDED),
    )
    def accesses(
        self,
        trail: Injected[AuditTrail],
        page_cap: Injected[int],
        access: Injected[Access],
        patient_id: FromQuery[UUID | None] = None,
        actor_id: FromQuery[UUID | None] = None,
        start: Start = None,
        end: End = None,
        order: FromQuery[Order] = "newest",
        limit: FromQuery[int] = 50,
        offset: Offset = 0,
    ) -> Page[AccessEntry]:
        """Each record as sealed, with its position and seal in the access log (null until
        the access sealer has sealed it)."""
        page = trail.accesses(
            AccessQuery(
                patient_id=patient_id,
                actor_id=actor_id,
                start=optional_aware(start, "from"),
                end=optional_aware(end, "to"),
                order=order,
                limit=page_size(limit, page_cap),
                offset=offset,
            )
        )
        access.saw(patients=[p for entry in page.items for p in entry.patient_ids])
        return page

    @audits_reads("Provenance", action="read")
    @get(
        "/explain/{correlation_id:uuid}",
        sync_to_thread=True,
        summary="The causal chain of one request",
        **documented("explainRequest", *GUARDED, *FOUND_OR_NOT),
    )
    def explain(
        self, trail: Injected[AuditTrail], access: Injected[Access], correlation_id: FromPath[UUID]
    ) -> Explanation:
        """The command(s) run under this correlation id, their actors and idempotency keys,
        the events recorded (each with its causation id, position, seal and checkpoint), how
        far each projection has applied them, and the reads made under the same id. 404 if
        nothing was recorded under it (or not yet sealed)."""
        found = trail.explain(correlation_id)
        if found is None:
            raise NotFoundError(f"nothing was recorded under correlation id {correlation_id}")
        access.saw(patients=[e.patient_id for e in found.events if e.patient_id is not None])
        return found

    @audits_reads("AnomalyReport")
    @get(
        "/anomalies",
        sync_to_thread=True,
        summary="Unusual reads: many distinct patients, or outside a care relationship",
        **documented("getAnomalyReport", *QUERY, *GUARDED),
    )
    def anomalies(
        self,
        trail: Injected[AuditTrail],
        clock: Injected[Clock],
        anomaly_threshold: Injected[int],
        anomaly_role_thresholds: Injected[Mapping[str, int]],
        access: Injected[Access],
        start: Start = None,
        end: End = None,
        threshold: FromQuery[int | None] = None,
    ) -> AnomalyReport:
        """Over [from, to) (default: the last 24 hours, at most 31 days): actors who read more
        distinct patients than their role's threshold (SLOTWISE_AUDIT_DISTINCT_PATIENTS_BY_ROLE,
        else SLOTWISE_AUDIT_DISTINCT_PATIENTS, 50; `threshold` given: that one for every role),
        and providers' reads (any outcome) of patients they have no appointment with."""
        last = optional_aware(end, "to") or clock.now().astimezone(UTC)
        first = optional_aware(start, "from") or last - timedelta(days=1)
        if not timedelta(0) < last - first <= MAX_ANOMALY_PERIOD:
            raise ValidationError(f"'to' must be after 'from', within {MAX_ANOMALY_PERIOD.days}")
        if threshold is not None and not 0 <= threshold <= 1_000_000:
            raise ValidationError("threshold must be between 0 and 1000000")
        if threshold is None:
            limits = Thresholds(anomaly_threshold, anomaly_role_thresholds)
        else:
            limits = Thresholds(threshold)
        report = trail.anomalies(first, last, limits)
        access.saw(patients=[o.patient_id for o in report.outside_care])
        return report
