"""Saved analytics reports (issue 14): an analyst saves a definition, lists their own, re-runs
one, or downloads its result as CSV. Another analyst's report is 404."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, JSONBody

from api.auth import roles
from api.deps import Injected, MinPosition, reads
from api.openapi import FOUND_OR_NOT, GUARDED, QUERY, REGISTRATION, documented
from api.strict import StrictBody
from commands.context import CommandContext
from commands.reports.messages import SaveReport
from commands.scheduling import Scheduling
from commands.structs import CommandResult
from domain.actor import Actor, Role
from domain.errors import NotFoundError
from projections.analytics import AnalyticsProjection
from projections.analytics_queries import AnalyticsQueries, Grouping
from projections.demographics_queries import Dimension
from projections.report_queries import ReportRun, SavedReportView, csv_of
from projections.revenue_queries import RevenueGrouping

DEFAULT_RETENTION_DAYS = 90  # as GET /v1/analytics/patients defaults to

CSV_HEADER = ResponseHeader(
    name="Content-Disposition",
    description="attachment; filename=report-<id>.csv",
    value='attachment; filename="report.csv"',
    documentation_only=True,
)


def _run(analytics: AnalyticsQueries, actor: Actor, report_id: UUID) -> ReportRun:
    report = analytics.saved_report(report_id, actor.subject)
    if report is None:
        raise NotFoundError(f"report {report_id} not found")
    start, end, provider = report.start_from, report.start_to, report.provider_id
    match report.measure:
        case "revenue":
            group = RevenueGrouping(report.group_by) if report.group_by else None
            revenue = analytics.revenue(start, end, group, provider, report.specialty)
            return ReportRun(report=report, revenue=revenue)
        case "performance":
            found = analytics.performance(start, end, provider, report.specialty)
            return ReportRun(report=report, performance=found)
        case "access":  # third-next-available as of the period's start
            return ReportRun(report=report, access=analytics.access(start, provider))
        case "patients":
            patients = analytics.patients(start, end, DEFAULT_RETENTION_DAYS, provider)
            return ReportRun(report=report, patients=patients)
        case "demographics":
            by = Dimension(report.group_by or Dimension.AGE_BAND)
            return ReportRun(
                report=report, demographics=analytics.demographics(start, end, by, provider)
            )
    grouping = Grouping(report.group_by) if report.group_by else None
    found_appointments = analytics.appointments(start, end, grouping, provider)
    return ReportRun(report=report, appointments=found_appointments)


class SavedReportController(Controller):
    path = "/v1/analytics/reports"
    tags = ["analytics"]
    dependencies = {"position": reads(AnalyticsProjection.name)}
    guards = [roles(Role.ANALYST)]

    @post(
        "/",
        status_code=201,
        sync_to_thread=True,
        summary="Save a report definition: measure, grouping, filters, period",
        dto=StrictBody[SaveReport],
        return_dto=None,
        **documented("saveReport", *REGISTRATION),
    )
    def save(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        data: JSONBody[SaveReport],
    ) -> CommandResult:
        return scheduling.save_report(data, context)

    @get(
        "/",
        sync_to_thread=True,
        summary="The caller's saved reports",
        **documented("listReports", *QUERY, *GUARDED),
    )
    def list_reports(
        self,
        analytics: Injected[AnalyticsQueries],
        actor: Injected[Actor],
        position: Injected[MinPosition],
    ) -> list[SavedReportView]:
        return analytics.saved_reports(actor.subject)

    @get(
        "/{report_id:uuid}/run",
        sync_to_thread=True,
        summary="Run a saved report now",
        **documented("runReport", *QUERY, *GUARDED, *FOUND_OR_NOT),
    )
    def run(
        self,
        analytics: Injected[AnalyticsQueries],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        report_id: FromPath[UUID],
    ) -> ReportRun:
        return _run(analytics, actor, report_id)

    @get(
        "/{report_id:uuid}/csv",
        sync_to_thread=True,
        summary="Run a saved report and download the result as CSV",
        media_type="text/csv",
        response_headers=[CSV_HEADER],
        **documented("downloadReport", *QUERY, *GUARDED, *FOUND_OR_NOT),
    )
    def download(
        self,
        analytics: Injected[AnalyticsQueries],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        report_id: FromPath[UUID],
    ) -> Response[str]:
        body = csv_of(_run(analytics, actor, report_id))
        disposition = f'attachment; filename="report-{report_id}.csv"'
        return Response(body, media_type="text/csv", headers={"Content-Disposition": disposition})
