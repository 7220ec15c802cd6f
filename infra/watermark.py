"""A projection's position read from its tracking table, for read-your-writes waits."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from commands.scheduling import Scheduling

# The event store's application name: every tracking row is keyed by it.
APPLICATION_NAME = Scheduling.name


class Watermark:
    """How far the projection tracked in `table` has got (eventsourcing's tracking table)."""

    def __init__(self, pool: ConnectionPool[Any], table: str) -> None:
        self._pool = pool
        self._query = sql.SQL(
            "SELECT max(notification_id) FROM {} WHERE application_name = %s"
        ).format(sql.Identifier(table))

    def position(self) -> int:
        try:
            with self._pool.connection() as conn:
                row = conn.execute(self._query, (APPLICATION_NAME,)).fetchone()
        except psycopg.errors.UndefinedTable:
            return 0  # the projection has not started yet: it creates its tracking table
        return int(row[0]) if row and row[0] is not None else 0

    def wait_for(self, position: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        pause = 0.005
        while self.position() < position:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, 0.1)
        return True
