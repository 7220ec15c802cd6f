"""Analytics measures, their DTOs and the query Protocol the API depends on.

Every appointment measure is over the appointments whose (current) start falls in the period
[from, to); every slot measure over the slots whose start does. A ratio is null when its
denominator is 0, never a made-up number. docs/analytics.md states the same definitions.

Counts (over the appointments in the period):
- ``booked``: appointments that were ever booked, directly or from a hold. A hold that expired
  or was cancelled before it became a booking is not booked, and counts nowhere below.
- ``due``: booked appointments whose outcome is known: the patient checked in, is being seen,
  was seen (completed) or did not come (no-show). Booked or confirmed appointments whose
  outcome is not recorded yet, and cancelled ones, are not due.
- ``completed``, ``no_shows``: appointments now completed, or now marked no-show.
- ``cancelled``: booked appointments that were then cancelled.
- ``late_cancelled``: cancelled appointments flagged late under the cancellation policy.

Rates: completion = completed / due; no-show = no_shows / due; cancellation = cancelled /
booked; late cancellation = late_cancelled / cancelled.

Averages (null when nothing qualifies): wait = mean of the wait of visits that started
(check-in, or the scheduled start if the patient came early, to the start of the visit);
duration = mean of the length of completed visits (start to completion); lead time = mean of
start - booked_at over booked appointments.

Slots (open slots only: blocked or cancelled slots offer no time): open seat-minutes =
capacity x slot minutes; booked seat-minutes = booked seats (holds excluded, overbooked seats
included) x slot minutes; overbooked seats = booked seats beyond capacity; utilization =
booked seat-minutes / open seat-minutes (above 1 when overbooked).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

import msgspec

from domain.appointment import Status

if TYPE_CHECKING:
    from projections.access_queries import AccessReport, AccessSeries
    from projections.demographics_queries import Demographics, Dimension
    from projections.patient_queries import PatientFigures
    from projections.performance_queries import PerformanceReport
    from projections.report_queries import SavedReportView
    from projections.revenue_queries import RevenueGrouping, RevenueReport

DUE_STATUSES = (Status.CHECKED_IN, Status.IN_PROGRESS, Status.COMPLETED, Status.NO_SHOW)
RATE_PLACES = Decimal("0.0001")
TENTHS = Decimal("0.1")


class Grouping(StrEnum):
    """How appointment figures are broken down; day and hour are the provider's own."""

    DAY = "day"
    HOUR = "hour"
    PROVIDER = "provider"
    SPECIALTY = "specialty"


