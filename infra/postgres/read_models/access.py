"""Third-next-available over the analytics model's slot history (migration 0081): free seats as
they were at a reference time. Defined in projections/access_queries.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg import sql

from domain.errors import NotFoundError
from infra.postgres.read_models.performance import PerformanceReadModel
from projections.access_queries import (
    HORIZON_DAYS,
    NTH,
    AccessPoint,
    AccessReport,
    AccessSeries,
    ThirdAvailable,
    days_between,
)

# {ref} is the reference instant: a parameter, or a column of the series' references.
THIRD = """
WITH seats AS (
    SELECT s.provider_id, t.type, s.start_at, s.id,
           greatest(s.capacity - (
               SELECT count(*) FROM an_seat_history st
                WHERE st.slot_id = s.id AND st.taken_at <= {ref}
                  AND (st.released_at IS NULL OR st.released_at > {ref})
           ), 0) AS free
      FROM an_slots s
     CROSS JOIN LATERAL unnest(s.appointment_types) AS t(type)
     WHERE s.start_at >= {ref} AND s.start_at < {ref} + %(horizon)s
       AND (%(provider_id)s::uuid IS NULL OR s.provider_id = %(provider_id)s::uuid)
       AND (%(type)s::text IS NULL OR t.type = %(type)s::text)
       AND (SELECT h.status FROM an_slot_status_history h
             WHERE h.slot_id = s.id AND h.at <= {ref}
             ORDER BY h.version DESC LIMIT 1) = 'open'
), running AS (
    SELECT provider_id, type, start_at, free,
           sum(free) OVER (PARTITION BY provider_id, type ORDER BY start_at, id) AS seats
      FROM seats
)
SELECT provider_id, type,
       min(start_at) FILTER (WHERE seats >= %(nth)s) AS third_at,
       sum(free)::integer AS free_seats
  FROM running
 GROUP BY provider_id, type
"""

SERIES = """
SELECT r.day, r.ref, third.third_at, coalesce(third.free_seats, 0) AS free_seats
  FROM (SELECT d::date AS day, (d::date::timestamp AT TIME ZONE %(zone)s) AS ref
          FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') d) r
  LEFT JOIN LATERAL ({third}) third ON true
 ORDER BY r.day
"""


class AccessReadModel(PerformanceReadModel):
    def _third_params(self, provider_id: UUID | None, kind: str | None) -> dict[str, Any]:
        return {
            "provider_id": provider_id,
            "type": kind,
            "horizon": timedelta(days=HORIZON_DAYS),
            "nth": NTH,
        }

    def access(
        self, reference: datetime, provider_id: UUID | None = None, kind: str | None = None
    ) -> AccessReport:
        query = sql.SQL(THIRD).format(ref=sql.SQL("%(ref)s::timestamptz"))
        params = {**self._third_params(provider_id, kind), "ref": reference}
        rows = [
            ThirdAvailable(
                provider_id=r["provider_id"],
                appointment_type=r["type"],
                third_available_at=r["third_at"],
                days=days_between(reference, r["third_at"]),
                free_seats=r["free_seats"],
            )
            for r in sorted(
                self._rows(query, params), key=lambda r: (str(r["provider_id"]), r["type"])
            )
        ]
        return AccessReport(reference=reference, horizon_days=HORIZON_DAYS, rows=rows)

    def access_series(
        self, provider_id: UUID, kind: str, first_day: date, last_day: date
    ) -> AccessSeries:
        zones = self._rows(
            "SELECT coalesce(time_zone, 'UTC') AS zone FROM an_providers WHERE id = %(id)s",
            {"id": provider_id},
        )
        if not zones:
            raise NotFoundError(f"provider {provider_id} not found")
        zone = zones[0]["zone"]
        third = sql.SQL(THIRD).format(ref=sql.SQL("r.ref"))
        query = sql.SQL(SERIES).format(third=third)
        params = {
            **self._third_params(provider_id, kind),
            "zone": zone,
            "first": first_day,
            "last": last_day,
        }
        points = [
            AccessPoint(
                day=r["day"],
                reference=r["ref"],
                third_available_at=r["third_at"],
                days=days_between(r["ref"], r["third_at"]),
                free_seats=r["free_seats"],
            )
            for r in self._rows(query, params)
        ]
        return AccessSeries(
            provider_id=provider_id,
            appointment_type=kind,
            time_zone=zone,
            horizon_days=HORIZON_DAYS,
            points=points,
        )
