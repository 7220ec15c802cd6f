"""Provider performance over the analytics read model (migrations 0003, 0081): seat-minutes
from each slot's recorded history, appointment counts from the facts. Measures are defined in
projections/performance_queries.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.appointment import Status
from infra.postgres.read_models.revenue import RevenueReadModel
from projections.analytics_queries import DUE_STATUSES
from projections.performance_queries import (
    PerformanceCounts,
    PerformanceReport,
    assemble,
)

# Each slot overlapping the period: its span clipped to the period, the parts of it during
# which its recorded status was open, and the seat-minutes booked within those parts.
SEAT_MINUTES = """
WITH spans AS (
    SELECT s.id, s.provider_id, s.capacity,
           tstzrange(greatest(s.start_at, %(from)s), least(s.end_at, %(to)s)) AS span
      FROM an_slots s
     WHERE s.start_at < %(to)s AND s.end_at > %(from)s
), statuses AS (
    -- an_until(): a clock stepping back between two events makes an empty range
    SELECT h.slot_id, h.status,
           tstzrange(h.at, an_until(h.at, lead(h.at) OVER w)) AS during
      FROM an_slot_status_history h
     WHERE h.slot_id IN (SELECT id FROM spans)
    WINDOW w AS (PARTITION BY h.slot_id ORDER BY h.version)
), opened AS (
    SELECT sp.id, sp.provider_id, sp.capacity,
           coalesce(range_agg(st.during * sp.span) FILTER (WHERE st.status = 'open'),
                    '{}'::tstzmultirange) AS open_ranges
      FROM spans sp
      LEFT JOIN statuses st ON st.slot_id = sp.id AND st.during && sp.span
     GROUP BY sp.id, sp.provider_id, sp.capacity
), booked AS (
    SELECT o.id,
           sum(an_minutes(o.open_ranges
                          * tstzmultirange(
                              tstzrange(h.booked_at, an_until(h.booked_at, h.released_at))
                          ))) AS minutes
      FROM opened o
      JOIN an_seat_history h ON h.slot_id = o.id AND h.booked_at IS NOT NULL
     GROUP BY o.id
)
SELECT o.provider_id,
       sum(o.capacity * an_minutes(o.open_ranges)) AS open_seat_minutes,
       coalesce(sum(b.minutes), 0) AS booked_seat_minutes
  FROM opened o
  LEFT JOIN booked b ON b.id = o.id
 GROUP BY o.provider_id
"""

COUNTS = """
SELECT provider_id,
       count(*) FILTER (WHERE booked_at IS NOT NULL) AS booked,
       count(*) FILTER (WHERE booked_at IS NOT NULL AND overbooked) AS overbooked,
       count(*) FILTER (WHERE booked_at IS NOT NULL AND status = ANY(%(due)s)) AS due,
       count(*) FILTER (WHERE status = %(no_show)s) AS no_shows,
       count(*) FILTER (WHERE booked_at IS NOT NULL AND status = %(cancelled)s) AS cancelled,
       count(*) FILTER (
           WHERE booked_at IS NOT NULL AND status = %(cancelled)s AND late_cancellation
       ) AS late_cancelled,
       count(*) FILTER (WHERE status = %(completed)s) AS completed,
       count(*) FILTER (WHERE status = %(completed)s AND follow_up_requested) AS follow_ups
  FROM an_appointments
 WHERE start_at >= %(from)s AND start_at < %(to)s
 GROUP BY provider_id
"""

PROVIDERS = "SELECT id, name, specialty FROM an_providers ORDER BY name NULLS LAST, id"


class PerformanceReadModel(RevenueReadModel):
    def _performance_counts(self, start_from: datetime, start_to: datetime) -> dict[UUID, Any]:
        params = {
            "from": start_from,
            "to": start_to,
            "due": [s.value for s in DUE_STATUSES],
            "no_show": Status.NO_SHOW.value,
            "cancelled": Status.CANCELLED.value,
            "completed": Status.COMPLETED.value,
        }
        values: dict[UUID, dict[str, Any]] = {}
        for row in self._rows(SEAT_MINUTES, params) + self._rows(COUNTS, params):
            values.setdefault(row["provider_id"], {}).update(
                {k: v for k, v in row.items() if k != "provider_id"}
            )
        return {p: PerformanceCounts(**v) for p, v in values.items()}

    def performance(
        self,
        start_from: datetime,
        start_to: datetime,
        provider_id: UUID | None = None,
        specialty: str | None = None,
    ) -> PerformanceReport:
        previous_from = start_from - (start_to - start_from)
        providers = [(r["id"], r["name"], r["specialty"]) for r in self._rows(PROVIDERS, {})]
        report = assemble(
            providers,
            self._performance_counts(start_from, start_to),
            self._performance_counts(previous_from, start_from),
        )
        chosen = [
            p
            for p in report
            if (provider_id is None or p.provider_id == provider_id)
            and (specialty is None or p.specialty == specialty)
        ]
        return PerformanceReport(
            start_from=start_from,
            start_to=start_to,
            previous_from=previous_from,
            providers=chosen,
        )
