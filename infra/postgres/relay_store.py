"""The relay's recorded position, and a LISTEN/NOTIFY wake-up on the event store's channel."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool


class PostgresPositions:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool

    def get(self, name: str) -> int:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT position FROM relay_positions WHERE relay = %s", (name,)
            ).fetchone()
        return int(row[0]) if row else 0

    def set(self, name: str, position: int) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO relay_positions (relay, position) VALUES (%s, %s) "
                "ON CONFLICT (relay) DO UPDATE SET position = EXCLUDED.position, "
                "updated_at = now() WHERE relay_positions.position < EXCLUDED.position",
                (name, position),
            )


class LogListener:
    """Blocks until the event store notifies new events, or the timeout passes."""

    def __init__(self, conninfo: str, channel: str) -> None:
        self._conn = psycopg.connect(conninfo, autocommit=True)
        self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))

    def wait(self, timeout: float) -> bool:
        for _ in self._conn.notifies(timeout=timeout, stop_after=1):
            return True
        return False

    def close(self) -> None:
        self._conn.close()
