"""Queries over the analytics read model (migration 0003), for the API.

Figures are tallied at query time over the fact views, so they are right whatever order the
projection applied events of different aggregates in. The measures are defined in
projections/analytics_queries.py."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg_pool import ConnectionPool

from domain.appointment import Status
from domain.slot import SlotStatus
from infra.postgres.read_models.demographics import DemographicsReadModel
from infra.postgres.tracking import tracking_table
from projections.analytics_queries import (
    DUE_STATUSES,
    AppointmentAnalytics,
    AppointmentFigures,
    AppointmentGroup,
    Counts,
    Grouping,
    ProviderUtilization,
    Utilization,
    UtilizationReport,
)

TRACKING_TABLE = tracking_table("analytics")

# Each measure's filter, spelled once; the parameters name the statuses.
FIGURES = """
    count(*) AS appointments,
    count(*) FILTER (WHERE booked_at IS NOT NULL) AS booked,
    count(*) FILTER (WHERE booked_at IS NOT NULL AND status = ANY(%(due)s)) AS due,
    count(*) FILTER (WHERE status = %(completed)s) AS completed,
    count(*) FILTER (WHERE status = %(no_show)s) AS no_shows,
    count(*) FILTER (WHERE booked_at IS NOT NULL AND status = %(cancelled)s) AS cancelled,
    count(*) FILTER (
        WHERE booked_at IS NOT NULL AND status = %(cancelled)s AND late_cancellation
    ) AS late_cancelled,
    avg(wait_seconds) AS mean_wait_seconds,
    avg(duration_seconds) FILTER (WHERE status = %(completed)s) AS mean_duration_seconds,
    avg(lead_time_seconds) FILTER (WHERE booked_at IS NOT NULL) AS mean_lead_time_seconds
"""

GROUP_COLUMNS: dict[Grouping, tuple[str, ...]] = {
    Grouping.DAY: ("local_day",),
    Grouping.HOUR: ("local_hour",),
    Grouping.PROVIDER: ("provider_id", "provider_name"),
    Grouping.SPECIALTY: ("specialty",),
}
GROUP_ORDER: dict[Grouping, str] = {
    Grouping.DAY: "local_day",
    Grouping.HOUR: "local_hour",
    Grouping.PROVIDER: "provider_name NULLS LAST, provider_id",
    Grouping.SPECIALTY: "specialty NULLS LAST",
}
GROUP_FIELDS: dict[str, str] = {
    "local_day": "day",
    "local_hour": "hour",
    "provider_id": "provider_id",
    "provider_name": "provider_name",
    "specialty": "specialty",
}

UTILIZATION = """
SELECT provider_id, provider_name, specialty,
       count(*) FILTER (WHERE status = %(open)s) AS open_slots,
       coalesce(sum(open_seat_minutes), 0) AS open_minutes,
       coalesce(sum(booked_seat_minutes), 0) AS booked_minutes,
       -- a sum of bigint counts is numeric; the figure is a whole number of seats
       coalesce(sum(overbooked_seats) FILTER (WHERE status = %(open)s), 0)::bigint AS overbooked
  FROM an_slot_facts
 WHERE start_at >= %(from)s AND start_at < %(to)s
   AND (%(provider_id)s::uuid IS NULL OR provider_id = %(provider_id)s::uuid)
 GROUP BY provider_id, provider_name, specialty
 ORDER BY provider_name NULLS LAST, provider_id
"""


def _counts(row: dict[str, Any]) -> Counts:
    return Counts(**{field: row[field] for field in Counts.__struct_fields__})


class PostgresAnalyticsQueries(DemographicsReadModel):
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        super().__init__(pool, TRACKING_TABLE)

    def appointments(
        self,
        start_from: datetime,
        start_to: datetime,
        group_by: Grouping | None,
        provider_id: UUID | None = None,
    ) -> AppointmentAnalytics:
        params: dict[str, Any] = {
            "from": start_from,
            "to": start_to,
            "provider_id": provider_id,
            "due": [s.value for s in DUE_STATUSES],
            "completed": Status.COMPLETED.value,
            "no_show": Status.NO_SHOW.value,
            "cancelled": Status.CANCELLED.value,
        }
        where = sql.SQL(
            " FROM an_appointment_facts WHERE start_at >= %(from)s AND start_at < %(to)s"
            " AND (%(provider_id)s::uuid IS NULL OR provider_id = %(provider_id)s::uuid)"
        )
        totals = self._rows(sql.SQL("SELECT ") + sql.SQL(FIGURES) + where, params)[0]
        groups: list[AppointmentGroup] = []
        if group_by is not None:
            columns = GROUP_COLUMNS[group_by]
            keys = sql.SQL(", ").join(map(sql.Identifier, columns))
            query = (
                sql.SQL("SELECT {}, ").format(keys)
                + sql.SQL(FIGURES)
                + where
                + sql.SQL(" GROUP BY {} ORDER BY ").format(keys)
                + sql.SQL(GROUP_ORDER[group_by])
            )
            groups = [
                AppointmentGroup(
                    **{GROUP_FIELDS[c]: row[c] for c in columns},
                    figures=AppointmentFigures.of(_counts(row)),
                )
                for row in self._rows(query, params)
            ]
        return AppointmentAnalytics(
            start_from=start_from,
            start_to=start_to,
            group_by=group_by,
            totals=AppointmentFigures.of(_counts(totals)),
            groups=groups,
        )

    def utilization(
        self, start_from: datetime, start_to: datetime, provider_id: UUID | None = None
    ) -> UtilizationReport:
        rows = self._rows(
            UTILIZATION,
            {
                "from": start_from,
                "to": start_to,
                "provider_id": provider_id,
                "open": SlotStatus.OPEN.value,
            },
        )
        providers = [
            ProviderUtilization(
                provider_id=r["provider_id"],
                provider_name=r["provider_name"],
                specialty=r["specialty"],
                figures=Utilization.of(
                    r["open_slots"], r["open_minutes"], r["booked_minutes"], r["overbooked"]
                ),
            )
            for r in rows
        ]
        totals = Utilization.of(
            sum(r["open_slots"] for r in rows),
            sum((Decimal(r["open_minutes"]) for r in rows), Decimal(0)),
            sum((Decimal(r["booked_minutes"]) for r in rows), Decimal(0)),
            sum(r["overbooked"] for r in rows),
        )
        return UtilizationReport(
            start_from=start_from, start_to=start_to, totals=totals, providers=providers
        )
