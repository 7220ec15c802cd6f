"""Analytics over the analytics read model: appointment figures and provider utilization.

Measures and their denominators are defined in projections/analytics_queries.py and
docs/analytics.md. `min_position` waits on the analytics projection's own position."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter

from api.auth import roles
from api.services import await_position, services
from domain.actor import Role
from domain.errors import ValidationError
from domain.timerange import TimeRange
from projections.analytics_queries import AppointmentAnalytics, Grouping, UtilizationReport

Req = Request[Any, Any, Any]
MAX_PERIOD_DAYS = 366


def _period(start_from: datetime, start_to: datetime) -> TimeRange:
    period = TimeRange(start_from, start_to)
    if period.duration.days > MAX_PERIOD_DAYS:
        raise ValidationError(f"an analytics period may span at most {MAX_PERIOD_DAYS} days")
    return period


class AnalyticsController(Controller):
    path = "/v1/analytics"
    tags = ["analytics"]
    guards = [roles(Role.ANALYST, Role.STAFF, Role.AUDITOR)]

    @get(
        "/appointments",
        sync_to_thread=True,
        summary="Appointment totals, rates and averages, optionally grouped",
    )
    def appointments(
        self,
        request: Req,
        start_from: Annotated[datetime, QueryParameter(name="from")],
        start_to: Annotated[datetime, QueryParameter(name="to")],
        group_by: FromQuery[Grouping | None] = None,
        provider_id: FromQuery[UUID | None] = None,
        min_position: FromQuery[int | None] = None,
    ) -> AppointmentAnalytics:
        """Appointments whose start falls in [from, to); day and hour groups are in each
        provider's own time zone. A rate is null when its denominator is 0."""
        period = _period(start_from, start_to)
        svc = services(request)
        await_position(request, min_position, svc.analytics)
        return svc.analytics.appointments(period.start, period.end, group_by, provider_id)

    @get("/utilization", sync_to_thread=True, summary="Booked over open seat-minutes per provider")
    def utilization(
        self,
        request: Req,
        start_from: Annotated[datetime, QueryParameter(name="from")],
        start_to: Annotated[datetime, QueryParameter(name="to")],
        provider_id: FromQuery[UUID | None] = None,
        min_position: FromQuery[int | None] = None,
    ) -> UtilizationReport:
        """Slots whose start falls in [from, to). Utilization is null when no seat-minute
        was open."""
        period = _period(start_from, start_to)
        svc = services(request)
        await_position(request, min_position, svc.analytics)
        return svc.analytics.utilization(period.start, period.end, provider_id)