def ratio(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    """numerator / denominator to four places; null when the denominator is 0."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES)


def seconds(mean: Decimal | float | None) -> Decimal | None:
    """A mean number of seconds to a tenth; null when there was nothing to average."""
    if mean is None:
        return None
    return Decimal(str(mean)).quantize(TENTHS)


class Counts(msgspec.Struct, frozen=True, kw_only=True):
    """The raw counts and means of one group of appointments, as the store tallies them."""

    appointments: int
    booked: int
    due: int
    completed: int
    no_shows: int
    cancelled: int
    late_cancelled: int
    mean_wait_seconds: Decimal | None = None
    mean_duration_seconds: Decimal | None = None
    mean_lead_time_seconds: Decimal | None = None


class AppointmentFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Counts, rates and averages of a group of appointments (definitions: module docstring).

    ``appointments`` counts every appointment in the period, holds included."""

    appointments: int
    booked: int
    due: int
    completed: int
    no_shows: int
    cancelled: int
    late_cancelled: int
    completion_rate: Decimal | None
    no_show_rate: Decimal | None
    cancellation_rate: Decimal | None
    late_cancellation_rate: Decimal | None
    average_wait_seconds: Decimal | None
    average_duration_seconds: Decimal | None
    average_lead_time_seconds: Decimal | None

    @classmethod
    def of(cls, counts: Counts) -> AppointmentFigures:
        return cls(
            appointments=counts.appointments,
            booked=counts.booked,
            due=counts.due,
            completed=counts.completed,
            no_shows=counts.no_shows,
            cancelled=counts.cancelled,
            late_cancelled=counts.late_cancelled,
            completion_rate=ratio(counts.completed, counts.due),
            no_show_rate=ratio(counts.no_shows, counts.due),
            cancellation_rate=ratio(counts.cancelled, counts.booked),
            late_cancellation_rate=ratio(counts.late_cancelled, counts.cancelled),
            average_wait_seconds=seconds(counts.mean_wait_seconds),
            average_duration_seconds=seconds(counts.mean_duration_seconds),
            average_lead_time_seconds=seconds(counts.mean_lead_time_seconds),
        )


class AppointmentGroup(msgspec.Struct, frozen=True, kw_only=True):
    """One group; only the fields of the chosen grouping are set. ``day`` and ``hour`` are
    in each appointment's provider's time zone; ``specialty`` is null for providers with
    none."""

    day: date | None = None
    hour: int | None = None
    provider_id: UUID | None = None
    provider_name: str | None = None
    specialty: str | None = None
    figures: AppointmentFigures


class AppointmentAnalytics(msgspec.Struct, frozen=True, kw_only=True):
    start_from: datetime = msgspec.field(name="from")
    start_to: datetime = msgspec.field(name="to")
    group_by: Grouping | None
    totals: AppointmentFigures
    groups: list[AppointmentGroup]


class Utilization(msgspec.Struct, frozen=True, kw_only=True):
    """Seat-minutes of open slots (definitions: module docstring)."""

    open_slots: int
    open_seat_minutes: Decimal
    booked_seat_minutes: Decimal
    overbooked_seats: int
    utilization: Decimal | None

    @classmethod
    def of(
        cls, open_slots: int, open_minutes: Decimal, booked_minutes: Decimal, overbooked: int
    ) -> Utilization:
        return cls(
            open_slots=open_slots,
            open_seat_minutes=Decimal(open_minutes).quantize(TENTHS),
            booked_seat_minutes=Decimal(booked_minutes).quantize(TENTHS),
            overbooked_seats=overbooked,
            utilization=ratio(booked_minutes, open_minutes),
        )


class ProviderUtilization(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: UUID
    provider_name: str | None
    specialty: str | None
    figures: Utilization


class UtilizationReport(msgspec.Struct, frozen=True, kw_only=True):
    start_from: datetime = msgspec.field(name="from")
    start_to: datetime = msgspec.field(name="to")
    totals: Utilization
    providers: list[ProviderUtilization]


class AnalyticsQueries(Protocol):
    def position(self) -> int: ...

    def appointments(
        self,
        start_from: datetime,
        start_to: datetime,
        group_by: Grouping | None,
        provider_id: UUID | None = None,
    ) -> AppointmentAnalytics: ...

    def utilization(
        self, start_from: datetime, start_to: datetime, provider_id: UUID | None = None
    ) -> UtilizationReport: ...

    def revenue(
        self,
        start_from: datetime,
        start_to: datetime,
        group_by: RevenueGrouping | None,
        provider_id: UUID | None = None,
        specialty: str | None = None,
    ) -> RevenueReport: ...

    def performance(
        self,
        start_from: datetime,
        start_to: datetime,
        provider_id: UUID | None = None,
        specialty: str | None = None,
    ) -> PerformanceReport: ...

    def access(
        self, reference: datetime, provider_id: UUID | None = None, kind: str | None = None
    ) -> AccessReport: ...

    def access_series(
        self, provider_id: UUID, kind: str, first_day: date, last_day: date
    ) -> AccessSeries: ...

    def patients(
        self,
        start_from: datetime,
        start_to: datetime,
        retention_days: int,
        provider_id: UUID | None = None,
    ) -> PatientFigures: ...

    def demographics(
        self,
        start_from: datetime,
        start_to: datetime,
        dimension: Dimension,
        provider_id: UUID | None = None,
    ) -> Demographics: ...

    def saved_reports(self, owner_id: UUID) -> list[SavedReportView]: ...

    def saved_report(self, report_id: UUID, owner_id: UUID) -> SavedReportView | None: ...
