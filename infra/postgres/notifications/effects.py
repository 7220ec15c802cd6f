"""Notification deliveries as side effects of a request (`GET /v1/audit/explain/{cid}`): the
messages sent, skipped or failed because of the request's events, each with its kind, channel
and status (and the reason code when skipped or failed) — never an address or a body.

Attribution follows what the reminder policy writes: a notice (confirmation, reschedule,
cancellation, slot blocked...) carries the id of the event that asked for it
(`notice_event_id`), and a reminder carries the appointment version that last planned it, so it
belongs to the request that recorded that version. A channel fallback (SMS → email → in-app)
carries both from the delivery it stands in for. Rows still planned or in flight are not
effects yet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.audit.effects import EffectLog
from projections.audit.trail import AuditedEvent, SideEffect
from projections.notifications.policy import notice_event_id

CAUSED = """
SELECT id, patient_id, appointment_id, kind, channel, status, reason,
    coalesce(sent_at, updated_at) AS at
FROM notification_deliveries
WHERE status NOT IN ('planned', 'queued', 'sending')
  AND (event_id = ANY(%(events)s)
       OR (event_id IS NULL AND (appointment_id, appointment_version) IN (
           SELECT * FROM unnest(%(aggregates)s::uuid[], %(versions)s::integer[]))))
ORDER BY at, kind, channel, id
"""


class DeliveryEffects:
    """One `EffectSource`: the request's notification deliveries, from the delivery records."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def effects(
        self, correlation_id: UUID, events: Sequence[AuditedEvent], log: EffectLog
    ) -> list[SideEffect]:
        if not events:
            return []
        params = {
            "events": [notice_event_id(e.aggregate_id, e.version) for e in events],
            "aggregates": [e.aggregate_id for e in events],
            "versions": [e.version for e in events],
        }
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            rows = curs.execute(CAUSED, params).fetchall()
        return [
            SideEffect(
                kind=f"notification.{row['status']}",
                subject_id=row["appointment_id"] or row["patient_id"],
                effect_id=row["id"],
                at=row["at"],
                position=None,
                detail=_detail(row),
                seal=None,
            )
            for row in rows
        ]


def _detail(row: dict[str, Any]) -> str:
    """`kind channel`, and the reason code when there is one (e.g. `reminder_30m sms stale`)."""
    parts = [row["kind"], row["channel"]]
    if row["reason"]:
        parts.append(row["reason"])
    return " ".join(parts)
