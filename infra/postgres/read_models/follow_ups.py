"""Queries over follow-up requests (rm_follow_ups, written by the scheduling projection)."""

from __future__ import annotations

from typing import Any

from psycopg_pool import ConnectionPool

from infra.postgres.tracking import TrackedReadModel, tracking_table
from projections.follow_ups import FollowUpFilter, FollowUpView
from projections.queries import Page

SELECT = """
SELECT id, visit_id, patient_id, provider_id, appointment_type, interval_days, due_from, notes,
       status, appointment_id, requested_at, version, updated_at
  FROM rm_follow_ups
 WHERE (%(provider)s::uuid IS NULL OR provider_id = %(provider)s)
   AND (%(patient)s::uuid IS NULL OR patient_id = %(patient)s)
   AND status = ANY(%(statuses)s)
 ORDER BY due_from, id
 LIMIT %(limit)s OFFSET %(offset)s
"""


class PostgresFollowUpQueries(TrackedReadModel):
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        super().__init__(pool, tracking_table("scheduling"))

    def follow_ups(self, wanted: FollowUpFilter) -> Page[FollowUpView]:
        params = {
            "provider": wanted.provider_id,
            "patient": wanted.patient_id,
            "statuses": list(wanted.statuses),
            "limit": wanted.limit + 1,
            "offset": wanted.offset,
        }
        rows = self._rows(SELECT, params)
        more = len(rows) > wanted.limit
        items = [FollowUpView(**row) for row in rows[: wanted.limit]]
        after = wanted.offset + wanted.limit if more else None
        return Page(items=items, limit=wanted.limit, offset=wanted.offset, next_offset=after)
