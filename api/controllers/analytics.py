"""Analytics over the analytics read model: appointment figures and provider utilization.

Measures and their denominators are defined in projections/analytics_queries.py and
docs/analytics.md. `min_position` waits on the analytics projection's own position."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter
from msgspec import Meta

from api.auth import roles
from api.deps import Injected, MinPosition, aware, optional_aware, reads
from api.openapi import FOUND_OR_NOT, GUARDED, QUERY, documented
from commands.payments.messages import AppointmentType
from commands.ports import Clock
from domain.actor import Role
from domain.errors import ValidationError
from domain.timerange import TimeRange
from projections.access_queries import AccessReport, AccessSeries
from projections.analytics import AnalyticsProjection
from projections.analytics_queries import (
    AnalyticsQueries,
    AppointmentAnalytics,
    Grouping,
    UtilizationReport,
)
from projections.demographics_queries import Demographics, Dimension
from projections.patient_queries import MAX_RETENTION_DAYS, PatientFigures
from projections.performance_queries import PerformanceReport
from projections.revenue_queries import RevenueGrouping, RevenueReport

MAX_PERIOD_DAYS = 366
Specialty = Annotated[str, Meta(min_length=1, max_length=200)]


def _period(start_from: datetime, start_to: datetime) -> TimeRange:
    period = TimeRange(aware(start_from, "from"), aware(start_to, "to"))
    if period.duration.days > MAX_PERIOD_DAYS:
        raise ValidationError(f"an analytics period may span at most {MAX_PERIOD_DAYS} days")
    return period


class AnalyticsController(Controller):
    path = "/v1/analytics"
    tags = ["analytics"]
    dependencies = {"position": reads(AnalyticsProjection.name)}
    guards = [roles(Role.ANALYST, Role.STAFF, Role.AUDITOR)]

    @get(
        "/appointments",
        sync_to_thread=True,
        summary="Appointment totals, rates and averages, optionally grouped",
        **documented("getAppointmentAnalytics", *QUERY, *GUARDED),
    )
    def appointments(
        self,
        analytics: Injected[AnalyticsQueries],
        position: Injected[MinPosition],
        start_from: Annotated[datetime, QueryParameter(name="from")],
        start_to: Annotated[datetime, QueryParameter(name="to")],
        group_by: FromQuery[Grouping | None] = None,
        provider_id: FromQuery[UUID | None] = None,
    ) -> AppointmentAnalytics:
        """Appointments whose start falls in [from, to); day and hour groups are in each
        provider's own time zone. A rate is null when its denominator is 0."""
        period = _period(start_from, start_to)
        return analytics.appointments(period.start, period.end, group_by, provider_id)

    @get(
        "/utilization",
        sync_to_thread=True,
        summary="Booked over open seat-minutes per provider",
        **documented("getUtilization", *QUERY, *GUARDED),
    )
    def utilization(
        self,
        analytics: Injected[AnalyticsQueries],
        position: Injected[MinPosition],
        start_from: Annotated[datetime, QueryParameter(name="from")],
        start_to: Annotated[datetime, QueryParameter(name="to")],
        provider_id: FromQuery[UUID | None] = None,
    ) -> UtilizationReport:
        """Slots whose start falls in [from, to). Utilization is null when no seat-minute
        was open."""
        period = _period(start_from, start_to)
        return analytics.utilization(period.start, period.end, provider_id)

    @get(
        "/revenue",
        sync_to_thread=True,
        summary="Gross, refunds, net and average per paid visit, per currency, with the trend",
        **documented("getRevenue", *QUERY, *GUARDED),
    )
    def revenue(
        self,
        analytics: Injected[AnalyticsQueries],
        position: Injected[MinPosition],
        start_from: Annotated[datetime, QueryParameter(name="from")],
        start_to: Annotated[datetime, QueryParameter(name="to")],
        group_by: FromQuery[RevenueGrouping | None] = None,
        provider_id: FromQuery[UUID | None] = None,
        specialty: FromQuery[Specialty | None] = None,
    ) -> RevenueReport:
        """Payments and refunds recorded in [from, to), per currency (never summed across
        currencies), beside the previous period of the same length. Day groups are in each
        provider's zone. The average is null when no visit was paid."""
        period = _period(start_from, start_to)
        return analytics.revenue(period.start, period.end, group_by, provider_id, specialty)

    @get(
        "/performance",
        sync_to_thread=True,
        summary="Per provider: time-weighted utilization and rates, beside peers and last period",
        **documented("getProviderPerformance", *QUERY, *GUARDED),
    )
    def performance(
        self,
        analytics: Injected[AnalyticsQueries],
        position: Injected[MinPosition],
        start_from: Annotated[datetime, QueryParameter(name="from")],
        start_to: Annotated[datetime, QueryParameter(name="to")],
        provider_id: FromQuery[UUID | None] = None,
        specialty: FromQuery[Specialty | None] = None,
    ) -> PerformanceReport:
        """Utilization from each slot's recorded history over [from, to); appointment rates
        over appointments starting in it; each beside the median of the provider's specialty
        and the previous period of equal length. A rate is null when its denominator is 0."""
        period = _period(start_from, start_to)
        return analytics.performance(period.start, period.end, provider_id, specialty)

    @get(
        "/access",
        sync_to_thread=True,
        summary="Third-next-available per provider and appointment type, as of a moment",
        **documented("getAccess", *QUERY, *GUARDED),
    )
    def access(
        self,
        analytics: Injected[AnalyticsQueries],
        position: Injected[MinPosition],
        clock: Injected[Clock],
        at: FromQuery[datetime | None] = None,
        provider_id: FromQuery[UUID | None] = None,
        appointment_type: FromQuery[AppointmentType | None] = None,
    ) -> AccessReport:
        """Days from `at` (default: now) to the third free seat, as the slots were at `at`;
        null, with the free seats found, when fewer than three are free within the horizon."""
        reference = optional_aware(at, "at") or clock.now()
        return analytics.access(reference, provider_id, appointment_type)

    @get(
        "/access/series",
        sync_to_thread=True,
        summary="Third-next-available of one provider and type, measured at each day's start",
        **documented("getAccessSeries", *QUERY, *GUARDED, *FOUND_OR_NOT),
    )
    def access_series(
        self,
        analytics: Injected[AnalyticsQueries],
        position: Injected[MinPosition],
        provider_id: FromQuery[UUID],
        appointment_type: FromQuery[AppointmentType],
        first_day: FromQuery[date],
        last_day: FromQuery[date],
    ) -> AccessSeries:
        """One point per day from `first_day` to `last_day` (both included), each measured at
        the start of the day in the provider's zone, as the slots were then."""
        if last_day < first_day:
            raise ValidationError("last_day must not be before first_day")
        if (last_day - first_day).days >= MAX_PERIOD_DAYS:
            raise ValidationError(f"a series may span at most {MAX_PERIOD_DAYS} days")
        return analytics.access_series(provider_id, appointment_type, first_day, last_day)

    @get(
        "/patients",
        sync_to_thread=True,
        summary="New, returning and active patients, and retention within N days",
        **documented("getPatientAnalytics", *QUERY, *GUARDED),
    )
    def patients(
        self,
        analytics: Injected[AnalyticsQueries],
        position: Injected[MinPosition],
        start_from: Annotated[datetime, QueryParameter(name="from")],
        start_to: Annotated[datetime, QueryParameter(name="to")],
        retention_days: Annotated[
            int, QueryParameter(ge=1, le=MAX_RETENTION_DAYS), Meta(ge=1, le=MAX_RETENTION_DAYS)
        ] = 90,
        provider_id: FromQuery[UUID | None] = None,
    ) -> PatientFigures:
        """Counts of patients (ids only, never who they are) over visits starting in
        [from, to); the retention rate is null when nobody was seen."""
        period = _period(start_from, start_to)
        return analytics.patients(period.start, period.end, retention_days, provider_id)

    @get(
        "/demographics",
        sync_to_thread=True,
        summary="Patients seen by age band, sex, gender or postal prefix; small cells suppressed",
        **documented("getDemographics", *QUERY, *GUARDED),
    )
    def demographics(
        self,
        analytics: Injected[AnalyticsQueries],
        position: Injected[MinPosition],
        start_from: Annotated[datetime, QueryParameter(name="from")],
        start_to: Annotated[datetime, QueryParameter(name="to")],
        by: FromQuery[Dimension],
        provider_id: FromQuery[UUID | None] = None,
    ) -> Demographics:
        """Patients with a visit in [from, to), one cell per value of `by`. A cell under 11
        patients is suppressed (count null), with complementary cells so that none can be
        derived from the total; a total under 11 is suppressed too. Only coarse bands exist."""
        period = _period(start_from, start_to)
        return analytics.demographics(period.start, period.end, by, provider_id)
