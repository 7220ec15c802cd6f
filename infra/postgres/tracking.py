"""A projection's position: read from its tracking table, and announced on commit with
NOTIFY on one channel, so a process's one listener (infra.postgres.positions) can wake the
reads waiting for it."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.log import APPLICATION_NAME
from infra.postgres.pool import one_statement


def tracking_table(projection: str) -> str:
    """The eventsourcing tracking table that holds `projection`'s position."""
    return f"{projection}_tracking"


POSITIONS_CHANNEL = "slotwise_positions"
"""Carries `<projection>:<position>` whenever a projection records its position."""


def notify_position(
    conn: psycopg.Connection[Any] | psycopg.Cursor[Any], projection: str, position: int
) -> None:
    """Announce `projection`'s new position when the caller's transaction commits (NOTIFY is
    transactional: a rolled-back position is never announced)."""
    conn.execute(
        "SELECT pg_notify(%s, %s)", (POSITIONS_CHANNEL, f"{projection}:{position}"), prepare=True
    )


class AnnouncedTracking(PostgresTrackingRecorder):
    """eventsourcing's tracking recorder, announcing each position it records (in the same
    transaction) on POSITIONS_CHANNEL."""

    @property
    def projection(self) -> str:
        return self.tracking_table_name.removesuffix("_tracking")

    def _insert_tracking(self, curs: psycopg.Cursor[Any], tracking: Tracking) -> None:
        super()._insert_tracking(curs, tracking)
        if tracking.application_name == APPLICATION_NAME:  # not the table's migration marker
            notify_position(curs, self.projection, tracking.notification_id)


def read_watermark(conn: psycopg.Connection[Any], table: str) -> int:
    """The position of the projection tracked in `table`: 0 when it has not started yet (it
    creates its tracking table). Raises nothing for a missing table, so it is safe inside a
    transaction that must go on."""
    found = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
    if not found or found[0] is None:
        return 0
    query = sql.SQL("SELECT notification_id FROM {} WHERE application_name = %s")
    row = conn.execute(query.format(sql.Identifier(table)), (APPLICATION_NAME,)).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


class Watermark:
    """How far the projection tracked in `table` has got (eventsourcing's tracking table)."""

    def __init__(self, pool: ConnectionPool[Any], table: str) -> None:
        self._pool = pool
        self._table = table

    def position(self) -> int:
        with one_statement(self._pool) as conn:
            return read_watermark(conn, self._table)

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block (polling) until the position is reached; False on timeout. For tools and
        tests: the API waits without blocking, through infra.postgres.positions."""
        deadline = time.monotonic() + timeout
        pause = 0.005
        while self.position() < position:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, 0.1)
        return True


class TrackedReadModel:
    """Base of the PostgreSQL query classes: rows as dicts, and the position of the
    projection (tracked in `tracking_table`) that keeps the rows."""

    def __init__(self, pool: ConnectionPool[Any], tracking_table: str) -> None:
        self._pool = pool
        self._watermark = Watermark(pool, tracking_table)

    def _rows(self, query: str | sql.Composed, params: dict[str, Any]) -> list[dict[str, Any]]:
        with one_statement(self._pool) as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            rows: list[dict[str, Any]] = cur.fetchall()
            return rows

    def position(self) -> int:
        return self._watermark.position()

    def wait_for(self, position: int, timeout: float) -> bool:
        return self._watermark.wait_for(position, timeout)
