"""Writes the auditor's index of the event log (migration 0011) in the sealer's transaction:
an event is indexed exactly when it is sealed, so an answer always names its seal."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from projections.audit.chain import LogRecord
from projections.audit.index import indexed


def write_index(conn: psycopg.Connection[Any], records: Sequence[LogRecord]) -> None:
    events = [indexed(r) for r in records]
    if not events:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO audit_events (position, aggregate_id, version, topic, recorded_at, "
            "actor_id, actor_role, correlation_id, causation_id, command, idempotency_key) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [
                (
                    e.position,
                    e.aggregate_id,
                    e.version,
                    e.topic,
                    e.recorded_at,
                    e.actor_id,
                    e.actor_role,
                    e.correlation_id,
                    e.causation_id,
                    e.command,
                    e.idempotency_key,
                )
                for e in events
            ],
        )
        subjects = [(e.aggregate_id, e.patient_id) for e in events if e.patient_id is not None]
        if subjects:
            cur.executemany(
                "INSERT INTO audit_subjects (aggregate_id, patient_id) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                subjects,
            )


# Sealed events of the log with no index row: those sealed before migration 0011 added the
# index (or by a sealer that predates it), in log order after a position.
_UNINDEXED = """
SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state FROM {events} e
JOIN audit_seals s ON s.log = %(log)s AND s.position = e.notification_id
WHERE e.notification_id > %(after)s
  AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.position = e.notification_id)
ORDER BY e.notification_id LIMIT %(batch)s
"""
_COUNT = """
SELECT count(*) FROM audit_seals s WHERE s.log = %(log)s
  AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.position = s.position)
"""


class IndexBackfill:
    """`slotwise audit reindex`: index the events sealed before the index existed, batch by
    batch (a transaction each), exactly as the sealer would have. Safe beside a running sealer
    and when interrupted: rows are keyed by position and written once (ON CONFLICT DO NOTHING),
    and a rerun finds only what is still missing."""

    def __init__(self, pool: ConnectionPool[Any], events_table: str, origin: str) -> None:
        self._pool = pool
        self._query = sql.SQL(_UNINDEXED).format(events=sql.Identifier(events_table))
        self._origin = origin

    def missing(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute(_COUNT, {"log": self._origin}).fetchone()
        return int(row[0]) if row else 0

    def run(self, batch: int = 1000, progress: Callable[[int], None] | None = None) -> int:
        """Index every sealed event that has no index row; how many were indexed."""
        done, after = 0, 0
        while True:
            with self._pool.connection() as conn, conn.transaction():
                params = {"log": self._origin, "after": after, "batch": batch}
                rows = conn.execute(self._query, params).fetchall()
                if not rows:
                    return done
                write_index(conn, [record_of(row) for row in rows])
            done += len(rows)
            after = int(rows[-1][0])
            if progress is not None:
                progress(done)


def record_of(row: Sequence[Any]) -> LogRecord:
    return LogRecord(int(row[0]), row[1], int(row[2]), str(row[3]), bytes(row[4]))
