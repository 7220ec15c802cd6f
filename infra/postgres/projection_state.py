"""PostgreSQL state of a Kafka-fed projection: rows, versions and offsets in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from domain.log import APPLICATION_NAME
from infra.postgres.rows import apply_changes
from infra.postgres.tracking import notify_position, read_watermark, tracking_table
from projections.delivery import Applicable, DeadLetter, LetterState
from projections.integration import event_id


class PostgresProjectionState:
    def __init__(self, pool: ConnectionPool[Any], projection: str) -> None:
        self._pool = pool
        self.projection = projection
        self._tracking_table = tracking_table(projection)
        self._tracking = sql.Identifier(self._tracking_table)

    def versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        wanted = list(ids)
        if not wanted:
            return {}
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT aggregate_id, version FROM projection_versions "
                "WHERE projection = %s AND aggregate_id = ANY(%s)",
                (self.projection, wanted),
            ).fetchall()
        return {r[0]: r[1] for r in rows}

    def stored_offsets(self) -> dict[tuple[str, int], int]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT topic, partition, next_offset FROM projection_offsets "
                "WHERE projection = %s",
                (self.projection,),
            ).fetchall()
        return {(r[0], r[1]): r[2] for r in rows}

    def apply(self, events: Sequence[Applicable], offsets: Mapping[tuple[str, int], int]) -> int:
        applied = 0
        resolved: list[UUID] = []
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            for event in events:
                # Lock the aggregate's version row: two workers of one projection (during a
                # rebalance) serialise here, and the loser sees the event as a duplicate.
                cur.execute(
                    "INSERT INTO projection_versions VALUES (%s, %s, 0) ON CONFLICT DO NOTHING",
                    (self.projection, event.aggregate_id),
                )
                cur.execute(
                    "SELECT version FROM projection_versions "
                    "WHERE projection = %s AND aggregate_id = %s FOR UPDATE",
                    (self.projection, event.aggregate_id),
                )
                row = cur.fetchone()
                current = row[0] if row else 0
                if event.version <= current:
                    continue
                if event.version != current + 1:
                    msg = (
                        f"version gap for {event.aggregate_id}: have {current}, got {event.version}"
                    )
                    raise RuntimeError(msg)
                apply_changes(cur, event.changes)
                cur.execute(
                    "UPDATE projection_versions SET version = %s "
                    "WHERE projection = %s AND aggregate_id = %s",
                    (event.version, self.projection, event.aggregate_id),
                )
                applied += 1
                resolved.append(event_id(event.aggregate_id, event.version))
            self._resolve(cur, resolved)
            for (topic, partition), next_offset in offsets.items():
                cur.execute(
                    "INSERT INTO projection_offsets VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (projection, topic, partition) DO UPDATE "
                    "SET next_offset = EXCLUDED.next_offset",
                    (self.projection, topic, partition, next_offset),
                )
        return applied

    def watermark(self) -> int:
        with self._pool.connection() as conn:
            return read_watermark(conn, self._tracking_table)

    def set_watermark(self, position: int) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {0} VALUES (%s, %s) ON CONFLICT (application_name) "
                    "DO UPDATE SET notification_id = EXCLUDED.notification_id "
                    "WHERE {0}.notification_id < EXCLUDED.notification_id"
                ).format(self._tracking),
                (APPLICATION_NAME, position),
            )
            notify_position(conn, self.projection, position)

    def _resolve(self, cur: psycopg.Cursor[Any], applied: list[UUID]) -> None:
        """Dead letters of events applied after all (a retry, or a restart with a fix) no
        longer stop the projection; neither does the error they recorded."""
        if not applied:
            return
        cur.execute(
            "UPDATE projection_dead_letters SET state = 'resolved' "
            "WHERE projection = %s AND event_id = ANY(%s) AND state IN ('open', 'retry')",
            (self.projection, applied),
        )
        if cur.rowcount:
            cur.execute(
                "UPDATE projection_status SET last_error = NULL, last_error_at = NULL, "
                "updated_at = now() WHERE projection = %s",
                (self.projection,),
            )

    def dead_letter(self, letter: DeadLetter) -> LetterState:
        # A letter an operator skipped stays skipped; any other becomes open (again).
        with self._pool.connection() as conn:
            row = conn.execute(
                "INSERT INTO projection_dead_letters (projection, event_id, position, "
                "aggregate_id, aggregate_version, event_type, error, attempts, skipped, topic, "
                "state) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (projection, event_id) DO UPDATE SET error = EXCLUDED.error, "
                "skipped = projection_dead_letters.skipped OR EXCLUDED.skipped, "
                "state = CASE WHEN projection_dead_letters.state = 'skipped' THEN 'skipped' "
                "ELSE EXCLUDED.state END, "
                "attempts = projection_dead_letters.attempts + EXCLUDED.attempts, "
                "failed_at = now() RETURNING state",
                (
                    self.projection,
                    letter.event_id,
                    letter.position,
                    letter.aggregate_id,
                    letter.aggregate_version,
                    letter.event_type,
                    letter.error,
                    letter.attempts,
                    letter.skipped,
                    letter.topic,
                    "skipped" if letter.skipped else "open",
                ),
            ).fetchone()
        state: LetterState = row[0] if row else "open"
        return state

    def letter_state(self, event_id: UUID) -> LetterState | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT state FROM projection_dead_letters WHERE projection = %s AND event_id = %s",
                (self.projection, event_id),
            ).fetchone()
        return None if row is None else row[0]

    def record_error(self, error: str | None) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO projection_status (projection, last_error, last_error_at) "
                "VALUES (%s, %s, CASE WHEN %s::text IS NULL THEN NULL ELSE now() END) "
                "ON CONFLICT (projection) DO UPDATE SET last_error = EXCLUDED.last_error, "
                "last_error_at = EXCLUDED.last_error_at, updated_at = now()",
                (self.projection, error, error),
            )
