"""Delivery records on PostgreSQL: the scheduler's claims (`FOR UPDATE SKIP LOCKED`), the send
jobs' forward-only moves, the providers' callbacks (deduplicated on (provider id, status)) and
the queries staff and auditors read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.notifications.deliveries import (
    PROVIDER_STATUSES,
    RANK,
    TERMINAL,
    Delivery,
)

COLUMNS = (
    "id, dedupe_key, patient_id, appointment_id, kind, category, channel, start_at, "
    "appointment_version, due_at, deadline, status, reason, provider_message_id, attempts, "
    "fallback_of, created_at, updated_at, sent_at"
)
CLAIM = """
UPDATE notification_deliveries SET status = 'queued', queued_at = %(now)s, updated_at = %(now)s
WHERE id IN (
    SELECT id FROM notification_deliveries
    WHERE status = 'planned' AND due_at <= %(now)s
    ORDER BY due_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
RETURNING id
"""
STUCK = """
UPDATE notification_deliveries SET queued_at = now()
WHERE id IN (
    SELECT id FROM notification_deliveries
    WHERE status IN ('queued', 'sending') AND queued_at < %(before)s
    ORDER BY queued_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
RETURNING id
"""
# A job takes the delivery for a lease: a second job for it (a redelivery, a re-enqueued
# stuck row) finds it held and does nothing; one whose holder died takes it once the lease ends.
BEGIN = (
    "UPDATE notification_deliveries SET status = 'sending', attempts = attempts + 1, "  # noqa: S608
    "lease_until = now() + make_interval(secs => %s), updated_at = now() "
    "WHERE id = %s AND (status = 'queued' OR (status = 'sending' AND "
    "(lease_until IS NULL OR lease_until < now()))) RETURNING " + COLUMNS
)
# Statuses that may move to each status, from the rank table: forward only, never terminal.
MOVABLE = {
    wanted: [s for s, rank in RANK.items() if s not in TERMINAL and rank < RANK[wanted]]
    for wanted in RANK
}


def delivery(row: dict[str, Any]) -> Delivery:
    return Delivery(**row)


class PostgresDeliveries:
    def __init__(self, pool: ConnectionPool[Any], lease_seconds: float = 30.0) -> None:
        self.pool = pool
        self.lease_seconds = lease_seconds

    def _one(self, query: str, params: Any) -> Delivery | None:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(query, params)
            row = curs.fetchone()
        return None if row is None else delivery(row)

    def _ids(self, query: str, params: dict[str, Any]) -> list[UUID]:
        with self.pool.connection() as conn:
            return [row[0] for row in conn.execute(query, params).fetchall()]

    def claim_due(self, now: datetime, limit: int) -> list[UUID]:
        return self._ids(CLAIM, {"now": now, "limit": limit})

    def stuck(self, older_than: datetime, limit: int) -> list[UUID]:
        return self._ids(STUCK, {"before": older_than, "limit": limit})

    def get(self, delivery_id: UUID) -> Delivery | None:
        query = f"SELECT {COLUMNS} FROM notification_deliveries WHERE id = %s"  # noqa: S608
        return self._one(query, (delivery_id,))

    def begin(self, delivery_id: UUID) -> Delivery | None:
        return self._one(BEGIN, (self.lease_seconds, delivery_id))

    def release(self, delivery_id: UUID) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE notification_deliveries SET lease_until = NULL WHERE id = %s",
                (delivery_id,),
            )

    def move(
        self,
        delivery_id: UUID,
        status: str,
        reason: str | None = None,
        provider_message_id: str | None = None,
    ) -> bool:
        query = (
            "UPDATE notification_deliveries SET status = %s, reason = coalesce(%s, reason), "
            "provider_message_id = coalesce(%s, provider_message_id), updated_at = now(), "
            "sent_at = CASE WHEN %s = 'sent' THEN now() ELSE sent_at END "
            "WHERE id = %s AND status = ANY(%s)"
        )
        params = (status, reason, provider_message_id, status, delivery_id, MOVABLE[status])
        with self.pool.connection() as conn:
            return bool(conn.execute(query, params).rowcount == 1)

    def note_recipient(self, delivery_id: UUID, digest: str) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE notification_deliveries SET recipient_digest = %s WHERE id = %s",
                (digest, delivery_id),
            )

    def defer(self, delivery_id: UUID, due_at: datetime) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE notification_deliveries SET status = 'planned', due_at = %s, "
                "updated_at = now() WHERE id = %s AND status IN ('queued', 'sending')",
                (due_at, delivery_id),
            )

    def fallback(self, original: Delivery, channel: str) -> UUID | None:
        new_id = uuid4()
        query = """
        INSERT INTO notification_deliveries (id, dedupe_key, patient_id, appointment_id,
            provider_id, kind, category, channel, start_at, appointment_version, due_at,
            deadline, status, fallback_of, event_id, created_at, updated_at, queued_at)
        SELECT %s, dedupe_key || ':' || %s, patient_id, appointment_id, provider_id, kind,
            category, %s, start_at, appointment_version, now(), deadline, 'queued', id,
            event_id, now(), now(), now()
        FROM notification_deliveries WHERE id = %s
        ON CONFLICT (dedupe_key) DO NOTHING RETURNING id
        """
        with self.pool.connection() as conn:
            row = conn.execute(query, (new_id, channel, channel, original.id)).fetchone()
        return None if row is None else row[0]

    def write_inbox(self, delivery: Delivery, title: str, body: str, link: str | None) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO notification_inbox (id, patient_id, delivery_id, category, kind, "
                "appointment_id, title, body, link, created_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, now()) "
                "ON CONFLICT (delivery_id) DO NOTHING",
                (
                    uuid4(),
                    delivery.patient_id,
                    delivery.id,
                    delivery.category,
                    delivery.kind,
                    delivery.appointment_id,
                    title,
                    body,
                    link,
                ),
            )

    def callback(
        self, provider_message_id: str, status: str, error_code: str | None, at: datetime
    ) -> Delivery | None:
        ours = PROVIDER_STATUSES.get(status)
        if ours is None:
            return None
        with self.pool.connection() as conn, conn.transaction():
            found = conn.execute(
                "SELECT id FROM notification_deliveries WHERE provider_message_id = %s",
                (provider_message_id,),
            ).fetchone()
            if found is None:
                return None
            first = conn.execute(
                "INSERT INTO notification_delivery_statuses VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (provider_message_id, status, found[0], error_code, at),
            ).rowcount
            moved = (
                first == 1
                and conn.execute(
                    "UPDATE notification_deliveries SET status = %s, "
                    "reason = coalesce(%s, reason), updated_at = now() "
                    "WHERE id = %s AND status = ANY(%s)",
                    (ours, error_code, found[0], MOVABLE[ours]),
                ).rowcount
                == 1
            )
        return self.get(found[0]) if moved else None

    def for_patient(self, patient_id: UUID, limit: int, offset: int) -> list[Delivery]:
        query = (
            f"SELECT {COLUMNS} FROM notification_deliveries WHERE patient_id = %s "  # noqa: S608
            "ORDER BY created_at DESC, id LIMIT %s OFFSET %s"
        )
        return self._many(query, (patient_id, limit, offset))

    def for_appointment(self, appointment_id: UUID) -> list[Delivery]:
        query = (
            f"SELECT {COLUMNS} FROM notification_deliveries WHERE appointment_id = %s "  # noqa: S608
            "ORDER BY created_at, due_at, id"
        )
        return self._many(query, (appointment_id,))

    def _many(self, query: str, params: Any) -> list[Delivery]:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(query, params)
            return [delivery(row) for row in curs.fetchall()]


BULK = """
INSERT INTO notification_deliveries (id, dedupe_key, patient_id, appointment_id, provider_id,
    kind, category, channel, start_at, due_at, status, event_id, created_at, updated_at)
SELECT gen_random_uuid(),
    'bulk:' || %(notice)s::text || ':' || p.appointment_id || ':' || c.channel,
    p.patient_id, p.appointment_id, p.provider_id, 'bulk_notice', 'appointments', c.channel,
    p.start_at, %(now)s, 'planned', %(notice)s::uuid, %(now)s, %(now)s
FROM notification_plans p CROSS JOIN (VALUES ('sms'), ('email'), ('in_app')) AS c(channel)
WHERE p.provider_id = %(provider)s AND p.start_at >= %(start)s AND p.start_at < %(end)s
  AND p.status IN ('booked', 'confirmed', 'checked_in')
ON CONFLICT (dedupe_key) DO NOTHING
"""


class PostgresBulkNotices:
    """Staff notices to a provider's patients of one day, at most `per_hour` per provider
    (counted under a per-provider lock, so racing requests cannot pass the limit together).
    Each becomes planned deliveries on every channel; the send job checks consent per patient
    and skips the rest with the reason."""

    def __init__(self, pool: ConnectionPool[Any], per_hour: int) -> None:
        self.pool = pool
        self.per_hour = per_hour

    def send(
        self,
        provider_id: UUID,
        day: date,
        window: tuple[datetime, datetime],
        sent_by: UUID,
        now: datetime,
    ) -> tuple[UUID, int] | None:
        """The notice's id and how many patients it reaches; None over the rate limit."""
        notice_id = uuid4()
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (str(provider_id),))
            row = conn.execute(
                "SELECT count(*) FROM notification_bulk_notices WHERE provider_id = %s "
                "AND created_at > %s - interval '1 hour'",
                (provider_id, now),
            ).fetchone()
            if row is not None and int(row[0]) >= self.per_hour:
                return None
            start, end = window
            params = {"notice": str(notice_id), "provider": provider_id, "start": start}
            conn.execute(BULK, {**params, "end": end, "now": now})
            found = conn.execute(
                "SELECT count(DISTINCT patient_id) FROM notification_deliveries "
                "WHERE event_id = %s",
                (notice_id,),
            ).fetchone()
            recipients = 0 if found is None else int(found[0])
            conn.execute(
                "INSERT INTO notification_bulk_notices VALUES (%s, %s, %s, %s, %s, %s)",
                (notice_id, provider_id, day, sent_by, recipients, now),
            )
        return notice_id, recipients
