"""The in-app inbox on PostgreSQL: a patient's messages (unread only, by category, paged), the
unread count, mark one read and mark all read. Every query is bounded to the patient."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.notifications.deliveries import InboxItem

ITEMS = """
SELECT id, category, kind, appointment_id, title, body, link, created_at, read_at
FROM notification_inbox
WHERE patient_id = %(patient)s
  AND (NOT %(unread)s OR read_at IS NULL)
  AND (%(category)s::text IS NULL OR category = %(category)s)
ORDER BY created_at DESC, id LIMIT %(limit)s OFFSET %(offset)s
"""


class PostgresInbox:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def items(
        self, patient_id: UUID, unread: bool, category: str | None, limit: int, offset: int
    ) -> list[InboxItem]:
        params = {
            "patient": patient_id,
            "unread": unread,
            "category": category,
            "limit": limit,
            "offset": offset,
        }
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(ITEMS, params)
            return [InboxItem(**row) for row in curs.fetchall()]

    def unread_count(self, patient_id: UUID) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT count(*) FROM notification_inbox WHERE patient_id = %s AND read_at IS NULL",
                (patient_id,),
            ).fetchone()
        return 0 if row is None else int(row[0])

    def mark_read(self, patient_id: UUID, item_id: UUID, at: datetime) -> bool:
        with self.pool.connection() as conn:
            found = conn.execute(
                "UPDATE notification_inbox SET read_at = coalesce(read_at, %s) "
                "WHERE id = %s AND patient_id = %s",
                (at, item_id, patient_id),
            ).rowcount
        return bool(found == 1)

    def mark_all_read(self, patient_id: UUID, at: datetime) -> int:
        with self.pool.connection() as conn:
            marked = conn.execute(
                "UPDATE notification_inbox SET read_at = %s "
                "WHERE patient_id = %s AND read_at IS NULL",
                (at, patient_id),
            ).rowcount
        return int(marked)

    def patient_of_recipient(self, digest: str) -> UUID | None:
        """The patient last sent a message at the address with this digest."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT patient_id FROM notification_deliveries WHERE recipient_digest = %s "
                "ORDER BY created_at DESC LIMIT 1",
                (digest,),
            ).fetchone()
        return None if row is None else row[0]
