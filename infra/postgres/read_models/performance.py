"""Provider performance over the analytics read model (migrations 0003, 0081): seat-minutes
from each slot's recorded history, appointment counts from the facts. Measures are defined in
projections/performance_queries.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.appointment import Status
from infra.postgres.read_models.revenue import RevenueReadModel
from infra.postgres.read_models.waitlist import FILLS
from projections.analytics_queries import DUE_STATUSES
from projections.performance_queries import (
    PerformanceCounts,
    PerformanceReport,
    ProviderRow,
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

# Reminders (notification delivery records, migration 0040) of the appointments starting in
# the period; an appointment is reminded when at least one of its reminders was delivered.
REMINDERS = """
WITH reminders AS (
    SELECT a.provider_id, a.id, a.status, a.booked_at, d.status AS delivery
      FROM an_appointments a
      JOIN notification_deliveries d ON d.appointment_id = a.id AND d.kind LIKE 'reminder%%'
     WHERE a.start_at >= %(from)s AND a.start_at < %(to)s
), reminded AS (
    SELECT DISTINCT provider_id, id, status, booked_at FROM reminders
     WHERE delivery = 'delivered'
)
SELECT r.provider_id,
       count(*) FILTER (WHERE delivery IN ('sent', 'delivered', 'undelivered', 'failed'))
           AS reminders_attempted,
       count(*) FILTER (WHERE delivery = 'delivered') AS reminders_delivered,
       (SELECT count(*) FROM reminded x WHERE x.provider_id = r.provider_id
           AND x.booked_at IS NOT NULL AND x.status = ANY(%(due)s)) AS due_with_reminder,
       (SELECT count(*) FROM reminded x WHERE x.provider_id = r.provider_id
           AND x.status = %(no_show)s) AS no_shows_with_reminder
  FROM reminders r
 GROUP BY r.provider_id
"""

PROVIDERS = """SELECT id, name, specialty, rating, rating_count FROM an_providers
 ORDER BY name NULLS LAST, id"""


class PerformanceReadModel(RevenueReadModel):
    def _fills(self, provider_id: UUID, params: dict[str, Any]) -> dict[str, Any]:
        """The waitlist's fill figures for one provider, by the waitlist model's own query."""
        window = {"provider": provider_id, "start": params["from"], "end": params["to"]}
        fills = self._rows(FILLS, window)[0]
        median = fills["median_seconds"]
        return {
            "freed_seats": fills["freed"],
            "filled_from_waitlist": fills["filled"],
            "median_seconds_to_fill": None if median is None else float(median),
        }

    def _performance_counts(
        self, providers: list[UUID], start_from: datetime, start_to: datetime
    ) -> dict[UUID, Any]:
        params = {
            "from": start_from,
            "to": start_to,
            "due": [s.value for s in DUE_STATUSES],
            "no_show": Status.NO_SHOW.value,
            "cancelled": Status.CANCELLED.value,
            "completed": Status.COMPLETED.value,
        }
        values: dict[UUID, dict[str, Any]] = {}
        rows = (
            self._rows(SEAT_MINUTES, params)
            + self._rows(COUNTS, params)
            + self._rows(REMINDERS, params)
        )
        for row in rows:
            values.setdefault(row["provider_id"], {}).update(
                {k: v for k, v in row.items() if k != "provider_id"}
            )
        for provider_id in providers:
            values.setdefault(provider_id, {}).update(self._fills(provider_id, params))
        return {p: PerformanceCounts(**v) for p, v in values.items()}

    def performance(
        self,
        start_from: datetime,
        start_to: datetime,
        provider_id: UUID | None = None,
        specialty: str | None = None,
    ) -> PerformanceReport:
        previous_from = start_from - (start_to - start_from)
        providers = [ProviderRow(**r) for r in self._rows(PROVIDERS, {})]
        ids = [p.id for p in providers]
        report = assemble(
            providers,
            self._performance_counts(ids, start_from, start_to),
            self._performance_counts(ids, previous_from, start_from),
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
