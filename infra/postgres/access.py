"""The access-record log in PostgreSQL (migration 0010): appended in a transaction of its own
that commits before the API answers, read back for auditors from the sealed bytes.

The table has the event store's column names, so `PostgresSeals(pool, ACCESS_TABLE, origin)`
seals, exports and verifies it like the event log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg_pool import ConnectionPool

from projections.audit.access import TOPIC, AccessRecord

ACCESS_TABLE = "audit_access"


class PostgresAccessLog:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool

    def append(self, records: Sequence[AccessRecord]) -> None:
        if not records:
            return
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO audit_access (originator_id, topic, state, recorded_at, actor_id, "
                "actor_role, patient_ids, outcome) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        r.id,
                        TOPIC,
                        r.state(),
                        r.recorded_at,
                        r.actor_id,
                        r.actor_role,
                        list(r.patient_ids),
                        r.outcome,
                    )
                    for r in records
                ],
            )
